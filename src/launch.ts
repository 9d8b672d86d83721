/**
 * The CLI as it is run (dist/cli.js): it loads the CLI itself (dist/cli-core.js, src/cli.ts) with
 * the V8 code cache that the build made for it (dist/cli-core.cache), so that Node does not compile
 * again at every run what a `check` runs: a small capture's `check` took 67 ms, 59 with the cache
 * (the compilation of a 230 KB bundle's code, in a run of 40 ms past Node's own start-up).
 *
 * The cache is V8's own (vm.Script's cachedData, bytecode and the functions compiled by a `check`
 * over a sample capture at build time). It is used only when it was made from these very bytes
 * (its first 20 bytes are the SHA-1 of the code it was made from: V8 itself checks only the code's
 * length) and by this Node with the same V8 options (else V8 rejects it); otherwise the CLI is
 * compiled as usual. Nothing here is written at run time.
 */
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import * as path from 'node:path';
import * as vm from 'node:vm';

export const CORE = 'cli-core.js';
export const CACHE = 'cli-core.cache';
const HASH_BYTES = 20;

/** what became of the code cache: used, rejected by V8 (another Node, other V8 options), made from other code, none */
export type CacheUse = 'used' | 'rejected' | 'stale' | 'missing';

export interface LoadedCore {
  /** src/cli.ts's exports */
  exports: { run(): void; main(argv: string[]): Promise<number> };
  cache: CacheUse;
  script: vm.Script;
  hash: Buffer;
}

/** The CLI's code in `dir`, compiled with its code cache where that can be used. */
export function loadCore(dir: string, useCache = true): LoadedCore {
  const file = path.join(dir, CORE);
  // as Node wraps a CommonJS module, so that `require`, `module` and `exports` are its own (and its
  // interpreter line made a comment, as Node does: the same build gives it one)
  const source = fs.readFileSync(file, 'utf8');
  const code = `(function (exports, require, module, __filename, __dirname) { ${source.startsWith('#!') ? `//${source.slice(2)}` : source}\n})`;
  const hash = crypto.createHash('sha1').update(code).digest();
  let cache: CacheUse = 'missing';
  let cachedData: Buffer | undefined;
  if (useCache) {
    try {
      const bytes = fs.readFileSync(path.join(dir, CACHE));
      if (bytes.length > HASH_BYTES && hash.equals(bytes.subarray(0, HASH_BYTES))) cachedData = bytes.subarray(HASH_BYTES);
      else cache = 'stale';
    } catch {
      // no cache (a build that could not make one): compiled as usual
    }
  }
  const script = new vm.Script(code, { filename: file, cachedData });
  if (cachedData !== undefined) cache = script.cachedDataRejected ? 'rejected' : 'used';
  const module = { exports: {} as LoadedCore['exports'] };
  (script.runInThisContext() as (...args: unknown[]) => void)(module.exports, createRequire(file), module, file, dir);
  return { exports: module.exports, cache, script, hash };
}

/**
 * Makes the code cache of the CLI in `dir` (the build does, in a Node of its own, its standard
 * output discarded): the CLI run as a user runs it, with `argv`, then, once it is done, V8's cache of
 * what it compiled, after the code's hash.
 */
export function makeCodeCache(dir: string, argv: string[]): void {
  const core = loadCore(dir, false);
  process.argv = [process.argv[0], path.join(dir, 'cli.js'), ...argv];
  process.once('beforeExit', () => {
    fs.writeFileSync(path.join(dir, CACHE), Buffer.concat([core.hash, core.script.createCachedData()]));
    process.exitCode = 0;
  });
  core.exports.run();
}

if (require.main === module) {
  let core: LoadedCore;
  try {
    core = loadCore(__dirname);
  } catch (err) {
    process.stderr.write(`mptcp-lens: cannot load ${path.join(__dirname, CORE)} (${(err as Error).message.split('\n')[0]})\n`);
    process.exit(2);
  }
  core.exports.run();
}

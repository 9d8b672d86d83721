// One esbuild config, an entry per runtime: the CLI now; the extension host, its worker and the
// webview join it (see the README). `node esbuild.config.mjs --watch` rebuilds on change.
import * as esbuild from 'esbuild';
import { readFileSync, existsSync, chmodSync, rmSync } from 'node:fs';
import { spawnSync } from 'node:child_process';

const pkg = JSON.parse(readFileSync(new URL('./package.json', import.meta.url), 'utf8'));
const watch = process.argv.includes('--watch');
const common = {
  bundle: true,
  sourcemap: true,
  logLevel: 'warning',
  define: { __MPTCP_LENS_VERSION__: JSON.stringify(pkg.version) },
};
// The CLI's interpreter line names `node` alone: `env -S` (to pass Node options, such as
// --v8-pool-size=1, 5 % faster here on two cores) is not in BusyBox's env (Alpine, the node:alpine
// images of many CI systems), OpenBSD's or NetBSD's, nor in coreutils before 8.30: the CLI would not
// start there.
const CLI_SHEBANG = '#!/usr/bin/env node';
// After every build (the watch mode's too): dist/cli.js runnable as it is (`dist/cli.js check …`), as
// npm makes a package's bin when it installs it; and the CLI's V8 code cache made anew, by this Node,
// from a `check` of a sample capture (src/launch.ts). A build that cannot make it still works: the
// CLI is then compiled at every run, as a cache made from other code is not used.
const CACHE_RUN = ['check', '--format', 'json', 'samples/key-mismatch.pcap', 'samples/basic.pcap'];
const cli = {
  name: 'cli',
  setup: (b) => b.onEnd((r) => {
    if (r.errors.length !== 0) return;
    chmodSync('dist/cli.js', 0o755);
    rmSync('dist/cli-core.cache', { force: true });
    const made = spawnSync(process.execPath, ['-e', `require('./dist/cli.js').makeCodeCache(require('path').resolve('dist'), ${JSON.stringify(CACHE_RUN)})`], { stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
    if (made.status !== 0 || !existsSync('dist/cli-core.cache')) console.warn(`no code cache for the CLI: ${(made.stderr || '').split('\n')[0]}`);
  }),
};
const builds = [
  // the CLI (src/cli.ts) and what runs it with its code cache (src/launch.ts: npm's bin)
  { ...common, entryPoints: { cli: 'src/launch.ts', 'cli-core': 'src/cli.ts' }, outdir: 'dist', platform: 'node', format: 'cjs', target: 'node20', banner: { js: CLI_SHEBANG }, plugins: [cli] },
  { ...common, entryPoints: ['scripts/bench-decode.ts'], outfile: 'dist/bench-decode.js', platform: 'node', format: 'cjs', target: 'node20' },
  { ...common, entryPoints: ['scripts/bench-viewer.ts'], outfile: 'dist/bench-viewer.js', platform: 'node', format: 'cjs', target: 'node20' },
];
if (existsSync('extension/extension.ts')) {
  builds.push({ ...common, entryPoints: ['extension/extension.ts'], outfile: 'dist/extension.js', platform: 'node', format: 'cjs', target: 'node20', external: ['vscode'] });
  builds.push({ ...common, entryPoints: ['extension/worker.ts'], outfile: 'dist/worker.js', platform: 'node', format: 'cjs', target: 'node20' });
}
if (existsSync('webview/main.ts')) {
  builds.push({ ...common, entryPoints: ['webview/main.ts'], outfile: 'dist/webview.js', platform: 'browser', format: 'iife', target: 'chrome120', minify: true });
  builds.push({ ...common, entryPoints: ['webview/style.css'], outfile: 'dist/webview.css', sourcemap: false });
}
if (watch) {
  for (const b of builds) (await esbuild.context(b)).watch();
} else {
  await Promise.all(builds.map((b) => esbuild.build(b)));
}

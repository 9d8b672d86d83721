// npm run fuzz [-- --seconds 600] [-- --seed N]: mutates the capture fixtures and runs everything over
// each mutant (src/fuzz.ts). Crashes and hangs are written to .fuzz/ with their seed; copy them into
// test/fixtures/fuzz/ so that test/fuzz.test.ts keeps them as regressions.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { MUTATIONS, mutate, Rng, runOne } from '../src/fuzz.ts';
import { captureFixtures } from '../test/fixtures.ts';

const args = process.argv.slice(2);
const opt = (n: string, d: string) => { const i = args.indexOf(`--${n}`); return i >= 0 ? args[i + 1] : d; };
const seconds = Number(opt('seconds', '60'));
const seed = Number(opt('seed', String(Date.now() & 0x7fffffff)));
const HANG_MS = 10_000;
const out = path.join(__dirname, '..', '.fuzz');

(async () => {
  const inputs = captureFixtures().filter((f) => fs.statSync(f).size < 600_000).map((f) => ({ name: path.basename(f), bytes: fs.readFileSync(f) }));
  const rng = new Rng(seed);
  const end = Date.now() + seconds * 1000;
  let n = 0, refused = 0, crashes = 0, slowest = 0;
  while (Date.now() < end) {
    const src = inputs[rng.int(inputs.length)];
    const kind = MUTATIONS[rng.int(MUTATIONS.length)];
    const mutant = mutate(src.bytes, rng, kind);
    const r = await runOne(`${src.name}~${kind}`, mutant);
    n++;
    if (r.userError) refused++;
    slowest = Math.max(slowest, r.ms);
    if (!r.ok || r.ms > HANG_MS) {
      crashes++;
      fs.mkdirSync(out, { recursive: true });
      const file = path.join(out, `crash-${seed}-${n}-${src.name}-${kind}.pcap`);
      fs.writeFileSync(file, mutant);
      console.log(`CRASH ${file}: ${(r.crash ?? `took ${r.ms} ms`).split('\n').slice(0, 4).join(' | ')}`);
    }
  }
  console.log(`fuzz: seed ${seed}, ${n} inputs in ${seconds} s, ${refused} refused with a one-line error, ${crashes} crashes or hangs, slowest ${slowest} ms`);
  process.exitCode = crashes ? 1 : 0;
})();

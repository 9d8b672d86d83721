// npm run bench:instructions: the instructions `mptcp-lens check --format json` executes (valgrind's
// callgrind) on the first 100 k and the first 1 M packets of the large capture, and on a capture of a
// few packets (start-up), with V8 on one thread (`node --single-threaded`: no compiling or collecting
// beside the main thread). The counts repeat within a few tenths of a per cent from run to run, where
// wall time on this shared machine swings by 15-30 % within minutes: a change of a few per cent can
// be told from noise. The difference between the two prefixes, per packet, is the steady state (the
// first 100 k carry the JIT's warm-up). With `--against DIR` (a copy of another build's dist/), both
// builds are counted, taking turns, and the difference is printed. Instructions are not time (cache
// misses, page faults and the collector's helper threads are not in them): confirm a gain in time with
// `npm run bench`.
//   npm run bench:instructions [-- --capture FILE] [-- --against DIR]
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { BENCH_DIR, ensureCapture, packetsFile } from './benchFiles.ts';

const ROOT = path.join(__dirname, '..');
const args = process.argv.slice(2);
const opt = (name: string) => { const i = args.indexOf(`--${name}`); return i >= 0 ? args[i + 1] : undefined; };
const CAPTURE = path.resolve(opt('capture') ?? path.join(BENCH_DIR, 'multi-large.pcap'));
const AGAINST = opt('against');

if (spawnSync('valgrind', ['--version']).status !== 0) {
  console.error('bench:instructions needs valgrind (as root: apt-get install -y valgrind)');
  process.exit(2);
}
ensureCapture(CAPTURE, 400_000_000, true);

/** Instructions executed by `node --single-threaded DIST/cli.js check --format json FILE`. */
function instructions(dist: string, file: string): number {
  const r = spawnSync('valgrind', ['--tool=callgrind', '--callgrind-out-file=/dev/null', '--smc-check=all-non-file',
    process.execPath, '--single-threaded', path.join(dist, 'cli.js'), 'check', '--format', 'json', file], { encoding: 'utf8', stdio: ['ignore', 'ignore', 'pipe'], maxBuffer: 1 << 26 });
  const m = /Collected : (\d+)/.exec(r.stderr);
  // `check` exits 1 when it finds errors: only a missing count is a failure here
  if (!m) throw new Error(`callgrind gave no count for ${file}: ${r.stderr.split('\n').slice(-5).join(' ')}`);
  return Number(m[1]);
}

const files = [
  { what: 'start-up (samples/basic.pcap, 26 packets)', file: path.join(ROOT, 'samples', 'basic.pcap'), packets: 26 },
  { what: 'first 100,000 packets', file: packetsFile(CAPTURE, 100_000), packets: 100_000 },
  { what: 'first 1,000,000 packets', file: packetsFile(CAPTURE, 1_000_000), packets: 1_000_000 },
];
const builds = [{ name: 'this build', dist: path.join(ROOT, 'dist') }, ...(AGAINST ? [{ name: AGAINST, dist: path.resolve(AGAINST) }] : [])];
console.log(`capture: ${path.relative(ROOT, CAPTURE) || CAPTURE}; valgrind --tool=callgrind, node ${process.version} --single-threaded`);
const counts = new Map<string, number[]>();
for (const f of files) {
  const row: number[] = [];
  for (const b of builds) {
    const n = instructions(b.dist, f.file);
    row.push(n);
    console.log(`  ${b.name}, ${f.what}: ${(n / 1e9).toFixed(3)} G instructions`);
  }
  counts.set(f.what, row);
}
const [start, small, large] = files.map((f) => counts.get(f.what)!);
console.log('');
console.log('| build | start-up | first 100 k packets | first 1 M packets | per packet, 100 k to 1 M |');
console.log('|---|---:|---:|---:|---:|');
builds.forEach((b, i) => {
  const perPacket = (large[i] - small[i]) / (files[2].packets - files[1].packets);
  console.log(`| ${b.name} | ${(start[i] / 1e9).toFixed(3)} G | ${(small[i] / 1e9).toFixed(3)} G | ${(large[i] / 1e9).toFixed(3)} G | ${Math.round(perPacket).toLocaleString('en-US')} |`);
});
if (AGAINST) {
  const pct = (a: number, b: number) => `${a >= b ? '+' : ''}${((a / b - 1) * 100).toFixed(2)} %`;
  const steady = (i: number) => large[i] - small[i];
  console.log(`\nthis build against ${AGAINST}: 1 M packets ${pct(large[0], large[1])}, the steady state (100 k to 1 M) ${pct(steady(0), steady(1))}`);
}

// npm run bench: times `mptcp-lens check --format json` against tshark's expert analysis on the
// same large real capture, in one run, and measures decoding alone (reader, dissector, tracker) at
// 100 k, 1 M and 5 M packets and the standard-input path. Prints medians of time and peak memory.
// Then the extension host's pipeline (dist/bench-viewer.js): first rows, done, host memory, scrolling;
// a capture of 30,000 short connections against tshark, and the largest capture opened within a
// memory limit smaller than it (a cgroup, as root).
//   npm run bench [-- --runs 3] [-- --capture FILE] [-- --memory-limit MIB]
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { BYTES_PER_PACKET } from '../src/viewer/index.ts';
import { BENCH_DIR, copiesFile, ensureCapture, packetsFile } from './benchFiles.ts';

const ROOT = path.join(__dirname, '..');
const args = process.argv.slice(2);
const opt = (name: string, dflt: string) => { const i = args.indexOf(`--${name}`); return i >= 0 ? args[i + 1] : dflt; };
const RUNS = Number(opt('runs', '3'));
const CAPTURE = path.resolve(opt('capture', path.join(BENCH_DIR, 'multi-large.pcap')));
const CLI = path.join(ROOT, 'dist', 'cli.js');

/** `dist/bench-decode.js` over a file: decoding alone, several times. */
const decodeOnly = (what: string, file: string) => runMany(what, [process.execPath, path.join(ROOT, 'dist', 'bench-decode.js'), file]);

interface Sample { seconds: number; peakMiB: number; inProcessMs?: number }

/**
 * Runs a command under GNU time: wall seconds (timed here, to the millisecond: GNU time gives
 * hundredths, a tenth of the `check` row's whole range from run to run; the shells it starts cost
 * ours and tshark's runs the same 2 ms) and peak resident memory (GNU time's).
 */
function timed(cmd: string[], stdinFile?: string, env?: NodeJS.ProcessEnv): Sample {
  const shell = `${cmd.map((c) => `'${c}'`).join(' ')}${stdinFile ? ` < '${stdinFile}'` : ''} > /dev/null`;
  const t0 = performance.now();
  const r = spawnSync('/usr/bin/time', ['-f', '%e %M', 'sh', '-c', shell], { encoding: 'utf8', env });
  const seconds = (performance.now() - t0) / 1000;
  const lines = r.stderr.trim().split('\n');
  const last = lines.pop()!.split(' ');
  const inProcess = /(\d+) ms in process/.exec(lines.join('\n'));
  return { seconds, peakMiB: Number(last[1]) / 1024, inProcessMs: inProcess ? Number(inProcess[1]) : undefined };
}

/** Seconds as the bench prints them: milliseconds below 10 s. */
const secs = (x: number) => x.toFixed(x < 10 ? 3 : 2);

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** The medians of some runs, printed with each run's time. */
function summarize(label: string, samples: Sample[]): Sample {
  const inProcess = samples.every((x) => x.inProcessMs !== undefined) ? median(samples.map((x) => x.inProcessMs!)) : undefined;
  const s = { seconds: median(samples.map((x) => x.seconds)), peakMiB: median(samples.map((x) => x.peakMiB)), inProcessMs: inProcess };
  console.log(`  ${label}: ${secs(s.seconds)} s, ${s.peakMiB.toFixed(0)} MiB${inProcess !== undefined ? `, ${inProcess} ms in process` : ''} (median of ${samples.length}; runs ${samples.map((x) => secs(x.seconds)).join(', ')})`);
  return s;
}

function runMany(label: string, cmd: string[], stdinFile?: string): Sample {
  const samples: Sample[] = [];
  for (let i = 0; i < RUNS; i++) samples.push(timed(cmd, stdinFile));
  return summarize(label, samples);
}

/**
 * Runs `cmd` with it and its children in a memory cgroup of `limitMiB` (v1 or v2, as root): its exit
 * status, standard output and the cgroup's peak use; undefined where no memory cgroup can be made.
 */
function underMemoryLimit(limitMiB: number, cmd: string[]): { status: number | null; stdout: string; peakMiB: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const v1 = '/sys/fs/cgroup/memory';
  const v2 = fs.existsSync('/sys/fs/cgroup/cgroup.controllers') && fs.readFileSync('/sys/fs/cgroup/cgroup.controllers', 'utf8').includes('memory') ? '/sys/fs/cgroup' : undefined;
  const root = fs.existsSync(path.join(v1, 'memory.limit_in_bytes')) ? v1 : v2;
  if (!root) return undefined;
  const dir = path.join(root, `mptcp-lens-bench-${process.pid}`);
  const bytes = String(limitMiB * 2 ** 20);
  try {
    fs.mkdirSync(dir);
    if (root === v1) {
      fs.writeFileSync(path.join(dir, 'memory.limit_in_bytes'), bytes);
      try { fs.writeFileSync(path.join(dir, 'memory.memsw.limit_in_bytes'), bytes); } catch { /* no swap accounting */ }
    } else fs.writeFileSync(path.join(dir, 'memory.max'), bytes);
  } catch {
    try { fs.rmdirSync(dir); } catch { /* never made */ }
    return undefined;
  }
  try {
    const shell = `echo $$ > '${path.join(dir, 'cgroup.procs')}' && exec ${cmd.map((c) => `'${c}'`).join(' ')}`;
    const r = spawnSync('sh', ['-c', shell], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
    const peakFile = path.join(dir, root === v1 ? 'memory.max_usage_in_bytes' : 'memory.peak');
    const peak = fs.existsSync(peakFile) ? Number(fs.readFileSync(peakFile, 'utf8')) / 2 ** 20 : NaN;
    return { status: r.status ?? (r.signal === 'SIGKILL' ? 137 : null), stdout: r.stdout, peakMiB: peak };
  } finally {
    try { fs.rmdirSync(dir); } catch { /* a process still in it */ }
  }
}

function packetCount(file: string): number {
  const out = execFileSync(process.execPath, [CLI, 'summary', file, '--json'], { encoding: 'utf8', maxBuffer: 1 << 28 });
  return JSON.parse(out).packets;
}

ensureCapture(CAPTURE, 400_000_000, true);
// a real capture of 5 M packets or more for the largest decoding row (else the large one, repeated)
const BIG = path.join(BENCH_DIR, 'multi-5m.pcap');
const haveBig = opt('capture', '') === '' && ensureCapture(BIG, 2_000_000_000, false);
const size = fs.statSync(CAPTURE).size;
const packets = packetCount(CAPTURE);
console.log(`capture: ${path.relative(ROOT, CAPTURE) || CAPTURE}, ${(size / 1e6).toFixed(0)} MB, ${packets.toLocaleString()} packets`);
console.log(`machine: ${os.cpus().length} × ${os.cpus()[0]?.model.trim()}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}`);

const rows: string[] = ['| what | packets | time (median) | peak memory | packets/s | in the process, without start-up |', '|---|---:|---:|---:|---:|---:|'];
const row = (what: string, n: number, s: Sample) => rows.push(`| ${what} | ${n.toLocaleString()} | ${secs(s.seconds)} s | ${s.peakMiB.toFixed(0)} MiB | ${Math.round(n / s.seconds).toLocaleString()} | ${s.inProcessMs !== undefined ? `${(s.inProcessMs / 1000).toFixed(2)} s, ${Math.round(n / (s.inProcessMs / 1000)).toLocaleString()} packets/s` : ''} |`);

// ours and tshark take turns, run by run, so that both meet the same machine (a shared virtual
// machine's speed drifts by tens of percent within minutes); the ratio is that of the medians
const oursCmd = [process.execPath, CLI, 'check', '--format', 'json', CAPTURE];
const tsharkCmd = ['tshark', '-r', CAPTURE, '-q', '-z', 'expert,warn'];
const haveTshark = spawnSync('tshark', ['--version']).status === 0;
// NODE_EXTRA_CA_CERTS (set on this kind of machine for its package registry) makes Node 20 load those
// certificates as it starts, before our code runs: reported, and ours also timed without it
const certs = process.env.NODE_EXTRA_CA_CERTS !== undefined;
const noCerts = { ...process.env };
delete noCerts.NODE_EXTRA_CA_CERTS;
const oursSamples: Sample[] = [];
const tsharkSamples: Sample[] = [];
const noCertsSamples: Sample[] = [];
for (let i = 0; i < RUNS; i++) {
  oursSamples.push(timed(oursCmd));
  if (haveTshark) tsharkSamples.push(timed(tsharkCmd));
  if (certs) noCertsSamples.push(timed(oursCmd, undefined, noCerts));
}
const ours = summarize('mptcp-lens check --format json', oursSamples);
row('`mptcp-lens check --format json`', packets, ours);
const oursNoCerts = certs ? summarize('mptcp-lens check --format json, without NODE_EXTRA_CA_CERTS', noCertsSamples) : undefined;
if (oursNoCerts) row('`mptcp-lens check --format json`, NODE_EXTRA_CA_CERTS unset', packets, oursNoCerts);
const startup = (env?: NodeJS.ProcessEnv) => median(Array.from({ length: 9 }, () => timed([process.execPath, '-e', '0'], undefined, env).seconds));
const nodeStart = `Node's start-up (\`node -e 0\`, median of 9): ${(startup() * 1000).toFixed(0)} ms${certs ? `; ${(startup(noCerts) * 1000).toFixed(0)} ms without NODE_EXTRA_CA_CERTS, which is set here` : ''}.`;
console.log(`  ${nodeStart}`);
let ratio = '';
if (haveTshark) {
  const ts = summarize('tshark -q -z expert,warn', tsharkSamples);
  row('`tshark -r FILE -q -z expert,warn`', packets, ts);
  ratio = `mptcp-lens is ${(ts.seconds / ours.seconds).toFixed(1)}× faster than tshark's expert analysis and uses ${(ts.peakMiB / ours.peakMiB).toFixed(1)}× less memory${oursNoCerts ? ` (${(ts.seconds / oursNoCerts.seconds).toFixed(1)}× with NODE_EXTRA_CA_CERTS unset)` : ''}. ${nodeStart}`;
} else console.log('  tshark is not installed: no comparison (apt-get install tshark)');
const stdin = runMany('mptcp-lens check - (stdin, pcap-parser)', [process.execPath, CLI, 'check', '--format', 'json', '-'], CAPTURE);
row('`mptcp-lens check -` (standard input, pcap-parser)', packets, stdin);
// the same capture gzip-compressed (as captures are often shared): read while a worker thread inflates it
const GZ = path.join(BENCH_DIR, `${path.basename(CAPTURE)}.gz`);
if (!fs.existsSync(GZ)) fs.writeFileSync(GZ, zlib.gzipSync(fs.readFileSync(CAPTURE)));
const gz = runMany('mptcp-lens check --format json, gzip-compressed', oursCmd.map((a) => (a === CAPTURE ? GZ : a)));
row(`\`mptcp-lens check --format json\`, the capture gzip-compressed (${(fs.statSync(GZ).size / 1e6).toFixed(0)} MB)`, packets, gz);
for (const n of [100_000, 1_000_000, 5_000_000]) {
  // beyond the capture: a real capture that long, else the capture's copies as new connections
  const f = n <= packets ? packetsFile(CAPTURE, n) : haveBig ? packetsFile(BIG, n) : copiesFile(CAPTURE, n);
  const s = decodeOnly(`decode only, ${n.toLocaleString()} packets`, f);
  row(`decoding only (reader, dissector, tracker)${n > packets && !haveBig ? `, the capture's ${Math.ceil(n / packets)} copies one after another (new ports, keys and tokens)` : ''}`, n, s);
}
// the same 1 M packets as pcapng, the format dumpcap and Wireshark write (editcap comes with tshark)
const oneM = packetsFile(CAPTURE, 1_000_000);
const ng = oneM.replace(/\.pcap$/, '.pcapng');
if (!fs.existsSync(ng) && spawnSync('editcap', ['-F', 'pcapng', oneM, ng]).status !== 0) fs.rmSync(ng, { force: true });
if (fs.existsSync(ng)) {
  const s = decodeOnly('decode only, 1,000,000 packets, pcapng', ng);
  row('decoding only, the same as pcapng (editcap -F pcapng)', 1_000_000, s);
  // pcapng on standard input: our reader over the descriptor, forward only (pcap-parser reads no pcapng)
  const ngStdin = runMany('mptcp-lens check - (stdin, pcapng)', [process.execPath, CLI, 'check', '--format', 'json', '-'], ng);
  row('`mptcp-lens check -` (standard input, the 1 M packets as pcapng)', 1_000_000, ngStdin);
} else console.log('  editcap is not installed: no pcapng row (apt-get install tshark)');
// an IPv6 capture of about a million packets (the kernel's ipv6 scenario: both paths over IPv6)
const V6 = path.join(BENCH_DIR, 'ipv6-1m.pcap');
if (opt('capture', '') === '' && ensureCapture(V6, 1_200_000_000, false, 'ipv6')) {
  row('decoding only, an IPv6 capture', packetCount(V6), decodeOnly('decode only, IPv6', V6));
}
// DSS checksums negotiated and whole packets captured: every mapping's checksum is verified
const CK = path.join(BENCH_DIR, 'checksum-full.pcap');
if (opt('capture', '') === '' && ensureCapture(CK, 400_000_000, false, 'checksum', null)) {
  row(`decoding only, DSS checksums verified over whole payloads (${(fs.statSync(CK).size / 1e6).toFixed(0)} MB)`, packetCount(CK), decodeOnly('decode only, checksums verified', CK));
}
// the extension host's side of opening the capture (no VS Code): the analysis child process hands
// the index over through a file; first rows, analysis done, host peak memory
const viewer: Array<{ firstRowsMs: number; doneMs: number; hostPeakMiB: number; indexMiB: number; pageMedianMs: number; pageP99Ms: number; filterMs: number; plotMs: number }> = [];
for (let i = 0; i < RUNS; i++) viewer.push(JSON.parse(execFileSync(process.execPath, [path.join(ROOT, 'dist', 'bench-viewer.js'), CAPTURE], { encoding: 'utf8' })));
const vm = (k: keyof (typeof viewer)[number]) => median(viewer.map((x) => x[k]));
const viewerLine = `Extension host pipeline (bench-viewer, median of ${RUNS}): first rows after ${vm('firstRowsMs')} ms, analysis done after ${(vm('doneMs') / 1000).toFixed(2)} s, host peak memory ${vm('hostPeakMiB')} MiB (index pages held: ${vm('indexMiB')} MiB; the index file holds ${BYTES_PER_PACKET} bytes a packet).`;
console.log(`  ${viewerLine}`);
// the same, gzip-compressed: rows come as the capture is inflated, not after
const gzViewer: Array<{ firstRowsMs: number; doneMs: number; hostPeakMiB: number }> = [];
for (let i = 0; i < RUNS; i++) gzViewer.push(JSON.parse(execFileSync(process.execPath, [path.join(ROOT, 'dist', 'bench-viewer.js'), GZ], { encoding: 'utf8' })));
const gm = (k: keyof (typeof gzViewer)[number]) => median(gzViewer.map((x) => x[k]));
const gzViewerLine = `The same capture gzip-compressed (median of ${RUNS}): first rows after ${gm('firstRowsMs')} ms, analysis done after ${(gm('doneMs') / 1000).toFixed(2)} s, host peak memory ${gm('hostPeakMiB')} MiB.`;
console.log(`  ${gzViewerLine}`);
const scrollLine = `After the analysis (host, median of ${RUNS}): a page of 50 rows at a random place ${vm('pageMedianMs')} ms (99th percentile ${vm('pageP99Ms')} ms), a subflow filter over all rows ${vm('filterMs')} ms, the first connection's data-sequence plot ${vm('plotMs')} ms.`;
console.log(`  ${scrollLine}`);

// a busy server's capture: tens of thousands of short connections (per-connection state, not per
// packet), made with scripts/capture-many.py as root; ours and tshark taking turns again
const MANY = path.join(BENCH_DIR, 'many-30000.pcap');
let manyLine = '';
if (!fs.existsSync(MANY) && process.getuid?.() === 0 && opt('capture', '') === '') {
  console.log(`making the capture: scripts/capture-many.py ${MANY} --conns 30000`);
  spawnSync('python3', [path.join(ROOT, 'scripts', 'capture-many.py'), MANY, '--conns', '30000'], { stdio: 'inherit' });
}
if (fs.existsSync(MANY)) {
  const summary = JSON.parse(execFileSync(process.execPath, [CLI, 'summary', MANY, '--json'], { encoding: 'utf8', maxBuffer: 1 << 30 }));
  const ourMany: Sample[] = [];
  const theirMany: Sample[] = [];
  for (let i = 0; i < RUNS; i++) {
    ourMany.push(timed([process.execPath, CLI, 'check', '--format', 'json', MANY]));
    if (haveTshark) theirMany.push(timed(['tshark', '-r', MANY, '-q', '-z', 'expert,warn']));
  }
  const o = summarize('many connections: mptcp-lens check --format json', ourMany);
  const t = haveTshark ? summarize('many connections: tshark -q -z expert,warn', theirMany) : undefined;
  const v = JSON.parse(execFileSync(process.execPath, [path.join(ROOT, 'dist', 'bench-viewer.js'), MANY], { encoding: 'utf8' })) as (typeof viewer)[number];
  manyLine = `Many connections: ${path.basename(MANY)} (${summary.packets.toLocaleString()} packets, ${summary.connections.length.toLocaleString()} MPTCP connections, ${summary.tcpStreams.toLocaleString()} TCP streams): check --format json ${secs(o.seconds)} s and ${o.peakMiB.toFixed(0)} MiB${t ? `, tshark ${secs(t.seconds)} s and ${t.peakMiB.toFixed(0)} MiB (${(t.seconds / o.seconds).toFixed(1)}× faster)` : ''}; extension host pipeline: analysis done after ${(v.doneMs / 1000).toFixed(2)} s, host peak ${v.hostPeakMiB} MiB.`;
  console.log(`  ${manyLine}`);
} else console.log(`  no many-connection capture (${MANY}; as root: python3 scripts/capture-many.py ${MANY} --conns 30000): skipped`);

// a capture larger than the memory the extension gets: host and analysis process together in a
// memory cgroup smaller than the capture and than its index
const LIMIT_MIB = Number(opt('memory-limit', '160'));
const largest = haveBig ? BIG : CAPTURE;
const limited = underMemoryLimit(LIMIT_MIB, [process.execPath, path.join(ROOT, 'dist', 'bench-viewer.js'), largest]);
let limitLine = '';
if (limited) {
  const big = fs.statSync(largest).size;
  if (limited.status === 0) {
    const r = JSON.parse(limited.stdout) as (typeof viewer)[number] & { packets: number };
    limitLine = `Larger than memory: ${path.basename(largest)} (${(big / 1e6).toFixed(0)} MB, ${r.packets.toLocaleString()} packets, an index file of ${((r.packets * BYTES_PER_PACKET) / 1e6).toFixed(0)} MB) opened with the extension host pipeline and its analysis process limited to ${LIMIT_MIB} MiB together (memory cgroup; peak use ${limited.peakMiB.toFixed(0)} MiB, the page cache included): analysis done after ${(r.doneMs / 1000).toFixed(2)} s, a page of 50 rows ${r.pageMedianMs} ms.`;
  } else limitLine = `Larger than memory: ${path.basename(largest)} (${(big / 1e6).toFixed(0)} MB) did NOT open within ${LIMIT_MIB} MiB (exit ${limited.status}${limited.status === 137 ? ', killed at the limit' : ''}).`;
  console.log(`  ${limitLine}`);
} else console.log(`  no memory cgroup to limit a run here (needs root and the cgroup memory controller): the larger-than-memory run is skipped`);
console.log('\n' + rows.join('\n'));
if (ratio) console.log(`\n${ratio}`);
console.log(`\n${viewerLine}\n\n${gzViewerLine}\n\n${scrollLine}`);
if (manyLine) console.log(`\n${manyLine}`);
if (limitLine) console.log(`\n${limitLine}`);

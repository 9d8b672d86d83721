// The benchmarks' captures, in .bench/ (not committed): real ones made with shared/tools/mptcp-capture
// when root and the kernel allow, and the first N packets of one.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { copiesOf, repeatedRecords } from '../test/helpers.ts';

const ROOT = path.join(__dirname, '..');
export const BENCH_DIR = path.join(ROOT, '.bench');
const MPTCP_CAPTURE = path.join(ROOT, '..', 'shared', 'tools', 'mptcp-capture');

/**
 * Makes a real capture of `scenario` with `bytes` per client, unless it exists: one TCP segment a
 * packet, cut at `snaplen` bytes (null: whole packets). Returns whether the capture is there.
 */
export function ensureCapture(file: string, bytes: number, required: boolean, scenario = 'multi', snaplen: number | null = 128): boolean {
  if (fs.existsSync(file)) return true;
  const args = [scenario, file, '--bytes', String(bytes), '--pace', '0', ...(snaplen === null ? [] : ['--snaplen', String(snaplen)]), '--no-offload'];
  const cmd = `${MPTCP_CAPTURE} ${args.join(' ')}`;
  if (process.getuid?.() !== 0 || !fs.existsSync(MPTCP_CAPTURE)) {
    if (!required) {
      console.log(`  no capture at ${file} (as root: ${cmd}): skipped`);
      return false;
    }
    console.error(`bench: no capture at ${file}. Make one (as root, with the kernel's MPTCP):\n  ${cmd}\nor pass --capture FILE.`);
    process.exit(2);
  }
  fs.mkdirSync(path.dirname(file), { recursive: true });
  console.log(`making the capture: ${cmd}`);
  execFileSync(MPTCP_CAPTURE, args, { stdio: 'inherit' });
  return true;
}

/** A classic pcap holding the first n packets of `src`, repeated as needed. */
export function packetsFile(src: string, n: number): string {
  const out = path.join(BENCH_DIR, `first-${n}-of-${path.basename(src)}`);
  if (fs.existsSync(out)) return out;
  const fd = fs.openSync(out, 'w');
  for (const piece of repeatedRecords(src, n)) fs.writeSync(fd, piece);
  fs.closeSync(fd);
  return out;
}

/**
 * A classic pcap of n packets made of copies of `src` one after another, each copy's connections
 * new ones (test/helpers.ts copiesOf: their own ports, keys and tokens, `gap` seconds apart): the
 * largest decoding row's input when no real capture is that long. The same records again, as
 * packetsFile repeats them, would be the same connections' segments sent again (another workload).
 */
export function copiesFile(src: string, n: number, gap = 10): string {
  const out = path.join(BENCH_DIR, `first-${n}-copies-of-${path.basename(src)}`);
  if (fs.existsSync(out)) return out;
  const fd = fs.openSync(`${out}.part`, 'w');
  for (const piece of copiesOf(src, n, gap)) fs.writeSync(fd, piece);
  fs.closeSync(fd);
  fs.renameSync(`${out}.part`, out);
  return out;
}

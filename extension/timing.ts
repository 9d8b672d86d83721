/**
 * Timing marks for `npm run bench:vscode`: with MPTCP_LENS_TIMING set to a file name, the extension
 * host appends `<epoch ms> <mark> <capture>` lines to it (the benchmark, on the same machine, lines
 * them up with its double-click). Without it, nothing is done.
 */
import * as fs from 'node:fs';

const file = process.env.MPTCP_LENS_TIMING;

export function timingMark(mark: string, capture: string): void {
  if (!file) return;
  try { fs.appendFileSync(file, `${Date.now()} ${mark} ${capture}\n`); } catch { /* a benchmark aid only */ }
}

/**
 * The analysis worker: decodes and checks one capture off the extension host's thread, and streams
 * the packet index to it in chunks. Messages: WorkerRequest in, WorkerMessage out.
 */
import { parentPort } from 'node:worker_threads';
import { CaptureError } from '../src/errors.ts';
import { transferList, type Columns } from '../src/viewer/index.ts';
import { analyzeForViewer, type ViewerAnalysis } from '../src/viewer/analyze.ts';
import { decodedTrace } from '../src/viewer/trace.ts';
import type { CheckerConfig } from '../src/check/checker.ts';

export type WorkerRequest =
  | { type: 'analyze'; file: string; config: CheckerConfig }
  | { type: 'analyzeBytes'; name: string; bytes: Uint8Array; config: CheckerConfig }
  | { type: 'trace'; file?: string; bytes?: Uint8Array; name: string; limit: number }
  | { type: 'cancel' };

export type WorkerMessage =
  | { type: 'chunk'; cols: Columns; n: number }
  | { type: 'progress'; packets: number; bytesRead: number; totalBytes: number }
  | { type: 'done'; result: ViewerAnalysis }
  | { type: 'trace'; text: string; lines: number; truncated: boolean }
  | { type: 'failed'; message: string; userError: boolean };

let cancelled = false;

function post(m: WorkerMessage, transfer: ArrayBuffer[] = []): void {
  parentPort!.postMessage(m, transfer);
}

const fail = (err: unknown) => post({ type: 'failed', message: err instanceof Error ? err.message.split('\n')[0] : String(err), userError: err instanceof CaptureError });

parentPort?.on('message', (req: WorkerRequest) => {
  if (req.type === 'cancel') { cancelled = true; return; }
  // fault injection for the end-to-end test of a dying worker (never set in normal use)
  if (process.env.MPTCP_LENS_WORKER_FAULT === 'exit' && req.type !== 'trace') process.exit(3);
  if (req.type === 'trace') {
    const input = req.file ? { file: req.file } : { bytes: req.bytes!, name: req.name };
    decodedTrace(input, req.limit).then((t) => post({ type: 'trace', ...t }), fail);
    return;
  }
  const input = req.type === 'analyze' ? { file: req.file } : { bytes: req.bytes, name: req.name };
  analyzeForViewer(input, {
    config: req.config,
    isCancelled: () => cancelled,
    onChunk: (cols, n) => post({ type: 'chunk', cols, n }, transferList(cols)),
    onProgress: (packets, bytesRead, totalBytes) => post({ type: 'progress', packets, bytesRead, totalBytes }),
  }).then((result) => post({ type: 'done', result }), fail);
});

/**
 * The analysis worker: decodes and checks one capture outside the extension host, and streams the
 * packet index to it in chunks. Messages (src/viewer/analysisProcess.ts): WorkerRequest in,
 * WorkerMessage out. It runs as a child process for the capture viewer (so that its memory is not
 * the extension host's) and as a worker thread for the decoded trace; both speak the same messages.
 */
import { parentPort } from 'node:worker_threads';
import { CaptureError } from '../src/errors.ts';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { PacketIndex, transferList } from '../src/viewer/index.ts';
import { analyzeForViewer } from '../src/viewer/analyze.ts';
import { MEMORY_HINT, postResult, type WorkerMessage, type WorkerRequest } from '../src/viewer/analysisProcess.ts';
import { decodedTrace } from '../src/viewer/trace.ts';
import { timingMark } from './timing.ts';
import { openScratchFile } from '../src/capture/source.ts';

function post(m: WorkerMessage, transfer: ArrayBuffer[] = []): void {
  if (parentPort) parentPort.postMessage(m, transfer);
  else process.send?.(m);
}

const fail = (err: unknown) => post({ type: 'failed', message: err instanceof Error ? err.message.split('\n')[0] : String(err), userError: err instanceof CaptureError });

const port = parentPort ?? (process.send ? process : undefined);
port?.on('message', (req: WorkerRequest) => {
  // fault injection for the end-to-end test of a dying worker (never set in normal use)
  if (process.env.MPTCP_LENS_WORKER_FAULT === 'exit' && req.type !== 'trace') process.exit(3);
  if (req.type === 'trace') {
    const input = req.file ? { file: req.file } : { bytes: req.bytes!, name: req.name };
    decodedTrace(input, req.limit, MEMORY_HINT).then((t) => post({ type: 'trace', ...t }), fail);
    return;
  }
  const input = req.type === 'analyze' ? { file: req.file, decompressInto: req.decompressInto } : { bytes: req.bytes, name: req.name };
  const name = req.type === 'analyze' ? path.basename(req.file) : req.name; // as CaptureDocument.displayName
  timingMark('analysis-started', name);
  let indexFd: number | undefined;
  let position = 0;
  try {
    if (req.indexFile) indexFd = openScratchFile(req.indexFile);
  } catch (err) { fail(err); return; }
  analyzeForViewer(input, {
    config: req.config,
    memoryHint: MEMORY_HINT,
    onChunk: (cols, n) => {
      if (indexFd === undefined) { post({ type: 'chunk', cols, n }, transferList(cols)); return; }
      const at = position;
      position += PacketIndex.writeChunk(indexFd, at, cols, n);
      post({ type: 'chunkFile', position: at, n });
    },
    onProgress: (packets, bytesRead, totalBytes) => post({ type: 'progress', packets, bytesRead, totalBytes }),
  }).then((result) => { timingMark('analysis-finished', name); postResult(result, (m) => post(m)); }, fail).finally(() => { if (indexFd !== undefined) fs.closeSync(indexFd); });
});
// a child process leaves when its parent does
if (!parentPort && process.send) process.on('disconnect', () => process.exit(0));

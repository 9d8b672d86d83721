/**
 * The analysis process, from the side that starts it (the extension host, the benchmark, the
 * tests): the messages it speaks (extension/worker.ts is the other side), how it is started, the
 * temporary file through which it hands the packet index over, and taking rows from its messages.
 */
import { fork, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { CheckerConfig } from '../check/checker.ts';
import type { ViewerAnalysis, ViewerPass } from './analyze.ts';
import type { Columns } from './index.ts';
import type { ConnectionInfo } from './protocol.ts';
import type { CaptureSession } from './session.ts';

export type WorkerRequest =
  /** decompressInto: for a gzip-compressed capture, the file to write it to inflated (the host reads rows from it) */
  | { type: 'analyze'; file: string; config: CheckerConfig; indexFile?: string; decompressInto?: string }
  | { type: 'analyzeBytes'; name: string; bytes: Uint8Array; config: CheckerConfig; indexFile?: string }
  | { type: 'trace'; file?: string; bytes?: Uint8Array; name: string; limit: number };

export type WorkerMessage =
  | { type: 'chunk'; cols: Columns; n: number }
  /** rows written to the request's indexFile at `position` (PacketIndex.writeChunk) */
  | { type: 'chunkFile'; position: number; n: number }
  | { type: 'progress'; packets: number; bytesRead: number; totalBytes: number }
  /** connections ahead of 'done', CONNECTIONS_PER_MESSAGE at a time (the last of them in 'done') */
  | { type: 'connections'; connections: ConnectionInfo[] }
  | { type: 'done'; result: ViewerAnalysis }
  | { type: 'trace'; text: string; lines: number; truncated: boolean }
  | { type: 'failed'; message: string; userError: boolean };

/**
 * Starts `workerJs` (the built extension/worker.js) as a child process with the editor's runtime:
 * plain Node options, structured-clone messages, its standard error where `stderr` says. It runs at
 * the editor's own priority: a lower one (nice 5) was measured in code-server on two cores to delay
 * the whole analysis (median 4.0 against 3.3 s) without bringing the first rows sooner (2.1 against
 * 1.8 s), four runs each. `heapMiB` sets its heap's limit (V8's old space, --max-old-space-size);
 * without it the runtime's default applies. The heap bounds how many connections of a busy capture
 * are tracked (the heap budget, src/analyze.ts processLimits).
 */
export function forkAnalysis(workerJs: string, stderr: 'ignore' | 'inherit' = 'ignore', heapMiB?: number): ChildProcess {
  return fork(workerJs, [], {
    execArgv: heapMiB ? [`--max-old-space-size=${heapMiB}`] : [],
    env: analysisEnv(process.env),
    serialization: 'advanced',
    stdio: ['ignore', 'ignore', stderr, 'ipc'],
  });
}

/**
 * The analysis process's environment: the editor's, run as plain Node, without NODE_EXTRA_CA_CERTS.
 * Node 20 loads the certificates it names into a new root store as it starts, before any code runs
 * (30 ms of `node -e 0`'s 50 on this kind of machine, which sets it for its package registry); the
 * analysis makes no network connection and never uses them.
 */
export function analysisEnv(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const out: NodeJS.ProcessEnv = { ...env, ELECTRON_RUN_AS_NODE: '1' };
  delete out.NODE_EXTRA_CA_CERTS;
  return out;
}

/** the heap limit (MiB) of the setting mptcpLens.analysisMemory: none for 0 or no number, at least 64 */
export function analysisHeap(setting: unknown): number | undefined {
  if (typeof setting !== 'number' || !Number.isFinite(setting) || setting <= 0) return undefined;
  return Math.max(64, Math.round(setting));
}

/**
 * What the tracking-limit finding says in the editor's analysis process and trace worker
 * (extension/worker.ts; the CLI's says node's --max-old-space-size).
 */
export const MEMORY_HINT = 'the setting mptcpLens.analysisMemory (MiB) raises the limit';

/**
 * One analysis process started ahead of need. Node takes 0.15-0.35 s to start one on this kind of
 * machine (measured in code-server: from the fork to the process reading its request), on the way
 * to every capture's rows; a spare started while nothing else runs takes that off the next open. A
 * spare is idle (its event loop waits for a request) and does not hold its parent open.
 */
export class SpareAnalysis {
  private spare: ChildProcess | undefined;
  /** the heap limit the spare was started with */
  private spareHeap: number | undefined;
  private disposed = false;

  /** `heapMiB` is read at each start: the setting may change between two captures */
  constructor(private readonly workerJs: string, private readonly stderr: 'ignore' | 'inherit' = 'ignore', private readonly heapMiB: () => number | undefined = () => undefined) {}

  private static usable(c: ChildProcess | undefined): c is ChildProcess {
    return c !== undefined && c.connected && c.exitCode === null && c.signalCode === null;
  }

  /** Starts the spare if there is none (call when the machine is otherwise idle). */
  prepare(): void {
    if (this.disposed || SpareAnalysis.usable(this.spare)) return;
    const heap = this.heapMiB();
    const c = forkAnalysis(this.workerJs, this.stderr, heap);
    c.on('error', () => { if (this.spare === c) this.spare = undefined; });
    c.unref();
    (c.channel as { unref?: () => void } | undefined)?.unref?.();
    this.spare = c;
    this.spareHeap = heap;
  }

  /** A started analysis process: the spare when it is still up with the heap asked for now, or a new one. */
  take(): ChildProcess {
    const c = this.spare;
    this.spare = undefined;
    const heap = this.heapMiB();
    if (!SpareAnalysis.usable(c) || this.spareHeap !== heap) {
      c?.kill(); // one started with another heap (a dead one: nothing to do)
      return forkAnalysis(this.workerJs, this.stderr, heap);
    }
    c.ref();
    (c.channel as { ref?: () => void } | undefined)?.ref?.();
    return c;
  }

  /** the spare's process id, if one is up (for the tests) */
  get pid(): number | undefined {
    return SpareAnalysis.usable(this.spare) ? this.spare.pid : undefined;
  }

  dispose(): void {
    this.disposed = true;
    this.spare?.kill();
    this.spare = undefined;
  }
}

/**
 * The temporary file the analysis process writes the index to, open for reading: the extension
 * host reads its pages back for as long as the capture is open.
 */
export interface IndexFile {
  path: string;
  fd: number;
  /**
   * Removes the file's name and folder once the analysis process is done with it; the host keeps
   * reading it through `fd` (where the system lets an open file be removed), and nothing is left
   * behind in the temporary directory if the editor ends without closing it.
   */
  unlink(): void;
  /** closes it and removes it with its folder */
  close(): void;
}

export function createIndexFile(): IndexFile {
  return createTempFile('index');
}

/**
 * An empty file in a private temporary folder, open for reading, that the analysis process writes:
 * the index, or a gzip-compressed capture inflated (the host reads its rows from it).
 */
export function createTempFile(name: string): IndexFile {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mptcp-lens-'));
  const file = path.join(dir, name);
  const remove = () => { try { fs.rmSync(dir, { recursive: true, force: true }); } catch { /* open elsewhere (Windows): removed at close */ } };
  try {
    fs.writeFileSync(file, '', { mode: 0o600 });
    const fd = fs.openSync(file, 'r');
    let closed = false;
    return {
      path: file, fd, unlink: remove,
      close: () => { if (!closed) { closed = true; fs.closeSync(fd); } remove(); },
    };
  } catch (err) {
    remove();
    throw err;
  }
}

/**
 * Connections a message of the analysis process carries at most: tens of thousands in the one
 * 'done' message made the extension host hold the message and its objects at once (252 MiB for
 * 30,000 connections).
 */
export const CONNECTIONS_PER_MESSAGE = 1000;

/**
 * Sends a finished analysis: its connections a slice at a time, made as they are sent, then the
 * last slice with 'done'.
 */
export function postResult(result: ViewerPass, post: (m: WorkerMessage) => void): void {
  let last: ConnectionInfo[] = [];
  for (const slice of result.connectionSlices(CONNECTIONS_PER_MESSAGE)) {
    if (last.length) post({ type: 'connections', connections: last });
    last = slice;
  }
  const { packets, diagrams, findings, problems, suppressed } = result;
  post({ type: 'done', result: { packets, diagrams, findings, connections: last, problems, suppressed } });
}

/**
 * Adds what a message brings to the session before the analysis is done: rows ('chunk',
 * 'chunkFile') or connections; false for any other message.
 */
export function takeRows(session: CaptureSession, m: WorkerMessage, index: IndexFile | undefined): boolean {
  if (m.type === 'connections') session.addConnections(m.connections);
  else if (m.type === 'chunk') session.appendChunk(m.cols, m.n);
  else if (m.type === 'chunkFile') {
    if (!index) throw new Error('rows in an index file, but none was given');
    session.appendChunkFromFile(index.fd, m.position, m.n);
  } else return false;
  return true;
}

/** One open capture: its analysis worker, the session answering the viewer, and its state. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { ChildProcess } from 'node:child_process';
import * as vscode from 'vscode';
import type { CheckerConfig } from '../src/check/checker.ts';
import { CaptureSession } from '../src/viewer/session.ts';
import { timingMark } from './timing.ts';
import { createIndexFile, createTempFile, takeRows, type IndexFile, type SpareAnalysis, type WorkerMessage, type WorkerRequest } from '../src/viewer/analysisProcess.ts';
import { gunzipBytes } from '../src/capture/open.ts';
import { isGzip, isGzipFile } from '../src/capture/gunzip.ts';

export type DocState = 'loading' | 'done' | 'error';

export class CaptureDocument implements vscode.CustomDocument {
  readonly session: CaptureSession;
  state: DocState = 'loading';
  error: { message: string; retry: boolean } | undefined;
  progress = { packets: 0, bytesRead: 0, totalBytes: 0 };
  private worker: ChildProcess | undefined;
  private fd: number | undefined;
  private bytes: Buffer | undefined;
  private readonly changed = new vscode.EventEmitter<'chunk' | 'progress' | 'filter' | 'done' | 'error'>();
  readonly onChange = this.changed.event;
  private disposed = false;

  constructor(readonly uri: vscode.Uri, private readonly processes: SpareAnalysis, private readonly config: () => CheckerConfig) {
    this.session = new CaptureSession((offset, length) => this.read(offset, length));
    this.session.onFilterProgress = () => { if (!this.disposed) this.changed.fire('filter'); };
  }

  get displayName(): string {
    return path.basename(this.uri.path);
  }

  private read(offset: number, length: number): Buffer {
    if (this.bytes) return this.bytes.subarray(offset, offset + length);
    // a compressed capture's rows are in the inflated copy the analysis writes
    const fd = this.inflated?.fd ?? this.fd;
    if (fd === undefined) return Buffer.alloc(0);
    const b = Buffer.allocUnsafe(length);
    const n = fs.readSync(fd, b, 0, length, offset);
    return b.subarray(0, n);
  }

  /** a gzip-compressed capture inflated by the analysis process, read through its descriptor */
  private inflated: IndexFile | undefined;

  /** Starts (or restarts) the analysis. */
  async load(): Promise<void> {
    this.stop();
    this.state = 'loading';
    this.error = undefined;
    this.session.reset();
    const request = await this.request();
    if (!request) return;
    // the worker writes the index to a temporary file, and the session reads its pages from there
    // while the capture is open (the host holds no per-packet state)
    this.closeIndexFile();
    try {
      this.index = createIndexFile();
      request.indexFile = this.index.path;
    } catch {
      // no temporary directory: rows come in messages
    }
    // A child process, not a worker thread: its heap is not counted in the extension host, and it
    // can be stopped at once when the user cancels (the analysis loop does not yield).
    const worker = this.processes.take();
    timingMark('analysis-forked', this.displayName);
    this.worker = worker;
    let finished = false;
    let first = true;
    worker.on('message', (m: WorkerMessage) => {
      if (this.disposed || worker !== this.worker) return;
      switch (m.type) {
        case 'chunk':
        case 'chunkFile':
          try { takeRows(this.session, m, this.index); }
          catch (err) { finished = true; this.fail(`the analysis index could not be read: ${(err as Error).message}`, true); worker.kill(); break; }
          if (first) { first = false; timingMark('first-rows-indexed', this.displayName); }
          this.changed.fire('chunk');
          break;
        case 'progress': this.progress = { packets: m.packets, bytesRead: m.bytesRead, totalBytes: m.totalBytes }; this.changed.fire('progress'); break;
        case 'connections': this.session.addConnections(m.connections); break;
        case 'done':
          finished = true;
          timingMark('analysis-done', this.displayName);
          this.session.finish(m.result.findings, m.result.connections, m.result.problems, m.result.diagrams);
          this.state = 'done';
          this.changed.fire('done');
          worker.kill();
          this.index?.unlink(); // the viewer reads its pages through the open descriptor
          this.inflated?.unlink(); // and the rows of a compressed capture
          break;
        case 'failed':
          finished = true;
          this.fail(m.message, !m.userError);
          worker.kill();
          break;
        default: break;
      }
    });
    worker.on('error', (err) => { if (!finished && worker === this.worker) { finished = true; this.fail(`the analysis stopped: ${err.message.split('\n')[0]}`, true); } });
    worker.on('exit', (code, signal) => {
      // the next capture's analysis process, started once this one has ended (not beside it)
      setTimeout(() => this.processes.prepare(), 500).unref();
      if (finished || worker !== this.worker || this.disposed) return;
      finished = true;
      if (this.cancelled) this.fail(`the analysis was cancelled after ${this.session.index.count.toLocaleString('en-US')} packets`, true);
      else this.fail(`the analysis worker exited (${code !== null ? `code ${code}` : `signal ${signal}`})`, true);
    });
    worker.send(request);
  }

  private async request(): Promise<Extract<WorkerRequest, { type: 'analyze' | 'analyzeBytes' }> | undefined> {
    try {
      if (this.uri.scheme === 'file') {
        if (this.fd !== undefined) fs.closeSync(this.fd);
        this.fd = fs.openSync(this.uri.fsPath, 'r'); // read-only: the capture is never written
        this.bytes = undefined;
        this.inflated?.close();
        this.inflated = undefined;
        if (isGzipFile(this.fd)) {
          // gzip: the analysis writes the capture inflated to a file of ours as it reads it
          try {
            this.inflated = createTempFile('capture');
          } catch {
            // no temporary directory: inflated here, in memory
            this.bytes = gunzipBytes(this.displayName, fs.readFileSync(this.uri.fsPath)).bytes;
          }
        }
        return { type: 'analyze', file: this.uri.fsPath, config: this.config(), decompressInto: this.inflated?.path };
      }
      // a virtual file system: read through vscode.workspace.fs (a compressed capture inflated here too)
      const data = await vscode.workspace.fs.readFile(this.uri);
      this.bytes = isGzip(data) ? gunzipBytes(this.displayName, data).bytes : Buffer.from(data);
      return { type: 'analyzeBytes', name: this.displayName, bytes: new Uint8Array(data), config: this.config() };
    } catch (err) {
      this.fail(`${this.displayName}: ${(err as Error).message.split('\n')[0]}`, true);
      return undefined;
    }
  }

  /** The bytes of the capture for another worker (the decoded trace), or its path. */
  async source(): Promise<{ file: string } | { bytes: Uint8Array; name: string }> {
    if (this.uri.scheme === 'file') return { file: this.uri.fsPath };
    return { bytes: new Uint8Array(this.bytes ?? (await vscode.workspace.fs.readFile(this.uri))), name: this.displayName };
  }

  private fail(message: string, retry: boolean): void {
    this.index?.unlink(); // the rows indexed so far stay readable
    this.inflated?.unlink();
    this.state = 'error';
    this.error = { message, retry };
    this.changed.fire('error');
  }

  private cancelled = false;

  /** Stops a running analysis; what was indexed stays, and Retry starts again. */
  cancel(): void {
    if (this.state !== 'loading' || !this.worker) return;
    this.cancelled = true;
    this.worker.kill();
  }

  private index: IndexFile | undefined;

  private closeIndexFile(): void {
    this.index?.close();
    this.index = undefined;
  }

  private stop(): void {
    const w = this.worker;
    this.worker = undefined;
    this.cancelled = false;
    if (w) w.kill();
  }

  dispose(): void {
    this.disposed = true;
    this.stop();
    this.closeIndexFile();
    this.inflated?.close();
    this.inflated = undefined;
    if (this.fd !== undefined) fs.closeSync(this.fd);
    this.fd = undefined;
    this.changed.dispose();
  }
}

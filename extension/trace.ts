/** The decoded trace: a read-only text document per capture (`mptcp-trace:` scheme), made by a worker. */
import * as vscode from 'vscode';
import { analysisHeap, type WorkerMessage, type WorkerRequest } from '../src/viewer/analysisProcess.ts';
import { Worker } from 'node:worker_threads';
import type { CaptureDocument } from './captureDocument.ts';

export const TRACE_SCHEME = 'mptcp-trace';

export function traceUri(capture: vscode.Uri): vscode.Uri {
  return vscode.Uri.from({ scheme: TRACE_SCHEME, path: `${capture.path}.trace`, query: capture.toString() });
}

export function captureOfTrace(trace: vscode.Uri): vscode.Uri {
  return vscode.Uri.parse(trace.query);
}

export class TraceProvider implements vscode.TextDocumentContentProvider {
  private readonly changed = new vscode.EventEmitter<vscode.Uri>();
  readonly onDidChange = this.changed.event;
  private cache = new Map<string, string>();

  constructor(private readonly extensionUri: vscode.Uri, private readonly findDoc: (capture: vscode.Uri) => CaptureDocument | undefined) {}

  refresh(capture: vscode.Uri): void {
    const uri = traceUri(capture);
    if (this.cache.delete(uri.toString())) this.changed.fire(uri);
  }

  async provideTextDocumentContent(uri: vscode.Uri): Promise<string> {
    const hit = this.cache.get(uri.toString());
    if (hit !== undefined) return hit;
    const capture = captureOfTrace(uri);
    const doc = this.findDoc(capture);
    const settings = vscode.workspace.getConfiguration('mptcpLens');
    const limit = settings.get<number>('traceLineLimit', 200000);
    const heap = analysisHeap(settings.get('analysisMemory'));
    let req: WorkerRequest;
    if (doc) req = { type: 'trace', ...(await doc.source()), name: doc.displayName, limit };
    else if (capture.scheme === 'file') req = { type: 'trace', file: capture.fsPath, name: capture.path, limit };
    else req = { type: 'trace', bytes: new Uint8Array(await vscode.workspace.fs.readFile(capture)), name: capture.path, limit };
    const text = await new Promise<string>((resolve) => {
      // the same heap as the viewer's analysis process when the setting gives one
      const w = new Worker(vscode.Uri.joinPath(this.extensionUri, 'dist', 'worker.js').fsPath, heap ? { resourceLimits: { maxOldGenerationSizeMb: heap } } : undefined);
      w.on('message', (m: WorkerMessage) => {
        if (m.type === 'trace') resolve(m.text);
        else if (m.type === 'failed') resolve(`MPTCP Lens could not decode this capture: ${m.message}\n`);
        else return;
        void w.terminate();
      });
      w.on('error', (e) => resolve(`MPTCP Lens could not decode this capture: ${e.message.split('\n')[0]}\n`));
      w.postMessage(req);
    });
    this.cache.set(uri.toString(), text);
    return text;
  }
}

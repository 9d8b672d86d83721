/** The custom read-only editor for captures: one webview per editor, fed page by page. */
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as vscode from 'vscode';
import type { CheckerConfig } from '../src/check/checker.ts';
import { countMessage, handleWebviewMessage, stateMessages } from '../src/viewer/host.ts';
import type { HostMessage } from '../src/viewer/protocol.ts';
import { CaptureDocument } from './captureDocument.ts';
import { analysisHeap, SpareAnalysis } from '../src/viewer/analysisProcess.ts';
import { inlineBundle, viewerHtml } from './viewerHtml.ts';
import { estimatedCaptureSize } from '../src/capture/gunzip.ts';
import { timingMark } from './timing.ts';

export const VIEW_TYPE = 'mptcpLens.captureViewer';
const LARGE_FILE = 32 * 1024 * 1024;
/** counts and progress go to the viewer at most this often while a capture is read */
const PACE_MS = 500;

export interface ViewerHooks {
  onDocumentDone(doc: CaptureDocument): void;
  onDocumentClosed(doc: CaptureDocument): void;
  onActiveChanged(doc: CaptureDocument | undefined): void;
  openTrace(doc: CaptureDocument, frame: number): void;
  copyKeys(doc: CaptureDocument, connection: number): void;
  exportPicture(doc: CaptureDocument, kind: 'svg' | 'png', name: string, data: string): void;
}

export class CaptureViewerProvider implements vscode.CustomReadonlyEditorProvider<CaptureDocument> {
  private readonly panels = new Map<CaptureDocument, Set<vscode.WebviewPanel>>();
  readonly documents = new Set<CaptureDocument>();
  active: { doc: CaptureDocument; panel: vscode.WebviewPanel } | undefined;

  /** the analysis process for the next capture, started ahead (the first when the extension starts) */
  private readonly processes: SpareAnalysis;

  constructor(private readonly context: vscode.ExtensionContext, private readonly config: () => CheckerConfig, private readonly hooks: ViewerHooks) {
    this.processes = new SpareAnalysis(vscode.Uri.joinPath(context.extensionUri, 'dist', 'worker.js').fsPath, 'ignore',
      () => analysisHeap(vscode.workspace.getConfiguration('mptcpLens').get('analysisMemory')));
    this.processes.prepare();
    context.subscriptions.push({ dispose: () => this.processes.dispose() });
  }

  async openCustomDocument(uri: vscode.Uri): Promise<CaptureDocument> {
    const doc = new CaptureDocument(uri, this.processes, this.config);
    timingMark('open-document', doc.displayName);
    this.documents.add(doc);
    doc.onChange((what) => {
      // the viewer first, then the Problems panel and the status bar (all go to the same busy renderer)
      this.broadcast(doc, what);
      if (what === 'done') { timingMark('done-posted', doc.displayName); this.hooks.onDocumentDone(doc); }
    });
    void doc.load();
    this.notifyLarge(doc);
    return doc;
  }

  private notifyLarge(doc: CaptureDocument): void {
    if (doc.uri.scheme !== 'file') return;
    // a compressed capture by its inflated size (the time goes by that)
    const size = estimatedCaptureSize(doc.uri.fsPath);
    if (size === undefined || size < LARGE_FILE) return;
    void vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: `MPTCP Lens: analysing ${doc.displayName}`, cancellable: true },
      (progress, token) => new Promise<void>((resolve) => {
        token.onCancellationRequested(() => { doc.cancel(); resolve(); });
        let last = 0;
        const sub = doc.onChange((what) => {
          if (what === 'progress' && doc.progress.totalBytes) {
            const pct = Math.floor((doc.progress.bytesRead / doc.progress.totalBytes) * 100);
            if (pct >= last + 5) { // the notification repaints on each report: every 5 %
              progress.report({ increment: pct - last, message: `${doc.progress.packets.toLocaleString()} packets` });
              last = pct;
            }
          }
          if (what === 'done' || what === 'error') { sub.dispose(); resolve(); }
        });
      }),
    );
  }

  resolveCustomEditor(doc: CaptureDocument, panel: vscode.WebviewPanel): void {
    timingMark('resolve-editor', doc.displayName);
    let set = this.panels.get(doc);
    if (!set) { set = new Set(); this.panels.set(doc, set); }
    set.add(panel);
    const dist = vscode.Uri.joinPath(this.context.extensionUri, 'dist');
    panel.webview.options = { enableScripts: true, localResourceRoots: [dist] };
    panel.webview.html = this.html(panel.webview, dist, doc);
    const post = (m: HostMessage) => void panel.webview.postMessage(m);
    panel.webview.onDidReceiveMessage((raw: unknown) => {
      const ready = (raw as { type?: unknown } | null)?.type === 'ready';
      if (ready) timingMark('webview-ready', doc.displayName);
      handleWebviewMessage(doc, raw, post, {
        openTrace: (frame) => this.hooks.openTrace(doc, frame),
        copyKeys: (connection) => this.hooks.copyKeys(doc, connection),
        exportPicture: (kind, name, data) => this.hooks.exportPicture(doc, kind, name, data),
        retry: () => void doc.load(),
      });
      if (ready) timingMark('ready-answered', doc.displayName);
    });
    panel.onDidChangeViewState(() => {
      if (panel.active) { this.active = { doc, panel }; this.hooks.onActiveChanged(doc); }
      else if (this.active?.panel === panel) { this.active = undefined; this.hooks.onActiveChanged(undefined); }
    });
    if (panel.active) { this.active = { doc, panel }; this.hooks.onActiveChanged(doc); }
    panel.onDidDispose(() => {
      set!.delete(panel);
      if (this.active?.panel === panel) { this.active = undefined; this.hooks.onActiveChanged(undefined); }
      if (set!.size === 0) {
        this.panels.delete(doc);
        this.documents.delete(doc);
        this.hooks.onDocumentClosed(doc);
      }
    });
  }

  /** per document: when counts and progress were last posted, and a posting that waits */
  private paced = new Map<CaptureDocument, { last: number; timer: ReturnType<typeof setTimeout> | undefined }>();

  private broadcast(doc: CaptureDocument, what: 'chunk' | 'progress' | 'filter' | 'done' | 'error'): void {
    let pace = this.paced.get(doc);
    if (!pace) { pace = { last: 0, timer: undefined }; this.paced.set(doc, pace); }
    if (what === 'chunk' || what === 'progress' || what === 'filter') {
      // the first rows at once, then counts and progress at most every PACE_MS: the webview and the
      // workbench repaint on each, and on two cores they would take the analysis' (or filter's) time
      // (a Chromium trace of an open in code-server: the renderer's main thread busy 3.2 s of 3.7,
      // ~0.7 s of it our page's layout and script; every 500 ms rather than 200 took the analysis
      // from 3.4-3.7 s to 2.9-3.0 s in two first opens each)
      if (pace.timer) return;
      const wait = pace.last + PACE_MS - Date.now();
      if (wait > 0) { pace.timer = setTimeout(() => { pace.timer = undefined; this.postProgress(doc, pace); }, wait); return; }
      this.postProgress(doc, pace);
      return;
    }
    if (pace.timer) { clearTimeout(pace.timer); pace.timer = undefined; }
    if (what === 'done' || what === 'error') this.paced.delete(doc);
    for (const panel of this.panels.get(doc) ?? []) for (const m of stateMessages(doc)) void panel.webview.postMessage(m);
  }

  private postProgress(doc: CaptureDocument, pace: { last: number }): void {
    pace.last = Date.now();
    if (doc.state === 'error') return;
    for (const panel of this.panels.get(doc) ?? []) {
      void panel.webview.postMessage(countMessage(doc));
      if (doc.state === 'loading') void panel.webview.postMessage({ type: 'progress', ...doc.progress } satisfies HostMessage);
    }
  }

  /** Selects a frame in the document's viewer (opening it if needed). */
  async reveal(doc: CaptureDocument | undefined, uri: vscode.Uri, frame: number): Promise<void> {
    if (!doc) {
      await vscode.commands.executeCommand('vscode.openWith', uri, VIEW_TYPE);
      doc = [...this.documents].find((d) => d.uri.toString() === uri.toString());
    }
    const panel = doc && [...(this.panels.get(doc) ?? [])][0];
    if (!panel || !doc) return;
    panel.reveal();
    const send = () => void panel.webview.postMessage({ type: 'reveal', frame } satisfies HostMessage);
    if (doc.state === 'loading') { const sub = doc.onChange((w) => { if (w === 'done') { sub.dispose(); send(); } }); }
    else send();
  }

  /** the page's script and style, read once (null: link them as files) */
  private bundle: { script: string; style: string } | null | undefined;

  private html(webview: vscode.Webview, dist: vscode.Uri, doc: CaptureDocument): string {
    const script = vscode.Uri.joinPath(dist, 'webview.js');
    const style = vscode.Uri.joinPath(dist, 'webview.css');
    if (this.bundle === undefined) {
      try {
        this.bundle = dist.scheme === 'file' ? inlineBundle(fs.readFileSync(script.fsPath, 'utf8'), fs.readFileSync(style.fsPath, 'utf8')) : null;
      } catch {
        this.bundle = null;
      }
    }
    return viewerHtml({
      nonce: crypto.randomBytes(16).toString('base64'), cspSource: webview.cspSource, title: doc.displayName,
      scriptUri: webview.asWebviewUri(script).toString(), styleUri: webview.asWebviewUri(style).toString(), bundle: this.bundle,
    });
  }
}

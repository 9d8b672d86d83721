/**
 * MPTCP Lens for VS Code: a custom editor for captures, findings in the Problems panel, a decoded
 * trace with hover annotations, a status bar summary and commands under "MPTCP".
 */
import * as vscode from 'vscode';
import type { CheckerConfig } from '../src/check/checker.ts';
import { diagnosticFindings, findingToDiagnostic, ruleSettings } from '../src/viewer/diagnostics.ts';
import { hoverMarkdown, traceHover } from '../src/viewer/hover.ts';
import { reportSarif } from '../src/format/report.ts';
import type { CaptureDocument } from './captureDocument.ts';
import { captureOfTrace, TRACE_SCHEME, TraceProvider, traceUri } from './trace.ts';
import { CaptureViewerProvider, VIEW_TYPE } from './viewerProvider.ts';
import { timingMark } from './timing.ts';

const SEVERITY = { error: vscode.DiagnosticSeverity.Error, warning: vscode.DiagnosticSeverity.Warning, info: vscode.DiagnosticSeverity.Information } as const;

export function activate(context: vscode.ExtensionContext): { provider: CaptureViewerProvider } {
  timingMark('activate', '');
  const diagnostics = vscode.languages.createDiagnosticCollection('mptcp-lens');
  const traceDiagnostics = vscode.languages.createDiagnosticCollection('mptcp-lens-trace');
  const status = vscode.window.createStatusBarItem(vscode.StatusBarAlignment.Left, 50);
  status.command = 'workbench.actions.view.problems';
  context.subscriptions.push(diagnostics, traceDiagnostics, status);

  const config = (): CheckerConfig => ({ rules: ruleSettings(vscode.workspace.getConfiguration('mptcpLens').get('rules')) });
  const findDoc = (uri: vscode.Uri) => [...provider.documents].find((d) => d.uri.toString() === uri.toString());

  /** A finding as a VS Code diagnostic; related frames open the decoded trace at their line. */
  const toDiagnostic = (f: CaptureDocument['session']['findings'][number], trace: vscode.Uri, onTrace: boolean) => {
    const d = findingToDiagnostic(f);
    const diag = new vscode.Diagnostic(new vscode.Range(d.line, 0, d.line, onTrace ? 10000 : 0), d.message, SEVERITY[d.severity]);
    diag.source = d.source;
    diag.code = { value: d.code.value, target: vscode.Uri.parse(d.code.target) };
    // on the trace itself, the finding's own line needs no link to itself
    diag.relatedInformation = d.related.filter((r) => !onTrace || r.frame !== f.frame)
      .map((r) => new vscode.DiagnosticRelatedInformation(new vscode.Location(trace, new vscode.Position(r.frame - 1, 0)), r.message));
    return diag;
  };
  /** The diagnostics of a capture (or its trace): at most MAX_DIAGNOSTICS, then one that says how many more. */
  const diagnosticsOf = ({ shown, more }: ReturnType<typeof diagnosticFindings>, trace: vscode.Uri, onTrace: boolean) => {
    const out = shown.map((f) => toDiagnostic(f, trace, onTrace));
    if (more) {
      const d = new vscode.Diagnostic(new vscode.Range(more.line, 0, more.line, onTrace ? 10000 : 0), more.message, vscode.DiagnosticSeverity.Information);
      d.source = 'MPTCP Lens';
      out.push(d);
    }
    return out;
  };
  const setTraceDiagnostics = (doc: CaptureDocument, picked = diagnosticFindings(doc.session.findings)) => {
    const trace = traceUri(doc.uri);
    traceDiagnostics.set(trace, diagnosticsOf(picked, trace, true));
  };
  const setDiagnostics = (doc: CaptureDocument) => {
    const trace = traceUri(doc.uri);
    // the findings are picked once for the capture and its trace
    const picked = diagnosticFindings(doc.session.findings);
    diagnostics.set(doc.uri, diagnosticsOf(picked, trace, false));
    // the decoded trace carries the same diagnostics on its lines while it is open
    if (vscode.workspace.textDocuments.some((t) => t.uri.toString() === trace.toString())) setTraceDiagnostics(doc, picked);
  };

  const updateStatus = (doc: CaptureDocument | undefined) => {
    if (!doc) { status.hide(); return; }
    if (doc.state === 'loading') status.text = `$(sync~spin) MPTCP: ${doc.session.index.count.toLocaleString()} packets`;
    else if (doc.state === 'error') status.text = '$(error) MPTCP: capture unreadable';
    else {
      const n = doc.session.severityCounts;
      const c = doc.session.connections.length;
      status.text = `$(type-hierarchy) MPTCP: ${c} connection${c === 1 ? '' : 's'}  $(error) ${n.error}  $(warning) ${n.warning}`;
    }
    status.tooltip = `MPTCP Lens: ${doc.displayName} — click to open Problems`;
    status.show();
  };

  const traces = new TraceProvider(context.extensionUri, findDoc);

  const provider: CaptureViewerProvider = new CaptureViewerProvider(context, config, {
    onDocumentDone: (doc) => {
      setDiagnostics(doc);
      traces.refresh(doc.uri);
      if (provider.active?.doc === doc) updateStatus(doc);
    },
    onDocumentClosed: (doc) => { doc.dispose(); },
    onActiveChanged: (doc) => updateStatus(doc),
    openTrace: (doc, frame) => void openTrace(doc.uri, frame),
    copyKeys: (doc, connection) => void copyKeys(doc, connection),
    exportPicture: (doc, kind, name, data) => void exportPicture(doc, kind, name, data),
  });

  async function exportPicture(doc: CaptureDocument, kind: 'svg' | 'png', name: string, data: string): Promise<void> {
    const target = await vscode.window.showSaveDialog({ defaultUri: vscode.Uri.joinPath(doc.uri, '..', `${name}.${kind}`), filters: kind === 'svg' ? { SVG: ['svg'] } : { PNG: ['png'] } });
    if (!target) return;
    const bytes = kind === 'svg' ? Buffer.from(data, 'utf8') : Buffer.from(data.slice('data:image/png;base64,'.length), 'base64');
    await vscode.workspace.fs.writeFile(target, bytes);
    void vscode.window.showInformationMessage(`MPTCP Lens: ${target.path.split('/').pop()} written.`);
  }

  context.subscriptions.push(
    vscode.window.registerCustomEditorProvider(VIEW_TYPE, provider, { supportsMultipleEditorsPerDocument: true }),
    vscode.workspace.registerTextDocumentContentProvider(TRACE_SCHEME, traces),
  );

  // the status bar follows the active document's progress
  const statusTimer = setInterval(() => { if (provider.active?.doc.state === 'loading') updateStatus(provider.active.doc); }, 500);
  context.subscriptions.push({ dispose: () => clearInterval(statusTimer) });

  async function openTrace(capture: vscode.Uri, frame?: number): Promise<void> {
    const doc = await vscode.workspace.openTextDocument(traceUri(capture));
    await vscode.languages.setTextDocumentLanguage(doc, 'mptcp-trace');
    const cap = findDoc(capture);
    if (cap?.state === 'done') setTraceDiagnostics(cap);
    const line = Math.max(0, Math.min(doc.lineCount - 1, (frame ?? 1) - 1));
    await vscode.window.showTextDocument(doc, { preview: false, selection: new vscode.Range(line, 0, line, 0) });
  }

  async function copyKeys(doc: CaptureDocument, connection?: number): Promise<void> {
    const conns = doc.session.connections.all();
    if (!conns.length) { void vscode.window.showInformationMessage('MPTCP Lens: no MPTCP connection in this capture.'); return; }
    let c = conns.find((x) => x.id === connection);
    if (!c) {
      const pick = await vscode.window.showQuickPick(conns.map((x) => ({ label: `connection ${x.id}`, description: `v${x.version ?? '?'} ${x.client.address ?? '?'} → ${x.server.address ?? '?'}`, id: x.id })), { placeHolder: 'Copy the keys of which connection?' });
      c = conns.find((x) => x.id === pick?.id);
    }
    if (!c) return;
    const text = `client key ${c.client.key ?? 'unknown'} token ${c.client.token ?? '?'}\nserver key ${c.server.key ?? 'unknown'} token ${c.server.token ?? '?'}\n`;
    await vscode.env.clipboard.writeText(text);
    void vscode.window.showInformationMessage(`MPTCP Lens: keys of connection ${c.id} copied.`);
  }

  const activeCapture = (arg?: unknown): { uri: vscode.Uri; doc?: CaptureDocument } | undefined => {
    if (arg instanceof vscode.Uri) return { uri: arg.scheme === TRACE_SCHEME ? captureOfTrace(arg) : arg, doc: findDoc(arg) };
    if (provider.active) return { uri: provider.active.doc.uri, doc: provider.active.doc };
    const ed = vscode.window.activeTextEditor?.document.uri;
    if (ed?.scheme === TRACE_SCHEME) { const u = captureOfTrace(ed); return { uri: u, doc: findDoc(u) }; }
    return undefined;
  };

  context.subscriptions.push(
    vscode.commands.registerCommand('mptcpLens.openInViewer', async (uri?: vscode.Uri) => {
      const target = uri ?? (await vscode.window.showOpenDialog({ filters: { Captures: ['pcap', 'pcapng', 'cap', 'gz'] } }))?.[0];
      if (target) await vscode.commands.executeCommand('vscode.openWith', target, VIEW_TYPE);
    }),
    vscode.commands.registerCommand('mptcpLens.openTrace', async (uri?: vscode.Uri) => {
      const cap = activeCapture(uri);
      if (!cap) { void vscode.window.showWarningMessage('MPTCP Lens: open a capture first.'); return; }
      await openTrace(cap.uri);
    }),
    vscode.commands.registerCommand('mptcpLens.goToFrame', async (arg?: unknown, frameArg?: number) => {
      const cap = activeCapture(arg);
      if (!cap) { void vscode.window.showWarningMessage('MPTCP Lens: open a capture first.'); return; }
      let frame = frameArg;
      if (frame === undefined) {
        const max = cap.doc?.session.index.count ?? Number.MAX_SAFE_INTEGER;
        const v = await vscode.window.showInputBox({ prompt: 'Go to frame', validateInput: (s) => (/^\d+$/.test(s) && +s >= 1 && +s <= max ? undefined : `a frame number from 1 to ${max}`) });
        if (!v) return;
        frame = Number(v);
      }
      await provider.reveal(cap.doc, cap.uri, frame);
    }),
    vscode.commands.registerCommand('mptcpLens.showLineInViewer', async (uri?: vscode.Uri, line?: number) => {
      const ed = vscode.window.activeTextEditor;
      const traceDoc = uri ?? ed?.document.uri;
      if (!traceDoc || traceDoc.scheme !== TRACE_SCHEME) return;
      const l = line ?? ed?.selection.active.line ?? 0;
      const capture = captureOfTrace(traceDoc);
      await provider.reveal(findDoc(capture), capture, l + 1);
    }),
    vscode.commands.registerCommand('mptcpLens.exportFindings', async (arg?: unknown) => {
      const cap = activeCapture(arg);
      const doc = cap?.doc;
      if (!doc || doc.state !== 'done') { void vscode.window.showWarningMessage('MPTCP Lens: open a capture and wait for its analysis first.'); return; }
      const target = await vscode.window.showSaveDialog({ defaultUri: vscode.Uri.joinPath(doc.uri, '..', `${doc.displayName}.sarif`), filters: { SARIF: ['sarif'], JSON: ['json'] } });
      if (!target) return;
      const s = doc.session;
      const body = target.path.endsWith('.json')
        ? { file: doc.displayName, packets: s.index.count, connections: s.connections.all(), findings: s.findings }
        : reportSarif([{ file: doc.displayName, findings: s.findings, offsets: (fr) => (fr >= 1 && fr <= s.index.count ? s.index.get('offset', fr - 1) : undefined) }], String(context.extension.packageJSON.version));
      await vscode.workspace.fs.writeFile(target, Buffer.from(JSON.stringify(body, null, 2)));
      void vscode.window.showInformationMessage(`MPTCP Lens: ${s.findings.length} findings written to ${target.path.split('/').pop()}.`);
    }),
    vscode.commands.registerCommand('mptcpLens.copyKeys', async (arg?: unknown) => {
      const cap = activeCapture(arg);
      if (!cap?.doc) { void vscode.window.showWarningMessage('MPTCP Lens: open a capture first.'); return; }
      await copyKeys(cap.doc);
    }),
  );

  // hover and CodeLens on the decoded trace
  const versionOf = (uri: vscode.Uri, line: string): number | undefined => {
    const doc = findDoc(captureOfTrace(uri));
    const m = /mptcp (\d+) sf/.exec(line);
    return m && doc ? doc.session.connections.get(Number(m[1]))?.version ?? undefined : undefined;
  };
  context.subscriptions.push(
    vscode.languages.registerHoverProvider({ scheme: TRACE_SCHEME }, {
      provideHover(document, position) {
        const text = document.lineAt(position.line).text;
        const h = traceHover(text, position.character, versionOf(document.uri, text));
        if (!h) return undefined;
        const md = new vscode.MarkdownString(hoverMarkdown(h), true);
        md.isTrusted = false;
        return new vscode.Hover(md, new vscode.Range(position.line, h.start, position.line, h.end));
      },
    }),
    vscode.languages.registerCodeLensProvider({ scheme: TRACE_SCHEME }, {
      provideCodeLenses(document) {
        const lenses: vscode.CodeLens[] = [];
        const doc = findDoc(captureOfTrace(document.uri));
        const frames = new Set((doc?.session.findings ?? []).map((f) => f.frame));
        for (const frame of frames) {
          if (frame - 1 >= document.lineCount) continue;
          lenses.push(new vscode.CodeLens(new vscode.Range(frame - 1, 0, frame - 1, 0), { title: `Show frame ${frame} in the viewer`, command: 'mptcpLens.showLineInViewer', arguments: [document.uri, frame - 1] }));
        }
        return lenses;
      },
    }),
  );

  // diagnostics follow the file: refreshed when it changes on disk, removed when it is deleted
  const watcher = vscode.workspace.createFileSystemWatcher('**/*.{pcap,pcapng,cap,pcap.gz,pcapng.gz,cap.gz}');
  context.subscriptions.push(
    watcher,
    watcher.onDidChange((uri) => { const d = findDoc(uri); if (d) void d.load(); traces.refresh(uri); }),
    watcher.onDidDelete((uri) => { diagnostics.delete(uri); traceDiagnostics.delete(traceUri(uri)); traces.refresh(uri); }),
    vscode.workspace.onDidCloseTextDocument((t) => { if (t.uri.scheme === TRACE_SCHEME) traceDiagnostics.delete(t.uri); }),
    vscode.workspace.onDidChangeConfiguration((e) => {
      if (e.affectsConfiguration('mptcpLens.rules')) for (const d of provider.documents) void d.load();
    }),
  );
  return { provider };
}

export function deactivate(): void {}

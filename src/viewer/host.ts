/**
 * What the host answers to each viewer message, without VS Code: the extension wires it to a
 * webview, the tests to a page in Chromium. Messages are validated first; anything else is ignored.
 */
import { CONNECTION_PAGE, FINDING_PAGE, parseFromWebview, type HostMessage } from './protocol.ts';
import type { CaptureSession } from './session.ts';

export interface DocumentView {
  displayName: string;
  state: 'loading' | 'done' | 'error';
  progress: { packets: number; bytesRead: number; totalBytes: number };
  error?: { message: string; retry: boolean };
  session: CaptureSession;
}

export interface HostActions {
  /** saves an exported picture (the host asks where) */
  exportPicture?(kind: 'svg' | 'png', name: string, data: string): void;
  openTrace(frame: number): void;
  copyKeys(connection: number): void;
  retry(): void;
}

/** The row count under the current filter; final once the analysis and the filter are through. */
export function countMessage(doc: DocumentView, firstRows = 0): HostMessage {
  const s = doc.session;
  const m: HostMessage = { type: 'count', total: s.total(), filterId: s.filterId, done: doc.state !== 'loading' && !s.filtering() };
  if (firstRows > 0 && m.total > 0 && doc.state !== 'error') m.rows = s.rows(0, firstRows);
  return m;
}

/** rows sent with the count to a webview that starts: the page the viewer would ask for first */
export const FIRST_ROWS = 200;

/** The summary of a finished analysis: totals, and the first page of connections and of findings. */
export function summaryMessage(s: CaptureSession): HostMessage {
  const severities = { ...s.severityCounts };
  return {
    type: 'summary', connections: s.connections.slice(0, CONNECTION_PAGE), connectionCount: s.connections.length,
    findings: s.findings.slice(0, FINDING_PAGE), findingCount: s.findings.length, severities,
    problems: s.problems, packets: s.index.count, suppressed: 0,
  };
}

/**
 * The messages that bring a (new or reloaded) webview up to date; with `firstRows`, the count brings
 * that many rows from the top along.
 */
export function stateMessages(doc: DocumentView, firstRows = 0): HostMessage[] {
  const s = doc.session;
  const out: HostMessage[] = [{ type: 'init', file: doc.displayName, state: doc.state }];
  out.push(countMessage(doc, firstRows));
  if (doc.state === 'loading') out.push({ type: 'progress', ...doc.progress });
  if (doc.state === 'done') out.push(summaryMessage(s));
  if (doc.state === 'error' && doc.error) out.push({ type: 'error', message: doc.error.message, retry: doc.error.retry });
  return out;
}

export function handleWebviewMessage(doc: DocumentView, raw: unknown, post: (m: HostMessage) => void, actions: HostActions): void {
  const s = doc.session;
  const m = parseFromWebview(raw, s.index.count);
  if (!m) return;
  switch (m.type) {
    case 'ready':
      for (const x of stateMessages(doc, FIRST_ROWS)) post(x);
      break;
    case 'getRows':
      if (m.filterId !== s.filterId) return; // a page of an old filter
      post({ type: 'rows', requestId: m.requestId, filterId: m.filterId, start: m.start, rows: s.rows(m.start, m.count) });
      break;
    case 'setFilter': {
      s.setFilter(m.filter); // a filter over many rows goes on after this: the host posts its counts as it goes
      post(countMessage(doc));
      break;
    }
    case 'getDetails': {
      const d = s.details(m.frame);
      post({ type: 'details', requestId: m.requestId, frame: m.frame, tree: d.tree, bytes: [...d.bytes] });
      break;
    }
    case 'locate':
      post({ type: 'located', requestId: m.requestId, frame: m.frame, position: s.positionOf(m.frame) });
      break;
    case 'getViz': {
      const v = s.viz(m.connection);
      if (v) post({ type: 'viz', requestId: m.requestId, connection: m.connection, ...v });
      break;
    }
    case 'export': actions.exportPicture?.(m.kind, m.name, m.data); break;
    case 'openTrace': actions.openTrace(m.frame); break;
    case 'copyKeys': actions.copyKeys(m.connection); break;
    case 'getConnections':
      if (doc.state === 'done') post({ type: 'connections', from: m.from, connections: s.connections.slice(m.from, m.from + CONNECTION_PAGE) });
      break;
    case 'getFindings':
      if (doc.state === 'done') post({ type: 'findings', from: m.from, findings: s.findings.slice(m.from, m.from + FINDING_PAGE) });
      break;
    case 'retry': actions.retry(); break;
    default: break;
  }
}

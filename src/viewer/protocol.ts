/**
 * The one protocol between the extension host and the viewer webview: a discriminated union per
 * direction. The webview asks for pages of rows and for one packet's details; the host never pushes
 * a whole capture. `parseFromWebview` validates everything the webview sends.
 */
import type { Finding } from '../check/types.ts';
import type { RfcRef } from '../rfc.ts';
import type { Row } from './rows.ts';
import type { Ladder, Timeline } from '../viz/model.ts';
import type { DsnPlot } from '../viz/series.ts';

export interface SubflowInfo {
  tcpStream: number;
  kind: string;
  client: string;
  server: string;
  addressIds: { initiator: number | null; responder: number | null } | null;
  backup: boolean;
  packets: number;
  bytes: number;
  firstFrame: number;
  lastFrame: number;
  ended: string;
  join: { token: string | null; nonceA: number | null; nonceB: number | null; initiatorSide: number | null } | null;
  rtt: { samples: number; minMs: number; meanMs: number; maxMs: number } | null;
  duration: number;
  goodputBytesPerSecond: number | null;
  reinjectedBytes: number;
}

export interface ConnectionInfo {
  id: number;
  version: number | null;
  partial: boolean;
  checksums: boolean;
  client: { key: string | null; token: string | null; idsn: string | null; address: string | null };
  server: { key: string | null; token: string | null; idsn: string | null; address: string | null };
  subflows: SubflowInfo[];
  ended: string;
  findings: { error: number; warning: number; info: number };
  stats: {
    packets: number; bytes: number; duration: number; reinjectedBytes: number;
    clientToServer: { deliveredBytes: number | null; goodputBytesPerSecond: number | null; outOfOrderSegments: number; duplicateDataAcks: number };
    serverToClient: { deliveredBytes: number | null; goodputBytesPerSecond: number | null; outOfOrderSegments: number; duplicateDataAcks: number };
  };
}

export interface Filter {
  connection?: number;
  subflow?: number;
  /** MPTCP option subtype that must be present */
  subtype?: number;
  /** minimum finding severity: 1 info, 2 warning, 3 error */
  severity?: number;
  findingsOnly?: boolean;
  text?: string;
}

export interface DetailNode {
  label: string;
  value?: string;
  offset?: number;
  length?: number;
  help?: string;
  rfc?: RfcRef;
  /** a value worked out from others (token of a key, the HMAC that should be on the wire) */
  derived?: boolean;
  finding?: { severity: string; rule: string; message: string; rfc: RfcRef };
  /** verification state of the field: ok (matches), bad (does not) */
  check?: 'ok' | 'bad';
  children?: DetailNode[];
}

/** connections and findings a page of the viewer's lists holds (the summary brings the first) */
export const CONNECTION_PAGE = 100;
export const FINDING_PAGE = 500;

export type HostMessage =
  | { type: 'init'; file: string; state: 'loading' | 'done' | 'error' }
  | { type: 'progress'; packets: number; bytesRead: number; totalBytes: number }
  /** `rows`: the first rows under this filter, sent with the count when a webview starts (no round trip) */
  | { type: 'count'; total: number; filterId: number; done: boolean; rows?: Row[] }
  /**
   * The first page of connections and of findings (a busy capture has tens of thousands of each:
   * the rest come a page at a time, asked for with getConnections / getFindings), their totals,
   * and the findings by severity.
   */
  | { type: 'summary'; connections: ConnectionInfo[]; connectionCount: number; findings: Finding[]; findingCount: number; severities: { error: number; warning: number; info: number }; problems: Array<{ offset: number; frame: number; message: string }>; packets: number; suppressed: number }
  | { type: 'connections'; from: number; connections: ConnectionInfo[] }
  | { type: 'findings'; from: number; findings: Finding[] }
  | { type: 'rows'; requestId: number; filterId: number; start: number; rows: Row[] }
  | { type: 'details'; requestId: number; frame: number; tree: DetailNode[]; bytes: number[] }
  | { type: 'reveal'; frame: number }
  | { type: 'located'; requestId: number; frame: number; position: number }
  | { type: 'viz'; requestId: number; connection: number; ladder: Ladder; timeline: Timeline; plot: DsnPlot }
  | { type: 'error'; message: string; retry: boolean };

export type WebviewMessage =
  | { type: 'ready' }
  | { type: 'getRows'; requestId: number; filterId: number; start: number; count: number }
  | { type: 'setFilter'; filter: Filter }
  | { type: 'getDetails'; requestId: number; frame: number }
  | { type: 'locate'; requestId: number; frame: number }
  | { type: 'getViz'; requestId: number; connection: number }
  | { type: 'export'; kind: 'svg' | 'png'; name: string; data: string }
  | { type: 'openTrace'; frame: number }
  | { type: 'copyKeys'; connection: number }
  /** the next page of the connection or finding list, from the `from`th */
  | { type: 'getConnections'; from: number }
  | { type: 'getFindings'; from: number }
  | { type: 'retry' };

const MAX_PAGE = 2000;

const isInt = (v: unknown, min = 0, max = Number.MAX_SAFE_INTEGER): v is number => typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max;

/**
 * Validates a message from the webview; returns undefined for anything malformed or unknown
 * (ignored by the host). `packets` bounds frame numbers.
 */
export function parseFromWebview(m: unknown, packets: number): WebviewMessage | undefined {
  if (typeof m !== 'object' || m === null) return undefined;
  const o = m as Record<string, unknown>;
  switch (o.type) {
    case 'ready': case 'retry':
      return { type: o.type };
    case 'getRows':
      if (!isInt(o.requestId) || !isInt(o.filterId) || !isInt(o.start) || !isInt(o.count, 1, MAX_PAGE)) return undefined;
      return { type: 'getRows', requestId: o.requestId, filterId: o.filterId, start: o.start, count: o.count };
    case 'getDetails': case 'openTrace': case 'locate':
      if (!isInt(o.frame, 1, packets)) return undefined;
      if (o.type === 'openTrace') return { type: 'openTrace', frame: o.frame };
      if (!isInt(o.requestId)) return undefined;
      return { type: o.type, requestId: o.requestId, frame: o.frame };
    case 'getViz':
      if (!isInt(o.requestId) || !isInt(o.connection)) return undefined;
      return { type: 'getViz', requestId: o.requestId, connection: o.connection };
    case 'export': {
      if ((o.kind !== 'svg' && o.kind !== 'png') || typeof o.name !== 'string' || !/^[\w.-]{1,80}$/.test(o.name) || typeof o.data !== 'string' || o.data.length > 50_000_000) return undefined;
      if (o.kind === 'png' && !o.data.startsWith('data:image/png;base64,')) return undefined;
      if (o.kind === 'svg' && !o.data.startsWith('<svg')) return undefined;
      return { type: 'export', kind: o.kind, name: o.name, data: o.data };
    }
    case 'copyKeys':
      if (!isInt(o.connection)) return undefined;
      return { type: 'copyKeys', connection: o.connection };
    case 'getConnections': case 'getFindings':
      if (!isInt(o.from)) return undefined;
      return { type: o.type, from: o.from };
    case 'setFilter': {
      const f = o.filter as Record<string, unknown> | undefined;
      if (typeof f !== 'object' || f === null) return undefined;
      const filter: Filter = {};
      if (f.connection !== undefined) { if (!isInt(f.connection)) return undefined; filter.connection = f.connection; }
      if (f.subflow !== undefined) { if (!isInt(f.subflow)) return undefined; filter.subflow = f.subflow; }
      if (f.subtype !== undefined) { if (!isInt(f.subtype, 0, 15)) return undefined; filter.subtype = f.subtype; }
      if (f.severity !== undefined) { if (!isInt(f.severity, 1, 3)) return undefined; filter.severity = f.severity; }
      if (f.findingsOnly !== undefined) { if (typeof f.findingsOnly !== 'boolean') return undefined; filter.findingsOnly = f.findingsOnly; }
      if (f.text !== undefined) { if (typeof f.text !== 'string' || f.text.length > 200) return undefined; if (f.text) filter.text = f.text; }
      return { type: 'setFilter', filter };
    }
    default:
      return undefined;
  }
}

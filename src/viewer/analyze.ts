/** The worker's pass over a capture for the viewer: index chunks as they come, then findings and connections. */
import { checkCapture } from '../analyze.ts';
import type { CheckerConfig } from '../check/checker.ts';
import type { Finding } from '../check/types.ts';
import type { MptcpConnection, PacketFacts } from '../mptcp/model.ts';
import { connectionJson } from '../format/summary.ts';
import { PacketIndex, type Columns } from './index.ts';
import type { ConnectionInfo } from './protocol.ts';
import { buildLadder, buildTimeline, type Ladder, type Timeline } from '../viz/model.ts';

/** Connections whose ladder and timeline are drawn at most. */
export const MAX_DIAGRAMS = 1000;

export interface ViewerAnalysisOptions {
  chunkSize?: number;
  config?: CheckerConfig;
  /** rows in chunks */
  onChunk(cols: Columns, n: number): void;
  onProgress?(packets: number, bytesRead: number, totalBytes: number): void;
  /** how the user raises the analysis' heap (AnalyzeOptions.memoryHint) */
  memoryHint?: string;
  /** false: every packet decoded for its row, none taken by the tracker's repeat lane (the tests compare the two) */
  repeatLane?: boolean;
}

export interface ViewerAnalysis {
  packets: number;
  /** ladder and timeline per connection (the first MAX_DIAGRAMS) */
  diagrams: Array<{ ladder: Ladder; timeline: Timeline }>;
  findings: Finding[];
  connections: ConnectionInfo[];
  problems: Array<{ offset: number; frame: number; message: string }>;
  suppressed: number;
}

/** What the viewer shows of each connection: a maker of its info, findings counted once for all. */
export function connectionInfoMaker(findings: Finding[]): (conn: MptcpConnection) => ConnectionInfo {
  // findings by connection in one pass (a busy capture has tens of thousands of each)
  const byConnection = new Map<number, Record<Finding['severity'], number>>();
  for (const f of findings) {
    if (f.connection === undefined) continue;
    let n = byConnection.get(f.connection);
    if (!n) byConnection.set(f.connection, (n = { error: 0, warning: 0, info: 0 }));
    n[f.severity]++;
  }
  return (conn) => {
    const c = connectionJson(conn);
    const counts = byConnection.get(c.id) ?? { error: 0, warning: 0, info: 0 };
    return {
      id: c.id, version: c.version, partial: c.partial, checksums: c.checksums, client: c.client, server: c.server, ended: c.ended, stats: c.stats,
      findings: counts,
      subflows: c.subflows.map((s, k) => {
        const j = conn.subflows[k].join;
        return { ...s, join: j ? { token: s.joinToken, nonceA: j.nonceA ?? null, nonceB: j.nonceB ?? null, initiatorSide: j.initiatorSide ?? null } : null };
      }),
    };
  };
}

/**
 * The pass's result in the analysis process: its connections' infos are made when asked for, all
 * (`connections`) or a slice at a time (`connectionSlices`, what the process sends): a busy capture's
 * connections, retired when memory ran short, do not all fit the heap again as objects at once.
 */
export interface ViewerPass extends ViewerAnalysis {
  connectionSlices(size: number): Generator<ConnectionInfo[]>;
}

export async function analyzeForViewer(input: { file: string; decompressInto?: string } | { bytes: Uint8Array; name: string }, opts: ViewerAnalysisOptions): Promise<ViewerPass> {
  const chunkSize = opts.chunkSize ?? 8192;
  const index = new PacketIndex(chunkSize);
  let lastFlush = Date.now();
  let bytesRead = 0;
  let totalBytes = 0;
  const flush = () => {
    if (index.count === 0) return;
    opts.onChunk(index.slice(0, index.count), index.count);
    // the index is only a staging area here: start it again
    index.count = 0;
    lastFlush = Date.now();
    opts.onProgress?.(total, bytesRead, totalBytes);
  };
  let total = 0;
  const row = (f: Parameters<PacketIndex['add']>[0], tcp: Parameters<PacketIndex['add']>[1], facts: PacketFacts) => {
    index.add(f, tcp, facts);
    total++;
    // first rows early, then in chunks
    if (index.count >= chunkSize || (total <= 1000 && index.count >= 100) || ((total & 1023) === 0 && Date.now() - lastFlush > 100)) flush();
  };
  const r = await checkCapture('file' in input ? { file: input.file, decompressInto: input.decompressInto } : { bytes: input.bytes, name: input.name }, opts.config ?? {}, {
    memoryHint: opts.memoryHint,
    keepConnections: MAX_DIAGRAMS,
    onProgress: (done, all) => { bytesRead = done; totalBytes = all; },
    onPacket: (f, facts) => row(f, f.tcp, facts),
    // a packet of the tracker's repeat lane: its row from its record, without decoding it
    onRepeat: opts.repeatLane === false ? undefined : (facts, rec, segment) => { row(rec, segment, facts); return true; },
  });
  flush();
  const info = connectionInfoMaker(r.findings);
  const conns = r.tracker.connections;
  return {
    packets: r.scan.packets,
    diagrams: conns.slice(0, MAX_DIAGRAMS).map((c) => ({ ladder: buildLadder(r.tracker, c, r.findings), timeline: buildTimeline(c) })),
    findings: r.findings,
    get connections() { return conns.map(info); },
    *connectionSlices(size: number) { for (let i = 0; i < conns.length; i += size) yield conns.slice(i, i + size).map(info); },
    problems: r.scan.problems,
    suppressed: [...r.suppressed.values()].reduce((a, b) => a + b, 0),
  };
}

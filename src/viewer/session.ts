/**
 * The host side of one open capture, without VS Code: the packet index, findings and connections
 * the worker produced, and the answers to the viewer's requests (filtered row pages, details).
 * Packet bytes are re-read from the capture by offset through `readBytes`.
 */
import type { Finding } from '../check/types.ts';
import { severityRank } from '../check/types.ts';
import { buildDetails } from './details.ts';
import { PacketIndex, type Columns } from './index.ts';
import type { ConnectionInfo, DetailNode, Filter } from './protocol.ts';
import type { Ladder, Timeline } from '../viz/model.ts';
import { dsnPlot, type DsnPlot } from '../viz/series.ts';
import { formatRow, redecode, rowText, type Row } from './rows.ts';

export type ByteReader = (offset: number, length: number) => Buffer;

export class CaptureSession {
  index = new PacketIndex();
  findings: Finding[] = [];
  findingsByFrame = new Map<number, Finding[]>();
  connections: ConnectionInfo[] = [];
  problems: Array<{ offset: number; frame: number; message: string }> = [];
  done = false;
  filter: Filter = {};
  filterId = 0;
  /** frame indices (0-based) that pass the filter, or null for all */
  private matches: Int32Array | null = null;
  private matchCount = 0;

  constructor(private readonly readBytes: ByteReader) {}

  /** Forgets everything, for a new analysis of the same capture. */
  reset(): void {
    this.index = new PacketIndex();
    this.findings = [];
    this.findingsByFrame.clear();
    this.connections = [];
    this.problems = [];
    this.diagrams = [];
    this.done = false;
    this.setFilter(this.filter);
  }

  /** Adds rows from the worker; `expected` is its estimate of the rows of the whole capture. */
  appendChunk(chunk: Columns, n: number, expected = 0): void {
    this.index.append(chunk, n, expected);
    if (this.matches) this.extendMatches(this.index.count - n);
  }

  /** Adds rows the worker wrote to an index file (see PacketIndex.writeChunk). */
  appendChunkFromFile(fd: number, position: number, n: number, expected = 0): void {
    this.index.appendFromFile(fd, position, n, expected);
    if (this.matches) this.extendMatches(this.index.count - n);
  }

  diagrams: Array<{ ladder: Ladder; timeline: Timeline }> = [];

  /** The diagrams of one connection: ladder and timeline from the analysis, the plot from the index. */
  viz(connection: number): { ladder: Ladder; timeline: Timeline; plot: DsnPlot } | undefined {
    const d = this.diagrams.find((x) => x.ladder.connection === connection);
    if (!d) return undefined;
    return { ...d, plot: dsnPlot(this.index, connection) };
  }

  finish(findings: Finding[], connections: ConnectionInfo[], problems: CaptureSession['problems'], diagrams: CaptureSession['diagrams'] = []): void {
    this.diagrams = diagrams;
    this.index.shrink();
    this.findings = findings;
    this.connections = connections;
    this.problems = problems;
    this.findingsByFrame.clear();
    for (const f of findings) {
      const l = this.findingsByFrame.get(f.frame);
      if (l) l.push(f); else this.findingsByFrame.set(f.frame, [f]);
      const i = f.frame - 1;
      if (i >= 0 && i < this.index.count) this.index.cols.severity[i] = Math.max(this.index.cols.severity[i], severityRank[f.severity]);
    }
    this.done = true;
    if (this.matches) this.setFilter(this.filter);
  }

  private bytesOf(i: number): Buffer {
    const c = this.index.cols;
    return this.readBytes(c.offset[i], c.caplen[i]);
  }

  firstTime(): number {
    const c = this.index.cols;
    return this.index.count ? c.tsSec[0] + c.tsNsec[0] / 1e9 : 0;
  }

  row(i: number): Row {
    return formatRow(this.index, i, this.bytesOf(i), this.firstTime());
  }

  /** How many rows pass the current filter. */
  total(): number {
    return this.matches ? this.matchCount : this.index.count;
  }

  setFilter(filter: Filter): number {
    this.filter = filter;
    this.filterId++;
    const empty = Object.keys(filter).length === 0;
    this.matches = empty ? null : new Int32Array(Math.max(1024, this.index.count));
    this.matchCount = 0;
    if (!empty) this.extendMatches(0);
    return this.filterId;
  }

  private passes(i: number): boolean {
    const f = this.filter;
    const c = this.index.cols;
    if (f.connection !== undefined && c.conn[i] !== f.connection) return false;
    if (f.subflow !== undefined && c.stream[i] !== f.subflow) return false;
    if (f.subtype !== undefined && !(c.subtypes[i] & (1 << f.subtype))) return false;
    if (f.findingsOnly && c.severity[i] === 0) return false;
    if (f.severity !== undefined && c.severity[i] < f.severity) return false;
    if (f.text && !rowText(this.row(i)).includes(f.text.toLowerCase())) return false;
    return true;
  }

  private extendMatches(from: number): void {
    for (let i = from; i < this.index.count; i++) {
      if (!this.passes(i)) continue;
      if (this.matchCount >= this.matches!.length) {
        const g = new Int32Array(this.matches!.length * 2);
        g.set(this.matches!);
        this.matches = g;
      }
      this.matches![this.matchCount++] = i;
    }
  }

  /** Rows [start, start+count) of the filtered list. */
  rows(start: number, count: number): Row[] {
    const out: Row[] = [];
    const total = this.total();
    for (let k = start; k < Math.min(total, start + count); k++) out.push(this.row(this.matches ? this.matches[k] : k));
    return out;
  }

  /** Position of a frame in the filtered list, or -1. */
  positionOf(frame: number): number {
    if (!this.matches) return frame - 1 < this.index.count ? frame - 1 : -1;
    for (let k = 0; k < this.matchCount; k++) if (this.matches[k] === frame - 1) return k;
    return -1;
  }

  details(frameNo: number): { tree: DetailNode[]; bytes: Buffer } {
    const i = frameNo - 1;
    const bytes = this.bytesOf(i);
    const { frame, options } = redecode(this.index, i, bytes);
    const c = this.index.cols;
    const conn = this.connections.find((x) => x.id === c.conn[i]);
    const nan = (v: number) => (Number.isNaN(v) ? undefined : String(v));
    const tree = buildDetails({
      frame, options, conn, side: c.side[i], subflow: c.stream[i],
      relDsn: nan(c.relDsn[i]), relAck: nan(c.relAck[i]), findings: this.findingsByFrame.get(frameNo) ?? [],
    });
    return { tree, bytes };
  }
}

/**
 * The host side of one open capture, without VS Code: the packet index, findings and connections
 * the worker produced, and the answers to the viewer's requests (filtered row pages, details).
 * Packet bytes are re-read from the capture by offset through `readBytes`, index pages from the
 * index file (PagedIndex): what the session holds does not grow with the capture, but for the
 * list of rows that pass a filter (4 bytes a row).
 */
import type { Finding } from '../check/types.ts';
import { severityRank } from '../check/types.ts';
import { buildDetails } from './details.ts';
import { PagedIndex, type Columns, type Page } from './index.ts';
import type { ConnectionInfo, DetailNode, Filter } from './protocol.ts';
import type { Ladder, Timeline } from '../viz/model.ts';
import { dsnPlot, type DsnPlot } from '../viz/series.ts';
import { formatRow, redecode, searchText, type Row } from './rows.ts';
import { ConnectionList } from './connections.ts';
import { streamTerms, type StreamTerms } from './filterText.ts';

export type ByteReader = (offset: number, length: number) => Buffer;

/** the most capture bytes the text filter reads at once (a page of rows of full-size frames) */
const MAX_SPAN = 32 * 2 ** 20;
/** rows a filter looks at in one go (a few tens of milliseconds), and what a row costs the text filter */
const SLICE_ROWS = 1_000_000;
const TEXT_ROW_COST = 50;

export class CaptureSession {
  index: PagedIndex;
  findings: Finding[] = [];
  /** the worst finding's severity rank by row (rows without findings are not in it) */
  private severities = new Map<number, number>();
  findingsByFrame = new Map<number, Finding[]>();
  /** the analysis' connections, once it is done (held deflated, a page unpacked at a time) */
  connections = new ConnectionList();
  problems: Array<{ offset: number; frame: number; message: string }> = [];
  done = false;
  filter: Filter = {};
  filterId = 0;
  /** frame indices (0-based) that pass the filter, or null for all */
  private matches: Int32Array | null = null;
  private matchCount = 0;
  /** rows the filter has looked at: a filter over many rows goes on in slices (see advance) */
  private scanned = 0;
  private pendingSlice: ReturnType<typeof setImmediate> | undefined;
  /**
   * Called when a filter that went on in the background has looked at more rows (and when it is
   * through): the host then tells the viewer the new count.
   */
  onFilterProgress: (() => void) | undefined;

  constructor(private readonly readBytes: ByteReader, private readonly cacheBytes?: number) {
    this.index = new PagedIndex(cacheBytes);
  }

  /** Forgets everything, for a new analysis of the same capture. */
  reset(): void {
    this.cancelSlice();
    this.index = new PagedIndex(this.cacheBytes);
    this.findings = [];
    this.findingsByFrame.clear();
    this.severities.clear();
    this.severityCounts = { error: 0, warning: 0, info: 0 };
    this.connections = new ConnectionList();
    this.arriving = new ConnectionList();
    this.problems = [];
    this.diagrams = [];
    this.first = undefined;
    this.done = false;
    this.setFilter(this.filter);
  }

  /** Adds rows the worker sent as columns. */
  appendChunk(chunk: Columns, n: number): void {
    this.index.appendColumns(chunk, n);
    if (this.matches && !this.pendingSlice) this.advance();
  }

  /** Adds rows the worker wrote to an index file (see PacketIndex.writeChunk). */
  appendChunkFromFile(fd: number, position: number, n: number): void {
    this.index.appendFromFile(fd, position, n);
    if (this.matches && !this.pendingSlice) this.advance();
  }

  diagrams: Array<{ ladder: Ladder; timeline: Timeline }> = [];

  /** The diagrams of one connection: ladder and timeline from the analysis, the plot from the index. */
  viz(connection: number): { ladder: Ladder; timeline: Timeline; plot: DsnPlot } | undefined {
    const d = this.diagrams.find((x) => x.ladder.connection === connection);
    if (!d) return undefined;
    return { ...d, plot: dsnPlot(this.index, connection) };
  }

  /** connections the analysis sent ahead of its end (a busy capture's do not fit one message) */
  private arriving = new ConnectionList();

  addConnections(connections: ConnectionInfo[]): void {
    this.arriving.push(connections);
  }

  /** The end of the analysis: its findings, its connections (after those added), problems and diagrams. */
  finish(findings: Finding[], connections: ConnectionInfo[], problems: CaptureSession['problems'], diagrams: CaptureSession['diagrams'] = []): void {
    this.diagrams = diagrams;
    this.findings = findings;
    this.arriving.push(connections);
    this.connections = this.arriving;
    this.arriving = new ConnectionList();
    this.problems = problems;
    this.findingsByFrame.clear();
    this.severities.clear();
    const counts = { error: 0, warning: 0, info: 0 };
    for (const f of findings) {
      counts[f.severity]++;
      const l = this.findingsByFrame.get(f.frame);
      if (l) l.push(f); else this.findingsByFrame.set(f.frame, [f]);
      const i = f.frame - 1;
      if (i >= 0 && i < this.index.count) this.severities.set(i, Math.max(this.severities.get(i) ?? 0, severityRank[f.severity]));
    }
    this.severityCounts = counts;
    this.done = true;
    if (this.matches) this.setFilter(this.filter);
  }

  /** findings by severity, counted once at the end of the analysis */
  severityCounts = { error: 0, warning: 0, info: 0 };

  private bytesOf(p: Page, i: number): Buffer {
    return this.readBytes(p.cols.offset[i - p.start], p.cols.caplen[i - p.start]);
  }

  private first: number | undefined;

  firstTime(): number {
    if (this.first === undefined && this.index.count) {
      const c = this.index.page(0).cols;
      this.first = c.tsSec[0] + c.tsNsec[0] / 1e9;
    }
    return this.first ?? 0;
  }

  /** The severity rank of row `i`'s worst finding, 0 for none. */
  severityOf(i: number): number {
    return this.severities.get(i) ?? 0;
  }

  row(i: number, p = this.index.page(i)): Row {
    return formatRow(p, i, this.bytesOf(p, i), this.firstTime(), this.severityOf(i));
  }

  /** How many rows pass the current filter. */
  total(): number {
    return this.matches ? this.matchCount : this.index.count;
  }

  /** the text filter, lower-cased ('' when the text is stream terms or none) */
  private needle = '';
  /** the connection and subflow a row must have: the lists' choice and the text's stream terms */
  private want: StreamTerms = { contradiction: false };

  setFilter(filter: Filter): number {
    this.cancelSlice();
    this.filter = filter;
    // `mptcp.stream == 5` and the like are answered from the index, not by decoding every row
    const terms = filter.text ? streamTerms(filter.text, filter) : undefined;
    this.needle = terms ? '' : (filter.text ?? '').toLowerCase();
    this.want = terms ?? { connection: filter.connection, subflow: filter.subflow, contradiction: false };
    this.filterId++;
    const empty = Object.keys(filter).length === 0;
    this.matches = empty ? null : new Int32Array(1024);
    this.matchCount = 0;
    this.scanned = 0;
    if (!empty) this.advance();
    return this.filterId;
  }

  /** True while the filter has rows left to look at (its count is not final yet). */
  filtering(): boolean {
    return this.matches !== null && this.scanned < this.index.count;
  }

  /**
   * Looks at the next rows for the filter, a slice at a time: what a slice may cost is counted in
   * rows (deterministic), a row the text filter must decode counting as many. The rest goes on
   * after the host's other work (setImmediate), so a filter over millions of rows never holds the
   * extension host for more than a slice.
   */
  private advance(): void {
    const budget = this.needle ? SLICE_ROWS / TEXT_ROW_COST : SLICE_ROWS;
    this.extendMatches(this.scanned, budget);
    if (this.filtering() && !this.pendingSlice) {
      this.pendingSlice = setImmediate(() => {
        this.pendingSlice = undefined;
        this.advance();
        this.onFilterProgress?.();
      });
    }
  }

  private cancelSlice(): void {
    if (this.pendingSlice) clearImmediate(this.pendingSlice);
    this.pendingSlice = undefined;
  }

  /** `span`: the capture's bytes under the page's rows, when the text filter read them at once */
  private passes(p: Page, i: number, span?: { at: number; bytes: Buffer }): boolean {
    const f = this.filter;
    const w = this.want;
    const c = p.cols;
    const j = i - p.start;
    if (w.contradiction) return false;
    if (w.connection !== undefined && c.conn[j] !== w.connection) return false;
    if (w.subflow !== undefined && c.stream[j] !== w.subflow) return false;
    if (f.subtype !== undefined && !(c.subtypes[j] & (1 << f.subtype))) return false;
    if (f.findingsOnly && this.severityOf(i) === 0) return false;
    if (f.severity !== undefined && this.severityOf(i) < f.severity) return false;
    if (this.needle) {
      const bytes = span ? span.bytes.subarray(c.offset[j] - span.at, c.offset[j] - span.at + c.caplen[j]) : this.bytesOf(p, i);
      if (!searchText(p, i, bytes).includes(this.needle)) return false;
    }
    return true;
  }

  /**
   * The capture's bytes under rows [from, to) of a page in one read, for the text filter (one read a
   * row was most of its time); undefined when they are out of order or too far apart.
   */
  private spanOf(p: Page, from: number, to: number): { at: number; bytes: Buffer } | undefined {
    const c = p.cols;
    const first = from - p.start;
    const last = to - 1 - p.start;
    if (last < first) return undefined;
    const at = c.offset[first];
    const end = c.offset[last] + c.caplen[last];
    if (end < at || end - at > MAX_SPAN) return undefined;
    for (let j = first + 1; j <= last; j++) if (c.offset[j] < c.offset[j - 1]) return undefined;
    const bytes = this.readBytes(at, end - at);
    return bytes.length === end - at ? { at, bytes } : undefined;
  }

  /** Looks at up to `budget` rows from `from`. */
  private extendMatches(from: number, budget: number): void {
    const stop = Math.min(this.index.count, from + budget);
    this.index.scan((p) => {
      const start = Math.max(from, p.start);
      const end = Math.min(stop, p.start + p.n);
      const span = this.needle ? this.spanOf(p, start, end) : undefined;
      for (let i = start; i < end; i++) {
        if (!this.passes(p, i, span)) continue;
        if (this.matchCount >= this.matches!.length) {
          const g = new Int32Array(this.matches!.length * 2);
          g.set(this.matches!);
          this.matches = g;
        }
        this.matches![this.matchCount++] = i;
      }
      return end < stop;
    }, from);
    this.scanned = Math.max(this.scanned, stop);
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
    const p = this.index.page(i);
    const bytes = this.bytesOf(p, i);
    const { frame, options } = redecode(p, i, bytes);
    const c = p.cols;
    const j = i - p.start;
    const conn = this.connections.get(c.conn[j]);
    const nan = (v: number) => (Number.isNaN(v) ? undefined : String(v));
    const tree = buildDetails({
      frame, options, conn, side: c.side[j], subflow: c.stream[j],
      relDsn: nan(c.relDsn[j]), relAck: nan(c.relAck[j]), findings: this.findingsByFrame.get(frameNo) ?? [],
    });
    return { tree, bytes };
  }
}

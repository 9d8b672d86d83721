/**
 * The compact per-packet index: typed columns, 76 bytes a packet. The analysis process builds it
 * (PacketIndex) and hands it over in chunks, through a temporary file or in messages; the
 * extension host keeps it as pages (PagedIndex): chunks that came in messages stay in memory,
 * chunks in the file are read back on demand into a cache of bounded size, so the host's memory
 * does not grow with the capture. Packet bytes are not kept either: rows and details are made again
 * from the capture by offset when the viewer asks.
 */
import * as fs from 'node:fs';
import type { PacketFacts } from '../mptcp/model.ts';
import type { DecodedFrame, TcpSegment } from '../wire/packet.ts';

/**
 * The columns, widest elements first: in a chunk's bytes every column then starts aligned for its
 * type whatever the chunk's row count, so a page read back from the file is one buffer with a view
 * per column.
 */
export const COLUMNS = {
  offset: Float64Array, tsSec: Float64Array, relAck: Float64Array, relDsn: Float64Array, relMapDsn: Float64Array,
  caplen: Uint32Array, origlen: Uint32Array, tsNsec: Uint32Array, stream: Int32Array, conn: Int32Array, payload: Uint32Array, reinjOf: Int32Array,
  linkType: Uint16Array, tcpFlags: Uint16Array, subtypes: Uint16Array,
  side: Int8Array, version: Int8Array,
} as const;

export type ColumnName = keyof typeof COLUMNS;
export type Columns = { [K in ColumnName]: InstanceType<(typeof COLUMNS)[K]> };
const NAMES = Object.keys(COLUMNS) as ColumnName[];

function allocColumns(n: number): Columns {
  const c = {} as Record<string, unknown>;
  for (const [k, T] of Object.entries(COLUMNS)) c[k] = new T(n);
  return c as Columns;
}

/** Views of the columns of `n` rows laid out as a chunk (each column's bytes in COLUMNS order). */
function viewColumns(buffer: ArrayBuffer, n: number): Columns {
  const c = {} as Record<string, unknown>;
  let at = 0;
  for (const [k, T] of Object.entries(COLUMNS)) { c[k] = new T(buffer, at, n); at += n * T.BYTES_PER_ELEMENT; }
  return c as Columns;
}

/** Bytes one packet takes in the index. */
export const BYTES_PER_PACKET = Object.values(COLUMNS).reduce((n, T) => n + T.BYTES_PER_ELEMENT, 0);

/** (v - base) mod 2^64 as a number (exact below 2^53, which relative sequence numbers are). */
const relNumber = (v: bigint, base: bigint) => Number(BigInt.asUintN(64, v - base));
/**
 * The last BigInt made relative: a repeated DSS hands the same Data ACK and mapping DSN to every
 * packet it is repeated on, and a mapping its DSN to every packet it covers, so one subtraction
 * serves them all.
 */
class RelCache {
  private v: bigint | undefined;
  private base: bigint | undefined;
  private rel = 0;
  of(v: bigint, base: bigint): number {
    if (v !== this.v || base !== this.base) { this.v = v; this.base = base; this.rel = relNumber(v, base); }
    return this.rel;
  }
}

/** Index rows in memory, as the analysis process builds them from packets. Frame N is row N-1. */
export class PacketIndex {
  count = 0;
  cols: Columns;
  private relAck = new RelCache();
  private relMapDsn = new RelCache();
  private relMapping = new RelCache();

  constructor(capacity = 4096) {
    this.cols = allocColumns(capacity);
  }

  /** Makes room for `min` rows (by half again). */
  private grow(min: number): void {
    let cap = this.cols.offset.length;
    if (cap >= min) return;
    while (cap < min) cap = Math.ceil(cap * 1.5);
    const next = allocColumns(cap);
    for (const k of NAMES) (next[k] as { set(a: ArrayLike<number>): void }).set(this.cols[k]);
    this.cols = next;
  }

  /**
   * A packet's row: `f` its decoded frame, or its record (a packet of the tracker's repeat lane,
   * not decoded), `tcp` its TCP segment's flags and payload length (null: not TCP).
   */
  add(f: Pick<DecodedFrame, 'dataOffset' | 'caplen' | 'origlen' | 'linkType' | 'tsSec' | 'tsNsec'>, tcp: Pick<TcpSegment, 'flags' | 'payloadLength'> | null, facts: PacketFacts): void {
    if (this.count >= this.cols.offset.length) this.grow(this.count + 1);
    const i = this.count++;
    const c = this.cols;
    const conn = facts.conn;
    const side = facts.side;
    c.offset[i] = f.dataOffset;
    c.caplen[i] = f.caplen;
    c.origlen[i] = f.origlen;
    c.linkType[i] = f.linkType;
    c.tsSec[i] = f.tsSec;
    c.tsNsec[i] = f.tsNsec;
    c.stream[i] = facts.stream !== null ? facts.stream.id : -1;
    c.conn[i] = conn !== null ? conn.id : -1;
    c.side[i] = side ?? -1;
    c.version[i] = conn !== null ? conn.version ?? -1 : -1;
    c.tcpFlags[i] = tcp !== null ? tcp.flags : 0;
    const options = facts.options;
    let mask = 0;
    for (let k = 0; k < options.length; k++) mask |= 1 << options[k].subtype;
    c.subtypes[i] = mask;
    c.payload[i] = tcp !== null ? tcp.payloadLength : 0;
    // values relative to the IDSNs, as numbers (no text on this per-packet path)
    if (conn !== null && side !== undefined) {
      const own = conn.idsns[side];
      const peer = conn.idsns[1 - side];
      c.relAck[i] = facts.dataAck !== undefined && peer !== undefined ? this.relAck.of(facts.dataAck, peer) : NaN;
      const m = facts.mapping;
      c.relDsn[i] = m !== undefined && own !== undefined ? this.relMapping.of(m.dsn, own) + facts.mappingOffset! : NaN;
      c.relMapDsn[i] = facts.mappingDsn !== undefined && own !== undefined ? this.relMapDsn.of(facts.mappingDsn, own) : NaN;
    } else {
      c.relAck[i] = NaN;
      c.relDsn[i] = NaN;
      c.relMapDsn[i] = NaN;
    }
    c.reinjOf[i] = facts.reinjectionOf ?? 0;
  }

  /** Rows [start, end) as standalone column copies (for posting from a worker). */
  slice(start: number, end: number): Columns {
    const out = {} as Record<string, unknown>;
    for (const k of NAMES) out[k] = this.cols[k].slice(start, end);
    return out as Columns;
  }

  /**
   * Writes rows as the chunk file format: each column's bytes in COLUMNS order. Returns the bytes
   * written (n × BYTES_PER_PACKET). The analysis process hands its index over this way, and the
   * extension host reads it back by page (PagedIndex).
   */
  static writeChunk(fd: number, position: number, chunk: Columns, n: number): number {
    let at = position;
    for (const k of NAMES) {
      const col = chunk[k];
      const bytes = new Uint8Array(col.buffer, col.byteOffset, n * col.BYTES_PER_ELEMENT);
      for (let done = 0; done < bytes.length;) done += fs.writeSync(fd, bytes, done, bytes.length - done, at + done);
      at += bytes.length;
    }
    return at - position;
  }
}

/** The transferable buffers of a column chunk. */
export function transferList(c: Columns): ArrayBuffer[] {
  return NAMES.map((k) => c[k].buffer as ArrayBuffer);
}

/** One page of a PagedIndex: rows [start, start + n), row i at cols[…][i - start]. */
export interface Page { cols: Columns; start: number; n: number }

interface PageEntry {
  start: number;
  n: number;
  /** where the chunk sits in the index file, or -1 for a chunk held in memory */
  position: number;
  /** the chunk held in memory (a chunk that came in a message) */
  cols: Columns | undefined;
}

/** Bytes of pages read back from the index file that a PagedIndex keeps by default. */
export const DEFAULT_PAGE_CACHE = 16 * 2 ** 20;

/**
 * The extension host's index: the rows of the whole capture as pages, in order. A page read from
 * the index file stays in a least-recently-used cache of at most `cacheBytes`; every other read
 * goes back to the file (the operating system's page cache makes that a copy). So what the host
 * holds for a capture of any size is the page table, the cache and the pages that came in messages.
 */
export class PagedIndex {
  count = 0;
  private entries: PageEntry[] = [];
  private cache = new Map<number, Columns>();
  private cachedBytes = 0;
  /** the page the last lookup found (scans and row pages go in order) */
  private last = -1;
  private fd: number | undefined;
  /** pages read from the file so far (for tests and the benchmark) */
  reads = 0;

  constructor(readonly cacheBytes = DEFAULT_PAGE_CACHE) {}

  /** Adds rows that came as columns in a message; they stay in memory. */
  appendColumns(cols: Columns, n: number): void {
    if (n <= 0) return;
    this.entries.push({ start: this.count, n, position: -1, cols });
    this.count += n;
  }

  /** Adds `n` rows that PacketIndex.writeChunk put at `position` of the file open as `fd`. */
  appendFromFile(fd: number, position: number, n: number): void {
    if (n <= 0) return;
    if (this.fd !== undefined && this.fd !== fd) throw new Error('an index reads one file');
    this.fd = fd;
    this.entries.push({ start: this.count, n, position, cols: undefined });
    this.count += n;
  }

  /** The page holding row `i` (0 ≤ i < count). */
  page(i: number): Page {
    const k = this.find(i);
    const entry = this.entries[k];
    return { cols: this.columnsOf(k, entry), start: entry.start, n: entry.n };
  }

  /** The number of the page holding row `i`. */
  private find(i: number): number {
    const e = this.entries;
    let k = this.last;
    if (k >= 0 && i >= e[k].start && i < e[k].start + e[k].n) return k;
    if (k >= 0 && k + 1 < e.length && i >= e[k + 1].start && i < e[k + 1].start + e[k + 1].n) return (this.last = k + 1);
    if (i < 0 || i >= this.count) throw new RangeError(`row ${i} is not in the index (${this.count} rows)`);
    let lo = 0;
    let hi = e.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (e[mid].start <= i) lo = mid; else hi = mid - 1;
    }
    return (this.last = lo);
  }

  /** One value of row `i`. */
  get<K extends ColumnName>(column: K, i: number): number {
    const p = this.page(i);
    return p.cols[column][i - p.start];
  }

  /** Visits the pages from the one holding row `from`, in order; stops when `visit` returns false. */
  scan(visit: (p: Page) => boolean | void, from = 0): void {
    if (from >= this.count) return;
    for (let k = this.find(from); k < this.entries.length; k++) {
      const entry = this.entries[k];
      // a scan reads through the cache without filling it (it would push out the pages on screen),
      // into one scratch buffer: the visitor does not keep the page
      const cols = entry.cols ?? this.cache.get(k) ?? this.read(entry, true);
      if (visit({ cols, start: entry.start, n: entry.n }) === false) return;
    }
  }

  private columnsOf(k: number, entry: PageEntry): Columns {
    if (entry.cols) return entry.cols;
    const hit = this.cache.get(k);
    if (hit) {
      this.cache.delete(k); // most recent last
      this.cache.set(k, hit);
      return hit;
    }
    const size = entry.n * BYTES_PER_PACKET;
    for (const [old, c] of this.cache) {
      if (this.cachedBytes + size <= this.cacheBytes || this.cache.size === 0) break;
      this.cache.delete(old);
      this.cachedBytes -= c.offset.length * BYTES_PER_PACKET;
      this.spare = c.offset.buffer as ArrayBuffer; // the next page read goes there
    }
    const cols = this.read(entry);
    this.cache.set(k, cols);
    this.cachedBytes += size;
    return cols;
  }

  /** an evicted page's buffer, and the scans' buffer: reused, so reading pages makes no garbage */
  private spare: ArrayBuffer | undefined;
  private scratch: ArrayBuffer | undefined;

  private read(entry: PageEntry, scratch = false): Columns {
    const size = entry.n * BYTES_PER_PACKET;
    let buffer: ArrayBuffer;
    if (scratch) {
      if (!this.scratch || this.scratch.byteLength < size) this.scratch = new ArrayBuffer(size);
      buffer = this.scratch;
    } else if (this.spare && this.spare.byteLength === size) {
      buffer = this.spare;
      this.spare = undefined;
    } else buffer = new ArrayBuffer(size);
    const target = new Uint8Array(buffer, 0, size);
    for (let done = 0; done < target.length;) {
      const got = fs.readSync(this.fd!, target, done, target.length - done, entry.position + done);
      if (got === 0) throw new Error(`index page at ${entry.position} cut short`);
      done += got;
    }
    this.reads++;
    return viewColumns(buffer, entry.n);
  }

  /** Bytes the index holds in memory: cached pages, spare buffers, pages from messages, the page table. */
  residentBytes(): number {
    let n = this.cachedBytes + this.entries.length * 48 + (this.spare?.byteLength ?? 0) + (this.scratch?.byteLength ?? 0);
    for (const e of this.entries) if (e.cols) n += e.n * BYTES_PER_PACKET;
    return n;
  }
}

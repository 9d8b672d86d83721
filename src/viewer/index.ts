/**
 * The compact per-packet index the extension host keeps: typed columns, about 70 bytes a packet,
 * built by the worker in one pass and sent in chunks. Packet bytes are not kept: rows and details
 * are made again from the file by offset when the viewer asks.
 */
import * as fs from 'node:fs';
import type { PacketFacts } from '../mptcp/model.ts';
import type { DecodedFrame } from '../wire/packet.ts';

export const COLUMNS = {
  offset: Float64Array, caplen: Uint32Array, origlen: Uint32Array, linkType: Uint16Array,
  tsSec: Float64Array, tsNsec: Uint32Array, stream: Int32Array, conn: Int32Array, side: Int8Array,
  version: Int8Array, tcpFlags: Uint16Array, subtypes: Uint16Array, payload: Uint32Array,
  relAck: Float64Array, relDsn: Float64Array, relMapDsn: Float64Array, reinjOf: Int32Array, severity: Uint8Array,
} as const;

export type ColumnName = keyof typeof COLUMNS;
export type Columns = { [K in ColumnName]: InstanceType<(typeof COLUMNS)[K]> };

function allocColumns(n: number): Columns {
  const c = {} as Record<string, unknown>;
  for (const [k, T] of Object.entries(COLUMNS)) c[k] = new T(n);
  return c as Columns;
}

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

/** Packet index columns, growing as packets arrive. Frame N is row N-1. */
export class PacketIndex {
  count = 0;
  cols: Columns;
  private relAck = new RelCache();
  private relMapDsn = new RelCache();
  private relMapping = new RelCache();

  constructor(capacity = 4096) {
    this.cols = allocColumns(capacity);
  }

  /**
   * Makes room for `min` rows. `expected`, the rows the whole capture is expected to hold, sizes
   * the columns once instead of growing them by half again and again (each growth copies all).
   */
  private grow(min: number, expected = 0): void {
    let cap = this.cols.offset.length;
    if (cap >= min) return;
    if (expected >= min) cap = Math.max(expected, Math.ceil(cap * 1.125));
    else while (cap < min) cap = Math.ceil(cap * 1.5);
    const next = allocColumns(cap);
    for (const k of Object.keys(COLUMNS) as ColumnName[]) (next[k] as { set(a: ArrayLike<number>): void }).set(this.cols[k]);
    this.cols = next;
  }

  add(f: DecodedFrame, facts: PacketFacts): void {
    this.grow(this.count + 1);
    const i = this.count++;
    const c = this.cols;
    c.offset[i] = f.dataOffset;
    c.caplen[i] = f.caplen;
    c.origlen[i] = f.origlen;
    c.linkType[i] = f.linkType;
    c.tsSec[i] = f.tsSec;
    c.tsNsec[i] = f.tsNsec;
    c.stream[i] = facts.stream ? facts.stream.id : -1;
    c.conn[i] = facts.conn ? facts.conn.id : -1;
    c.side[i] = facts.side ?? -1;
    c.version[i] = facts.conn?.version ?? -1;
    c.tcpFlags[i] = f.tcp?.flags ?? 0;
    let mask = 0;
    for (const o of facts.options) mask |= 1 << o.subtype;
    c.subtypes[i] = mask;
    c.payload[i] = f.tcp?.payloadLength ?? 0;
    // values relative to the IDSNs, as numbers (no text on this per-packet path)
    const conn = facts.conn;
    const side = facts.side;
    if (conn && side !== undefined) {
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
    c.severity[i] = 0;
  }

  /** Gives back the capacity beyond the rows (once no more arrive). */
  shrink(): void {
    // slack (the capture's size estimate is a few percent off) is cheaper than a second copy of everything
    if (this.cols.offset.length - this.count <= this.count / 4) return;
    const next = allocColumns(Math.max(1, this.count));
    for (const k of Object.keys(COLUMNS) as ColumnName[]) (next[k] as { set(a: ArrayLike<number>): void }).set(this.cols[k].subarray(0, this.count));
    this.cols = next;
  }

  /** Rows [start, end) as standalone column copies (for posting from a worker). */
  slice(start: number, end: number): Columns {
    const out = {} as Record<string, unknown>;
    for (const k of Object.keys(COLUMNS) as ColumnName[]) out[k] = this.cols[k].slice(start, end);
    return out as Columns;
  }

  /** Appends rows received as column copies. */
  append(chunk: Columns, n: number, expected = 0): void {
    this.grow(this.count + n, expected);
    for (const k of Object.keys(COLUMNS) as ColumnName[]) (this.cols[k] as { set(a: ArrayLike<number>, o: number): void }).set(chunk[k].subarray(0, n), this.count);
    this.count += n;
  }

  /**
   * Writes rows as the chunk file format: each column's bytes in COLUMNS order. Returns the bytes
   * written. (The analysis process hands its index over this way: the extension host then reads
   * the rows straight into its columns, with no message copies for the garbage collector.)
   */
  static writeChunk(fd: number, position: number, chunk: Columns, n: number): number {
    let at = position;
    for (const k of Object.keys(COLUMNS) as ColumnName[]) {
      const col = chunk[k];
      const bytes = new Uint8Array(col.buffer, col.byteOffset, n * col.BYTES_PER_ELEMENT);
      for (let done = 0; done < bytes.length;) done += fs.writeSync(fd, bytes, done, bytes.length - done, at + done);
      at += bytes.length;
    }
    return at - position;
  }

  /** Appends `n` rows that writeChunk put at `position` of the file `fd`. */
  appendFromFile(fd: number, position: number, n: number, expected = 0): void {
    this.grow(this.count + n, expected);
    let at = position;
    for (const k of Object.keys(COLUMNS) as ColumnName[]) {
      const col = this.cols[k];
      const size = col.BYTES_PER_ELEMENT;
      const target = new Uint8Array(col.buffer, col.byteOffset + this.count * size, n * size);
      for (let done = 0; done < target.length;) {
        const got = fs.readSync(fd, target, done, target.length - done, at + done);
        if (got === 0) throw new Error(`index chunk at ${at} cut short`);
        done += got;
      }
      at += target.length;
    }
    this.count += n;
  }

  /** Bytes one packet takes in the index. */
  static bytesPerPacket(): number {
    return Object.values(COLUMNS).reduce((n, T) => n + T.BYTES_PER_ELEMENT, 0);
  }

  /** Bytes the index holds (for the memory report). */
  byteSize(): number {
    let n = 0;
    for (const k of Object.keys(COLUMNS) as ColumnName[]) n += this.cols[k].byteLength;
    return n;
  }
}

/** The transferable buffers of a column chunk. */
export function transferList(c: Columns): ArrayBuffer[] {
  return (Object.keys(COLUMNS) as ColumnName[]).map((k) => c[k].buffer as ArrayBuffer);
}

/**
 * The compact per-packet index the extension host keeps: typed columns, about 70 bytes a packet,
 * built by the worker in one pass and sent in chunks. Packet bytes are not kept: rows and details
 * are made again from the file by offset when the viewer asks.
 */
import type { Mapping, PacketFacts } from '../mptcp/model.ts';
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
/** A mapping's DSN relative to the IDSN, worked out once per mapping and IDSN (a mapping covers many packets). */
const relCache = new WeakMap<Mapping, { base: bigint; rel: number }>();
function relMapping(m: Mapping, base: bigint): number {
  const hit = relCache.get(m);
  if (hit && hit.base === base) return hit.rel;
  const rel = relNumber(m.dsn, base);
  relCache.set(m, { base, rel });
  return rel;
}

/** Packet index columns, growing as packets arrive. Frame N is row N-1. */
export class PacketIndex {
  count = 0;
  cols: Columns;

  constructor(capacity = 4096) {
    this.cols = allocColumns(capacity);
  }

  private grow(min: number): void {
    let cap = this.cols.offset.length;
    if (cap >= min) return;
    while (cap < min) cap = Math.ceil(cap * 1.5);
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
      c.relAck[i] = facts.dataAck !== undefined && peer !== undefined ? relNumber(facts.dataAck, peer) : NaN;
      const m = facts.mapping;
      c.relDsn[i] = m !== undefined && own !== undefined ? relMapping(m, own) + facts.mappingOffset! : NaN;
      c.relMapDsn[i] = facts.mappingDsn !== undefined && own !== undefined ? relNumber(facts.mappingDsn, own) : NaN;
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
    if (this.cols.offset.length === this.count) return;
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
  append(chunk: Columns, n: number): void {
    this.grow(this.count + n);
    for (const k of Object.keys(COLUMNS) as ColumnName[]) (this.cols[k] as { set(a: ArrayLike<number>, o: number): void }).set(chunk[k].subarray(0, n), this.count);
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

import type { MptcpConnection, Side, TcpStream } from '../mptcp/model.ts';

export const hex64 = (v: bigint) => `0x${BigInt.asUintN(64, v).toString(16).padStart(16, '0')}`;
export const hex32 = (v: number) => `0x${(v >>> 0).toString(16).padStart(8, '0')}`;
export const hex16 = (v: number) => `0x${v.toString(16).padStart(4, '0')}`;

export const sideName = (s: Side | undefined) => (s === 0 ? 'client' : s === 1 ? 'server' : 'unknown side');

/** "subflow 2 (10.0.2.1:43413 -> 10.0.2.2:5201)" */
export function describeStream(s: TcpStream): string {
  const fmt = (a: string, p: number) => (a.includes(':') ? `[${a}]:${p}` : `${a}:${p}`);
  return `subflow ${s.id} (${fmt(s.a.addr, s.a.port)} -> ${fmt(s.b.addr, s.b.port)})`;
}

/** Rule state per object (a connection, a stream), created on first use. */
export class PerKey<K extends object, T> {
  private map = new Map<K, T>();
  // the last two keys asked for: packets of a few subflows interleave
  private k0: K | undefined;
  private v0: T | undefined;
  private k1: K | undefined;
  private v1: T | undefined;
  constructor(private readonly make: () => T) {}
  get(k: K): T {
    if (k === this.k0) return this.v0!;
    if (k === this.k1) { const v = this.v1!; this.k1 = this.k0; this.v1 = this.v0; this.k0 = k; this.v0 = v; return v; }
    let v = this.map.get(k);
    if (v === undefined) { v = this.make(); this.map.set(k, v); }
    this.k1 = this.k0; this.v1 = this.v0; this.k0 = k; this.v0 = v;
    return v;
  }
  entries() { return this.map.entries(); }
}

/** Per-connection state for a rule. */
export class PerConnection<T> extends PerKey<MptcpConnection, T> {}

/** Per-stream (subflow) state for a rule. */
export class PerStream<T> extends PerKey<TcpStream, T> {}

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

/** Per-connection state for a rule, created on first use. */
export class PerConnection<T> {
  private map = new Map<MptcpConnection, T>();
  constructor(private readonly make: () => T) {}
  get(c: MptcpConnection): T {
    let v = this.map.get(c);
    if (v === undefined) { v = this.make(); this.map.set(c, v); }
    return v;
  }
}

/** Per-stream state for a rule, created on first use. */
export class PerStream<T> {
  private map = new Map<TcpStream, T>();
  constructor(private readonly make: () => T) {}
  get(s: TcpStream): T {
    let v = this.map.get(s);
    if (v === undefined) { v = this.make(); this.map.set(s, v); }
    return v;
  }
  entries() { return this.map.entries(); }
}

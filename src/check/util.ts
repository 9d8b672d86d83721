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

/**
 * Rule state per connection or stream, created on first use. Kept by the key's id (streams and
 * connections are numbered densely from 0 within a tracker, and a rule sees one tracker's): an array
 * index, where a Map hashed its keys (a capture of 30,000 connections checks 2–3 % faster). Entries
 * come in the order their state was made.
 */
export class PerKey<K extends { id: number }, T> {
  private readonly values: Array<T | undefined> = [];
  private readonly order: K[] = [];
  constructor(private readonly make: () => T) {
    made?.push(this as unknown as PerKey<{ id: number }, unknown>);
  }
  get(k: K): T {
    const id = k.id;
    const values = this.values;
    let v = id < values.length ? values[id] : undefined;
    if (v === undefined) {
      // grown one by one, so that a far id never turns the array into a dictionary
      while (values.length <= id) values.push(undefined);
      v = this.make();
      values[id] = v;
      this.order.push(k);
    }
    return v;
  }
  /** the state of `k`, if made (and not let go) */
  peek(k: K): T | undefined {
    return k.id < this.values.length ? this.values[k.id] : undefined;
  }
  /** Lets go of the state of `k` (a retired stream or connection, which sees no more packets). */
  delete(k: K): void {
    if (k.id < this.values.length) this.values[k.id] = undefined;
  }
  *entries(): IterableIterator<[K, T]> {
    for (const k of this.order) {
      const v = this.values[k.id];
      if (v !== undefined) yield [k, v];
    }
  }
}

/**
 * Every PerKey made while `create` runs (the checker makes each rule's state this way, so that it
 * can let go of a retired stream's or connection's state in every rule).
 */
let made: Array<PerKey<{ id: number }, unknown>> | undefined;
export function collectPerKey<T>(create: () => T): { value: T; perKey: Array<PerKey<{ id: number }, unknown>> } {
  const outer = made;
  made = [];
  try {
    const value = create();
    return { value, perKey: made };
  } finally {
    made = outer;
  }
}

/** Per-connection state for a rule. */
export class PerConnection<T> extends PerKey<MptcpConnection, T> {}

/** Per-stream (subflow) state for a rule. */
export class PerStream<T> extends PerKey<TcpStream, T> {}

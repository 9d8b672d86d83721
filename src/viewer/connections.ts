/**
 * The connections of an analysis as the extension host keeps them: a page of 100 at a time as
 * deflated JSON, one page unpacked at a time. A busy capture's 30,000 connection summaries held as
 * objects took about 60 MiB of the extension host's memory; deflated they take a few.
 */
import * as zlib from 'node:zlib';
import type { ConnectionInfo } from './protocol.ts';

export const CONNECTIONS_PER_PAGE = 100;

export class ConnectionList {
  private readonly pages: Buffer[] = [];
  /** the page being filled, as objects */
  private tail: ConnectionInfo[] = [];
  private count = 0;
  private unpacked: { page: number; items: ConnectionInfo[] } | undefined;

  get length(): number {
    return this.count;
  }

  /**
   * Adds connections in id order (connection n is the nth added). An array, not spread arguments:
   * a capture's 200,000 would overflow the stack as arguments.
   */
  push(list: readonly ConnectionInfo[]): void {
    for (const c of list) {
      this.tail.push(c);
      this.count++;
      if (this.tail.length === CONNECTIONS_PER_PAGE) {
        this.pages.push(zlib.deflateRawSync(JSON.stringify(this.tail), { level: 1 }));
        this.tail = [];
      }
    }
  }

  private page(p: number): ConnectionInfo[] {
    if (p === this.pages.length) return this.tail;
    if (this.unpacked?.page !== p) this.unpacked = { page: p, items: JSON.parse(zlib.inflateRawSync(this.pages[p]).toString('utf8')) as ConnectionInfo[] };
    return this.unpacked.items;
  }

  /** Connection `id` (ids count from 0 in the order added), or undefined. */
  get(id: number): ConnectionInfo | undefined {
    if (!Number.isInteger(id) || id < 0 || id >= this.count) return undefined;
    return this.page(Math.floor(id / CONNECTIONS_PER_PAGE))[id % CONNECTIONS_PER_PAGE];
  }

  /** Connections [from, to), as Array.prototype.slice gives them. */
  slice(from: number, to = this.count): ConnectionInfo[] {
    const out: ConnectionInfo[] = [];
    const end = Math.min(to, this.count);
    for (let i = Math.max(0, from); i < end; i++) out.push(this.get(i)!);
    return out;
  }

  /** every connection (an export, a pick among all) */
  all(): ConnectionInfo[] {
    return this.slice(0);
  }
}

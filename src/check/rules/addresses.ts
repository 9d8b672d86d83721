import type { Rule } from '../types.ts';
import { addAddrHmac, type AddAddrHmac } from '../../mptcp/crypto.ts';
import type { AddressAnnouncement, MptcpConnection, Side } from '../../mptcp/model.ts';
import { hex64, PerConnection, sideName } from '../util.ts';
import { appendTight } from '../../mptcp/lists.ts';
import { TH_ACK, TH_SYN } from '../../wire/packet.ts';
import { CAPABLE_C } from '../../wire/mptcp.ts';

interface Binding { id: number; addr: string; frame: number }

interface IdState {
  /**
   * the addresses IDs name, per side, with the frame each was bound in: a short list (a
   * connection names a few addresses; a Map each cost a busy capture 29 MiB for 30,000)
   */
  bound: [Binding[], Binding[]];
  initialBound: boolean;
}

const newIdState = (): IdState => ({ bound: [[], []], initialBound: false });
const binding = (list: Binding[], id: number): Binding | undefined => {
  for (let i = 0; i < list.length; i++) if (list[i].id === id) return list[i];
  return undefined;
};

/**
 * Address IDs (one byte) per side, as bits: those a side announced or used. IDs 0–31 (what hosts
 * use: Linux numbers its endpoints from 1) in a number per side; the higher ones in words made
 * when first needed (a busy capture keeps one of these per connection).
 */
export class IdBits {
  private low0 = 1; // ID 0 (the initial subflow's address) on either side
  private low1 = 1;
  private high: Uint32Array | undefined; // IDs 32–255: side * 7 + (id >> 5) - 1
  add(side: Side, id: number): void {
    if (id < 32) { if (side === 0) this.low0 |= 1 << id; else this.low1 |= 1 << id; return; }
    (this.high ??= new Uint32Array(14))[side * 7 + (id >> 5) - 1] |= 1 << (id & 31);
  }
  has(side: Side, id: number): boolean {
    if (id < 32) return ((side === 0 ? this.low0 : this.low1) & (1 << id)) !== 0;
    return this.high !== undefined && (this.high[side * 7 + (id >> 5) - 1] & (1 << (id & 31))) !== 0;
  }
}

/**
 * Follows which address each address ID names, per host (RFC 8684 §3.4.1, §3.2): the initial
 * subflow's addresses are ID 0, ADD_ADDR and MP_JOIN bind others, REMOVE_ADDR releases them.
 */
function trackIds(ids: PerConnection<IdState>, conn: MptcpConnection, side: Side, id: number, addr: string, frame: number,
  onConflict: (prev: { addr: string; frame: number }) => void): void {
  const st = ids.get(conn);
  const prev = binding(st.bound[side], id);
  if (prev && prev.addr !== addr) onConflict(prev);
  else if (!prev) st.bound[side] = appendTight(st.bound[side], { id, addr, frame });
}

export const addressIdConflict: Rule = {
  meta: {
    id: 'address-id-conflict',
    description: 'One host uses one address ID for two addresses in a connection.',
    severity: 'warning',
    topic: 'addAddr',
  },
  create: (ctx) => {
    const ids = new PerConnection(newIdState);
    return {
      changesOnly: true,
      options: ['MP_JOIN', 'ADD_ADDR', 'REMOVE_ADDR'],
      packet({ frame, facts }) {
        const c = facts.conn;
        const s = facts.stream;
        const t = frame.tcp;
        if (!c || !s || !t || facts.side === undefined) return;
        const side = facts.side;
        const bind = (who: Side, id: number, addr: string) => trackIds(ids, c, who, id, addr, frame.frame, (prev) => {
          ctx.report({ frame: frame.frame, conn: c, stream: s, relatedFrames: [prev.frame],
            message: `the ${sideName(who)} uses address ID ${id} for ${addr}, but ID ${id} already names ${prev.addr} (frame ${prev.frame})` });
        });
        const syn = (t.flags & TH_SYN) !== 0;
        // state only for connections that signal addresses; the initial subflow's addresses are ID 0 (§3.4.1)
        const relevant = facts.options.some((o) => (o.kind === 'MP_JOIN' && syn) || o.kind === 'ADD_ADDR' || o.kind === 'REMOVE_ADDR');
        if (!relevant) return;
        const st = ids.get(c);
        if (!st.initialBound && c.initial) {
          st.initialBound = true;
          const f0 = c.initial.synFrame ?? c.initial.firstFrame;
          for (const who of [0, 1] as Side[]) {
            const addr = c.initialAddr[who];
            if (addr !== undefined && !binding(st.bound[who], 0)) st.bound[who] = appendTight(st.bound[who], { id: 0, addr, frame: f0 });
          }
        }
        for (const o of facts.options) {
          if (o.lengthProblem) continue;
          if (o.kind === 'MP_JOIN' && syn && o.addressId !== undefined) {
            bind(side, o.addressId, frame.src);
          } else if (o.kind === 'ADD_ADDR' && !(o.layout === 1 && o.echo) && o.addressId !== undefined && o.address !== undefined) {
            bind(side, o.addressId, o.address);
          } else if (o.kind === 'REMOVE_ADDR') {
            for (const id of o.addressIds) st.bound[side] = st.bound[side].filter((b) => b.id !== id);
          }
        }
      },
    };
  },
};

export const removeAddrUnknown: Rule = {
  meta: {
    id: 'remove-addr-unknown',
    description: 'REMOVE_ADDR of an address ID never announced or used.',
    severity: 'warning',
    topic: 'removeAddr',
  },
  create: (ctx) => {
    const known = new PerConnection(() => new IdBits());
    return {
      changesOnly: true,
      options: ['MP_JOIN', 'ADD_ADDR', 'REMOVE_ADDR'],
      packet({ frame, facts }) {
        const c = facts.conn;
        const t = frame.tcp;
        if (!c || !t || facts.side === undefined) return;
        if (!facts.options.some((o) => o.kind === 'MP_JOIN' || o.kind === 'ADD_ADDR' || o.kind === 'REMOVE_ADDR')) return;
        const k = known.get(c);
        const side = facts.side;
        for (const o of facts.options) {
          if (o.lengthProblem) continue;
          if (o.kind === 'MP_JOIN' && t.flags & TH_SYN && o.addressId !== undefined) k.add(side, o.addressId);
          else if (o.kind === 'ADD_ADDR' && !(o.layout === 1 && o.echo) && o.addressId !== undefined) k.add(side, o.addressId);
          else if (o.kind === 'REMOVE_ADDR' && !c.partial) {
            for (const id of o.addressIds) {
              if (!k.has(side, id)) {
                ctx.report({ frame: frame.frame, conn: c, stream: facts.stream,
                  message: `the ${sideName(facts.side)} removes address ID ${id}, which it never announced nor used for a subflow` });
              }
            }
          }
        }
      },
    };
  },
};

export const cFlagViolated: Rule = {
  meta: {
    id: 'c-flag-violated',
    description: 'A subflow opened to the source address of a peer that set the C flag.',
    severity: 'warning',
    topic: 'capable',
  },
  create: (ctx) => ({
    changesOnly: true,
    options: ['MP_JOIN'],
    packet({ frame, facts }) {
      const c = facts.conn;
      const s = facts.stream;
      const t = frame.tcp;
      if (!c || !s || !t || facts.side === undefined || !(t.flags & TH_SYN) || t.flags & TH_ACK) return;
      if (!facts.options.some((o) => o.kind === 'MP_JOIN' && !o.lengthProblem)) return;
      const peer = (1 - facts.side) as Side;
      const init = c.initial;
      if (!c.noNewSubflowsTo[peer] || !init) return;
      const peerEnd = init.sideOfA === peer ? init.a : init.b;
      if (frame.dst === peerEnd.addr && t.dstPort === peerEnd.port) {
        const flagged = init.capable.find((x) => x.option.flags & CAPABLE_C && (x.stage === 'syn' || x.stage === 'synack'));
        ctx.report({ frame: frame.frame, conn: c, stream: s, relatedFrames: flagged ? [flagged.frame] : [],
          message: `MP_JOIN to ${peerEnd.addr}:${peerEnd.port}, though the ${sideName(peer)} set the C flag (no new subflows to its source address)${flagged ? ` in frame ${flagged.frame}` : ''}` });
      }
    },
  }),
};

/**
 * the HMAC each announcement should carry, worked out once for the two rules that read it
 * (add-addr-hmac and add-addr-hmac-legacy: each computed it again, half of a busy capture's 60,000)
 */
const expectedHmacs = new WeakMap<AddressAnnouncement, { sender: bigint; receiver: bigint; hmac: AddAddrHmac }>();

/** Every v1 ADD_ADDR with an HMAC whose keys are known, with the HMAC it should carry. */
function* verifiableAnnouncements(connections: readonly MptcpConnection[]) {
  for (const c of connections) {
    if (c.version === 0) continue;
    for (const a of c.announcements) {
      const sender = c.keys[a.side];
      const receiver = c.keys[(1 - a.side) as Side];
      if (sender === undefined || receiver === undefined || a.hmac === undefined || !a.addressBytes) continue;
      // (with the keys it was worked out from, should a connection's keys be read again later)
      let known = expectedHmacs.get(a);
      if (known === undefined || known.sender !== sender || known.receiver !== receiver) {
        known = { sender, receiver, hmac: addAddrHmac(sender, receiver, a.id, a.addressBytes, a.port) };
        expectedHmacs.set(a, known);
      }
      yield { c, a, hmac: a.hmac, expected: known.hmac };
    }
  }
}

export const addAddrHmacRule: Rule = {
  meta: {
    id: 'add-addr-hmac',
    description: 'A v1 ADD_ADDR HMAC that does not verify.',
    severity: 'error',
    topic: 'addAddr',
  },
  create: (ctx) => ({
    end(end) {
      for (const { c, a, hmac, expected } of verifiableAnnouncements(end.connections)) {
        if (expected.rightmost === hmac || expected.leftmost === hmac) continue;
        ctx.report({ frame: a.frame, conn: c, stream: ctx.tracker.streams[a.stream],
          message: `ADD_ADDR of ${a.address}${a.port ? `:${a.port}` : ''} (ID ${a.id}) carries HMAC ${hex64(hmac)}; HMAC-SHA256 with the ${sideName(a.side)}'s key first gives ${hex64(expected.rightmost)}` });
      }
    },
  }),
};

export const addAddrHmacLegacy: Rule = {
  meta: {
    id: 'add-addr-hmac-legacy',
    description: 'The ADD_ADDR HMAC verifies only in the leftmost-64-bit form of early Linux.',
    severity: 'warning',
    topic: 'addAddr',
  },
  create: (ctx) => ({
    end(end) {
      for (const { c, a, hmac, expected } of verifiableAnnouncements(end.connections)) {
        if (expected.rightmost === hmac || expected.leftmost !== hmac) continue;
        ctx.report({ frame: a.frame, conn: c, stream: ctx.tracker.streams[a.stream],
          message: `ADD_ADDR of ${a.address} (ID ${a.id}) carries the leftmost 64 bits of its HMAC (${hex64(hmac)}), as early Linux did; RFC 8684 asks for the rightmost ${hex64(expected.rightmost)}` });
      }
    },
  }),
};

export const addAddrNotEchoed: Rule = {
  meta: {
    id: 'add-addr-not-echoed',
    description: 'A v1 ADD_ADDR the peer never echoes though the capture goes on.',
    severity: 'warning',
    topic: 'addAddr',
  },
  create: (ctx) => ({
    end(end) {
      for (const c of end.connections) {
        if (c.version === 0) continue;
        for (const a of c.announcements) {
          // the peer must have had the chance: it went on sending (a few segments) after the announcement
          const after = c.stats.sent[1 - a.side] - a.peerSentBefore;
          if (a.echoFrame !== undefined || after < 3) continue;
          ctx.report({ frame: a.frame, conn: c, stream: ctx.tracker.streams[a.stream],
            message: `the ${sideName((1 - a.side) as Side)} never echoes ADD_ADDR ${a.address}${a.port ? `:${a.port}` : ''} (ID ${a.id}), though it sent ${after} more segments` });
        }
      }
    },
  }),
};

export const addAddrEchoUnmatched: Rule = {
  meta: {
    id: 'add-addr-echo-unmatched',
    description: 'An ADD_ADDR echo of an address the peer never announced.',
    severity: 'warning',
    topic: 'addAddr',
  },
  create: (ctx) => ({
    end(end) {
      for (const c of end.connections) {
        if (c.partial) continue;
        for (const e of c.echoes) {
          if (e.matched) continue;
          ctx.report({ frame: e.frame, conn: c, stream: ctx.tracker.streams[e.stream],
            message: `the ${sideName(e.side)} echoes ADD_ADDR ${e.address}${e.port ? `:${e.port}` : ''} (ID ${e.id}), which the ${sideName((1 - e.side) as Side)} never announced` });
        }
      }
    },
  }),
};

import type { PacketEvent, Rule } from '../types.ts';
import { TCPRST_REASONS } from '../../wire/mptcp.ts';
import { describeStream, hex64, sideName } from '../util.ts';
import { TH_RST } from '../../wire/packet.ts';
import type { Side } from '../../mptcp/model.ts';

export const fastcloseKey: Rule = {
  meta: {
    id: 'fastclose-key',
    description: "An MP_FASTCLOSE key that is not the receiver's key.",
    severity: 'error',
    topic: 'fastclose',
  },
  create: (ctx) => ({
    changesOnly: true,
    options: ['MP_FASTCLOSE'],
    packet({ frame, facts }) {
      const c = facts.conn;
      if (!c || facts.side === undefined) return;
      const receiver = (1 - facts.side) as Side;
      const key = c.keys[receiver];
      for (const o of facts.options) {
        if (o.kind !== 'MP_FASTCLOSE' || o.receiverKey === undefined || key === undefined) continue;
        if (o.receiverKey !== key) {
          const obs = c.keyObservations.find((k) => k.side === receiver);
          ctx.report({ frame: frame.frame, conn: c, stream: facts.stream, relatedFrames: obs ? [obs.frame] : [],
            message: `MP_FASTCLOSE from the ${sideName(facts.side)} carries key ${hex64(o.receiverKey)}, but the ${sideName(receiver)}'s key is ${hex64(key)}` });
        }
      }
    },
  }),
};

/**
 * The first reset of a join subflow that never carried a DSS (the join was refused during or
 * right after its handshake), and not part of a fast close: reported by join-rejected, not tcprst.
 */
export function isJoinRejection(e: PacketEvent): boolean {
  const s = e.facts.stream;
  if (!s?.join || s.rstFrame !== e.frame.frame) return false;
  if (e.facts.options.some((o) => o.kind === 'MP_FASTCLOSE')) return false;
  return !s.dssSeen;
}

export const tcprst: Rule = {
  meta: {
    id: 'tcprst',
    description: 'A subflow reset (MP_TCPRST) and its reason.',
    severity: 'info',
    topic: 'tcprst',
  },
  create: (ctx) => ({
    changesOnly: true,
    options: ['MP_TCPRST'],
    packet(e) {
      const { frame, facts } = e;
      if (!facts.stream || !frame.tcp || !(frame.tcp.flags & TH_RST)) return;
      const rst = facts.options.find((o) => o.kind === 'MP_TCPRST');
      if (!rst || rst.kind !== 'MP_TCPRST' || isJoinRejection(e)) return;
      const reason = rst.reason !== undefined ? `reason ${rst.reason} (${TCPRST_REASONS[rst.reason] ?? 'unassigned'})` : 'no reason';
      const fc = facts.options.some((o) => o.kind === 'MP_FASTCLOSE');
      ctx.report({ frame: frame.frame, conn: facts.conn, stream: facts.stream,
        message: `${describeStream(facts.stream)} reset by the ${sideName(facts.side)}: ${reason}${rst.flags & 1 ? ', transient' : ''}${fc ? ', with MP_FASTCLOSE' : ''}` });
    },
  }),
};

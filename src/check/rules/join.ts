import type { Rule } from '../types.ts';
import { joinHmacAck, joinHmacSynAck } from '../../mptcp/crypto.ts';
import type { MptcpConnection, TcpStream } from '../../mptcp/model.ts';
import { TCPRST_REASONS } from '../../wire/mptcp.ts';
import { describeStream, hex32, hex64, PerStream } from '../util.ts';
import { TH_RST } from '../../wire/packet.ts';
import { isJoinRejection } from './closing.ts';

export const joinUnknownToken: Rule = {
  meta: {
    id: 'join-unknown-token',
    description: 'An MP_JOIN SYN token matches no connection in the capture.',
    severity: 'warning',
    topic: 'join',
  },
  create: (ctx) => ({
    end(end) {
      for (const c of end.connections) {
        if (c.createdBy !== 'join') continue;
        const s = c.subflows[0];
        const token = s?.join?.token;
        if (!s || token === undefined) continue;
        ctx.report({
          frame: s.join!.synFrame ?? s.firstFrame, conn: c, stream: s,
          message: `MP_JOIN SYN names token ${hex32(token)}, which no MP_CAPABLE key in the capture derives`,
        });
      }
    },
  }),
};

/** The frames where each side's key was first seen as its own. */
function keyFrames(c: MptcpConnection): number[] {
  return [0, 1].map((side) => c.keyObservations.find((k) => k.side === side && k.as === 'sender')?.frame).filter((x): x is number => x !== undefined);
}

interface JoinKeys { keyA: bigint; keyB: bigint; version: number }

function joinKeys(c: MptcpConnection | null, s: TcpStream): JoinKeys | undefined {
  const j = s.join;
  if (!c || !j || j.initiatorSide === undefined) return undefined;
  const keyA = c.keys[j.initiatorSide];
  const keyB = c.keys[(1 - j.initiatorSide) as 0 | 1];
  if (keyA === undefined || keyB === undefined || c.version === undefined) return undefined;
  return { keyA, keyB, version: c.version };
}

/** Every join subflow whose both keys and both nonces are known, with its keys. */
function* verifiableJoins(streams: readonly TcpStream[]) {
  for (const s of streams) {
    const j = s.join;
    if (!j || j.nonceA === undefined || j.nonceB === undefined) continue;
    const k = joinKeys(s.conn, s);
    if (k) yield { s, j, k, nonceA: j.nonceA, nonceB: j.nonceB, conn: s.conn! };
  }
}

export const joinHmacSynAckRule: Rule = {
  meta: {
    id: 'join-hmac-synack',
    description: "The MP_JOIN SYN/ACK's truncated HMAC does not verify.",
    severity: 'error',
    topic: 'join',
  },
  create: (ctx) => ({
    end(end) {
      for (const { s, j, k, nonceA, nonceB, conn } of verifiableJoins(end.streams)) {
        if (j.truncatedHmac === undefined) continue;
        const expected = joinHmacSynAck(k.version, k.keyA, k.keyB, nonceA, nonceB);
        if (expected === j.truncatedHmac) continue;
        ctx.report({
          frame: j.synAckFrame!, conn, stream: s, relatedFrames: [j.synFrame, ...keyFrames(conn)].filter((x): x is number => x !== undefined),
          message: `the SYN/ACK's truncated HMAC is ${hex64(j.truncatedHmac)}; HMAC-${k.version === 0 ? 'SHA1' : 'SHA256'}(Key-B‖Key-A, R-B‖R-A) gives ${hex64(expected)} (Key-A ${hex64(k.keyA)}, Key-B ${hex64(k.keyB)}, R-A ${hex32(nonceA)}, R-B ${hex32(nonceB)})`,
        });
      }
    },
  }),
};

export const joinHmacAckRule: Rule = {
  meta: {
    id: 'join-hmac-ack',
    description: "The MP_JOIN third ACK's HMAC does not verify.",
    severity: 'error',
    topic: 'join',
  },
  create: (ctx) => ({
    end(end) {
      for (const { s, j, k, nonceA, nonceB, conn } of verifiableJoins(end.streams)) {
        if (!j.hmac) continue;
        const expected = joinHmacAck(k.version, k.keyA, k.keyB, nonceA, nonceB);
        if (expected.equals(j.hmac)) continue;
        ctx.report({
          frame: j.ackFrame!, conn, stream: s, relatedFrames: [j.synFrame, j.synAckFrame, ...keyFrames(conn)].filter((x): x is number => x !== undefined),
          message: `the third ACK's HMAC is ${j.hmac.toString('hex')}; HMAC-${k.version === 0 ? 'SHA1' : 'SHA256'}(Key-A‖Key-B, R-A‖R-B) gives ${expected.toString('hex')}`,
        });
      }
    },
  }),
};

/** A subflow handshake that never completes (RFC 8684 §3.2). */
export const joinIncomplete: Rule = {
  meta: {
    id: 'join-incomplete',
    description: 'A subflow handshake that never completes: no SYN/ACK, no third ACK, or no ACK of it before data.',
    severity: 'warning',
    topic: 'join',
  },
  create: (ctx) => {
    const st = new PerStream(() => ({ ackFromB: false, dataBeforeAck: 0 }));
    return {
      // a join's packets from its third ACK until the peer answers are never quiet (PacketFacts.handshake)
      changesOnly: true,
      lane: (facts) => facts.stream?.join?.ackFrame !== undefined,
      packet({ frame, facts }) {
        const s = facts.stream;
        const j = s?.join;
        if (!s || !j || j.ackFrame === undefined) return;
        const x = st.get(s);
        const fromA = facts.dir === 0; // the MP_JOIN SYN's sender is the stream's first endpoint
        if (frame.frame === j.ackFrame) return;
        // settled once B has answered or A sent data first: the rest of the subflow's packets change
        // nothing, and their headers are not read (a lane packet's frame is decoded when they are)
        if (x.ackFromB || x.dataBeforeAck) return;
        const t = frame.tcp;
        if (!t) return;
        if (!fromA) x.ackFromB = true;
        else if (t.payloadLength > 0) x.dataBeforeAck = frame.frame;
      },
      end(end) {
        // at a retirement, the retired streams' state; at the end, the rest
        const states = end.final ? [...st.entries()] : end.streams.flatMap((s) => { const x = st.peek(s); return x ? [[s, x] as const] : []; });
        for (const [s, x] of states) {
          if (x.dataBeforeAck && !s.rstFrame) {
            ctx.report({ frame: x.dataBeforeAck, conn: s.conn, stream: s, relatedFrames: [s.join!.ackFrame!],
              message: `${describeStream(s)} sends data before its third ACK (frame ${s.join!.ackFrame}) was acknowledged` });
          }
        }
        for (const s of end.streams) {
          const j = s.join;
          if (!j || j.synFrame === undefined || s.rstFrame !== undefined) continue;
          if (j.synAckFrame === undefined) {
            ctx.report({ frame: j.synFrame, conn: s.conn, stream: s, message: `${describeStream(s)}: the MP_JOIN SYN was never answered by an MP_JOIN SYN/ACK` });
          } else if (j.ackFrame === undefined) {
            ctx.report({ frame: j.synAckFrame, conn: s.conn, stream: s, relatedFrames: [j.synFrame], message: `${describeStream(s)}: the MP_JOIN SYN/ACK was never followed by a third ACK with the HMAC` });
          }
        }
      },
    };
  },
};

export const joinRejected: Rule = {
  meta: {
    id: 'join-rejected',
    description: 'A join answered by a reset; the MP_TCPRST reason in words.',
    severity: 'info',
    topic: 'tcprst',
  },
  create: (ctx) => ({
    changesOnly: true,
    // it judges RSTs, which the repeat lane never takes
    lane: false,
    packet({ frame, facts, data }) {
      const s = facts.stream;
      const j = s?.join;
      if (!s || !j || !frame.tcp || !(frame.tcp.flags & TH_RST)) return;
      if (!isJoinRejection({ frame, facts, data })) return;
      const rst = facts.options.find((o) => o.kind === 'MP_TCPRST');
      const reason = rst && rst.kind === 'MP_TCPRST' && rst.reason !== undefined
        ? `MP_TCPRST reason ${rst.reason} (${TCPRST_REASONS[rst.reason] ?? 'unassigned'})${rst.flags & 1 ? ', transient' : ''}`
        : 'no MP_TCPRST reason';
      ctx.report({
        frame: frame.frame, conn: facts.conn, stream: s, relatedFrames: [j.synFrame].filter((x): x is number => x !== undefined),
        topic: rst ? 'tcprst' : 'join',
        message: `${describeStream(s)}: the join was reset by the ${facts.dir === 0 ? 'initiator' : 'peer'}: ${reason}`,
      });
    },
  }),
};

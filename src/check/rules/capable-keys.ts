import type { KeyObservation, MptcpConnection } from '../../mptcp/model.ts';
import type { EndContext, Rule } from '../types.ts';
import { hex64, sideName } from '../util.ts';

/**
 * Compares every key observation of a connection with the first key seen for that side:
 * a changed key on a retransmitted SYN or SYN/ACK is capable-key-changed; a key in the third ACK
 * or first data segment that differs (as sender or as echo) is capable-key-mismatch.
 */
function keyCheck(conn: MptcpConnection, onDiff: (o: KeyObservation, ref: KeyObservation) => void): void {
  const ref: [KeyObservation | undefined, KeyObservation | undefined] = [undefined, undefined];
  // in frame order already (the tracker adds each at its packet): not copied and sorted again, which
  // a busy capture paid twice for each of its connections
  for (const o of conn.keyObservations) {
    const r = ref[o.side];
    if (!r) { ref[o.side] = o; continue; }
    if (r.key !== o.key) onDiff(o, r);
  }
}

const stageName = { syn: 'SYN', synack: 'SYN/ACK', ack: 'third ACK', data: 'first data segment', fastclose: 'MP_FASTCLOSE' } as const;

export const capableKeyMismatch: Rule = {
  meta: {
    id: 'capable-key-mismatch',
    description: 'A key in the MP_CAPABLE third ACK (or first data packet) differs from the key that side sent before, or from the peer key it echoes.',
    severity: 'error',
    topic: 'capable',
  },
  create: (ctx) => ({
    end(end: EndContext) {
      for (const conn of end.connections) {
        keyCheck(conn, (o, r) => {
          if (o.stage !== 'ack' && o.stage !== 'data') return;
          const whose = o.as === 'echo' ? `the echoed ${sideName(o.side)} key` : `the ${sideName(o.side)}'s own key`;
          ctx.report({
            frame: o.frame, conn, stream: conn.initial,
            relatedFrames: [r.frame],
            message: `${whose} in the ${stageName[o.stage]} is ${hex64(o.key)}, but the ${sideName(o.side)} sent ${hex64(r.key)} in its ${stageName[r.stage]} (frame ${r.frame})`,
          });
        });
      }
    },
  }),
};

export const capableKeyChanged: Rule = {
  meta: {
    id: 'capable-key-changed',
    description: 'A retransmitted SYN or SYN/ACK carries a different MP_CAPABLE key.',
    severity: 'warning',
    topic: 'capable',
  },
  create: (ctx) => ({
    end(end) {
      for (const conn of end.connections) {
        keyCheck(conn, (o, r) => {
          if (o.stage !== 'syn' && o.stage !== 'synack') return;
          ctx.report({
            frame: o.frame, conn, stream: conn.initial, relatedFrames: [r.frame],
            message: `the retransmitted ${stageName[o.stage]} carries key ${hex64(o.key)}; the first one (frame ${r.frame}) carried ${hex64(r.key)}`,
          });
        });
      }
    },
  }),
};

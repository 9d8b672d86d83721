import type { Rule } from '../types.ts';
import { CAPABLE_H } from '../../wire/mptcp.ts';
import { TH_ACK } from '../../wire/packet.ts';

export const capableAlgorithm: Rule = {
  meta: {
    id: 'capable-algorithm',
    description: 'MP_CAPABLE with no HMAC algorithm flag, or only unknown ones (the v1 C flag is not an algorithm bit).',
    severity: 'error',
    topic: 'capable',
  },
  create: (ctx) => ({
    changesOnly: true,
    options: ['MP_CAPABLE'],
    packet({ frame, facts }) {
      for (const o of facts.options) {
        if (o.kind !== 'MP_CAPABLE' || o.length < 4 || o.truncated) continue;
        // v1: D..H (0x1f) are algorithm bits, C is "no new subflows"; v0: C..H (0x3f).
        const algBits = o.flags & (o.version === 0 ? 0x3f : 0x1f);
        const name = o.version === 0 ? 'HMAC-SHA1' : 'HMAC-SHA256';
        let msg: string | undefined;
        if (algBits === 0) msg = `MP_CAPABLE flags 0x${o.flags.toString(16).padStart(2, '0')} select no HMAC algorithm (H, ${name}, is the only one defined)`;
        else if (!(algBits & CAPABLE_H)) msg = `MP_CAPABLE flags 0x${o.flags.toString(16).padStart(2, '0')} offer only unknown algorithm bits, not H (${name})`;
        else if (frame.tcp!.flags & TH_ACK && algBits !== CAPABLE_H) msg = `MP_CAPABLE flags 0x${o.flags.toString(16).padStart(2, '0')} after the SYN must select exactly one algorithm, but set unknown bits besides H`;
        if (msg) ctx.report({ frame: frame.frame, conn: facts.conn, stream: facts.stream, message: msg });
      }
    },
  }),
};

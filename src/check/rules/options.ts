import type { Rule } from '../types.ts';
import { SUBTYPE_NAMES } from '../../wire/mptcp.ts';

export const optionLength: Rule = {
  meta: {
    id: 'option-length',
    description: 'An MPTCP option whose length does not fit its subtype, version, flags or the TCP header.',
    severity: 'error',
    topic: 'errors',
  },
  create: (ctx) => ({
    changesOnly: true,
    // the repeat lane's one MPTCP option is a well-formed DSS inside the TCP header
    lane: false,
    packet({ frame, facts }) {
      const t = frame.tcp;
      if (!t) return;
      const hdrEnd = t.offset + t.headerLength;
      for (const ref of t.mptcpOptions) {
        if (ref.length < 3) {
          ctx.report({ frame: frame.frame, conn: facts.conn, stream: facts.stream, message: `MPTCP option with length ${ref.length}, shorter than its 3-byte header` });
        } else if (ref.offset + ref.length > hdrEnd) {
          ctx.report({ frame: frame.frame, conn: facts.conn, stream: facts.stream, message: `MPTCP option of length ${ref.length} runs ${ref.offset + ref.length - hdrEnd} bytes past the end of the TCP header` });
        }
      }
      for (const o of facts.options) {
        if (o.lengthProblem && o.length >= 3 && o.offset + o.length <= hdrEnd) {
          ctx.report({ frame: frame.frame, conn: facts.conn, stream: facts.stream,
            topic: o.kind === 'MP_CAPABLE' ? 'capable' : o.kind === 'MP_JOIN' ? 'join' : o.kind === 'DSS' ? 'dss' : o.kind === 'ADD_ADDR' ? 'addAddr' : 'errors',
            message: `${o.lengthProblem} (${SUBTYPE_NAMES[o.subtype] ?? `subtype ${o.subtype}`} at TCP option offset ${o.offset - t.offset - 20})` });
        }
      }
    },
  }),
};

export const optionUnknown: Rule = {
  meta: {
    id: 'option-unknown',
    description: 'An unknown MPTCP subtype (0xf, experimental: info).',
    severity: 'warning',
    topic: 'iana',
  },
  create: (ctx) => ({
    changesOnly: true,
    options: ['UNKNOWN', 'MP_EXPERIMENTAL'],
    packet({ frame, facts }) {
      for (const o of facts.options) {
        if (o.kind === 'UNKNOWN' && o.length >= 3) {
          ctx.report({ frame: frame.frame, conn: facts.conn, stream: facts.stream, message: `unknown MPTCP subtype 0x${o.subtype.toString(16)} (not assigned by IANA)` });
        } else if (o.kind === 'MP_EXPERIMENTAL') {
          ctx.report({ frame: frame.frame, conn: facts.conn, stream: facts.stream, severity: 'info', message: 'MPTCP experimental subtype 0xf (private use)' });
        }
      }
    },
  }),
};

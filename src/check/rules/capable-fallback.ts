import type { Rule } from '../types.ts';
import { PerStream } from '../util.ts';
import { TH_ACK, TH_FIN, TH_RST, TH_SYN } from '../../wire/packet.ts';
import { DSS_MAPPING, type MptcpOption } from '../../wire/mptcp.ts';

const hasCapable = (options: readonly MptcpOption[]) => options.some((o) => o.kind === 'MP_CAPABLE');

/** Fallback to regular TCP (RFC 8684 §3.7; RFC 6824 §3.6). */
export const capableFallback: Rule = {
  meta: {
    id: 'capable-fallback',
    description: 'The connection fell back to TCP: no MP_CAPABLE in the SYN/ACK or third ACK, an infinite mapping, or MPTCP options stop.',
    severity: 'info',
    topic: 'fallback',
  },
  create: (ctx) => {
    const st = new PerStream(() => ({ synAckCapable: 0, thirdAckChecked: false, reported: false, finSeen: false }));
    return {
      // what it judges on a quiet packet is the third ACK, and the answer to a SYN/ACK is never quiet
      changesOnly: true,
      // A lane packet (one DSS; no SYN, FIN or RST; data without options is not one) can only be an
      // infinite mapping or the answer to an MP_CAPABLE SYN/ACK not judged yet (the lane takes no
      // packet of a handshake, so that is judged before: this only keeps it exact). Its headers are
      // then not decoded.
      lane: (facts) => {
        const o = facts.options.length === 1 ? facts.options[0] : undefined;
        if (o === undefined || (o.kind === 'DSS' && o.flags & DSS_MAPPING && o.dataLevelLength === 0)) return true;
        const x = facts.stream ? st.peek(facts.stream) : undefined;
        return x !== undefined && !x.reported && x.synAckCapable !== 0 && !x.thirdAckChecked;
      },
      packet({ frame, facts }) {
        const s = facts.stream;
        const t = frame.tcp;
        if (!s || !t) return;
        // only streams that offered or use MPTCP can fall back
        if (!s.conn && s.capable.length === 0) return;
        const x = st.get(s);
        if (x.reported) return;
        const flags = t.flags;
        // the direction's last DSS again, no SYN, FIN or RST, the third ACK already judged: nothing
        // below can fire (that DSS was looked at when first seen; data without options needs none)
        const rep = facts.repeatedDss?.option;
        if (rep !== undefined && facts.options.length === 1 && facts.options[0] === rep && (flags & (TH_SYN | TH_FIN | TH_RST)) === 0
            && (x.thirdAckChecked || !x.synAckCapable) && !(rep.flags & DSS_MAPPING && rep.dataLevelLength === 0)) return;
        if (flags & TH_FIN || flags & TH_RST) x.finSeen = true;
        if (flags & TH_SYN && flags & TH_ACK) {
          if (hasCapable(facts.options)) x.synAckCapable = frame.frame;
          else if (s.capable.some((c) => c.stage === 'syn')) {
            x.reported = true;
            const syn = s.capable.find((c) => c.stage === 'syn')!;
            ctx.report({ frame: frame.frame, conn: facts.conn, stream: s, relatedFrames: [syn.frame], topic: 'capable',
              message: `the SYN offered MP_CAPABLE (frame ${syn.frame}) but the SYN/ACK carries none: the connection continues as regular TCP` });
          }
          return;
        }
        // the first segment from the client after an MP_CAPABLE SYN/ACK must repeat MP_CAPABLE (§3.1)
        if (x.synAckCapable && !x.thirdAckChecked && !(flags & TH_SYN) && facts.dir === (s.capable.find((c) => c.stage === 'synack')!.dir === 0 ? 1 : 0)) {
          x.thirdAckChecked = true;
          if (!hasCapable(facts.options) && !(flags & TH_RST)) {
            x.reported = true;
            ctx.report({ frame: frame.frame, conn: facts.conn, stream: s, relatedFrames: [x.synAckCapable], topic: 'capable',
              message: 'the third ACK carries no MP_CAPABLE after an MP_CAPABLE SYN/ACK: the connection fell back to regular TCP' });
            return;
          }
        }
        for (const o of facts.options) {
          if (o.kind === 'DSS' && o.dataLevelLength === 0 && o.flags & DSS_MAPPING && !o.lengthProblem) {
            x.reported = true;
            ctx.report({ frame: frame.frame, conn: facts.conn, stream: s, topic: 'fallback',
              message: `an infinite mapping (DSS with data-level length 0, DSN ${o.dsn}) falls back to regular TCP at the data level` });
            return;
          }
        }
        // data that no mapping covers, on a subflow that was using MPTCP, before any FIN
        if (facts.conn && s.lastMptcpFrame !== undefined && facts.options.length === 0 && t.payloadLength > 0
            && !x.finSeen && facts.dsn === undefined && s.isn[facts.dir] !== undefined && s.mappings[facts.dir].length > 0) {
          x.reported = true;
          ctx.report({ frame: frame.frame, conn: facts.conn, stream: s, relatedFrames: [s.lastMptcpFrame], topic: 'fallback',
            message: `${t.payloadLength} bytes of data with no MPTCP option and no mapping covering them: MPTCP options stopped, the subflow fell back to regular TCP` });
        }
      },
    };
  },
};

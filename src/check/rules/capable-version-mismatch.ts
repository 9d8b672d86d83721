import type { Rule } from '../types.ts';

export const capableVersionMismatch: Rule = {
  meta: {
    id: 'capable-version-mismatch',
    description: 'The MPTCP versions in the SYN, SYN/ACK and third ACK disagree (a downgrade both peers then agree on is info).',
    severity: 'warning',
    topic: 'capable',
  },
  create: (ctx) => ({
    end(end) {
      for (const s of end.streams) {
        if (s.capable.length === 0) continue;
        const syn = s.capable.find((c) => c.stage === 'syn');
        const synack = s.capable.find((c) => c.stage === 'synack');
        const acks = s.capable.filter((c) => c.stage === 'ack' || c.stage === 'data');
        const conn = s.conn;
        if (syn && synack && synack.option.version !== syn.option.version) {
          const downgrade = synack.option.version < syn.option.version;
          const agreed = downgrade && acks.every((a) => a.option.version === synack.option.version);
          ctx.report({
            frame: synack.frame, conn, stream: s, relatedFrames: [syn.frame],
            severity: agreed ? 'info' : 'warning',
            message: downgrade
              ? `the SYN offered version ${syn.option.version}, the SYN/ACK answered version ${synack.option.version}${agreed ? '; the client agreed (a downgrade)' : ''}`
              : `the SYN/ACK answers version ${synack.option.version}, higher than the SYN's version ${syn.option.version}`,
          });
        }
        const negotiated = synack?.option.version ?? syn?.option.version;
        if (negotiated === undefined) continue;
        for (const a of acks) {
          if (a.option.version !== negotiated) {
            ctx.report({
              frame: a.frame, conn, stream: s, relatedFrames: [synack?.frame ?? syn!.frame],
              message: `the ${a.stage === 'ack' ? 'third ACK' : 'first data segment'} carries version ${a.option.version}, but version ${negotiated} was negotiated`,
            });
            break;
          }
        }
      }
    },
  }),
};

import type { Rule } from '../types.ts';
import { CAPABLE_A, DSS_MAPPING, dssLength } from '../../wire/mptcp.ts';

export const checksumMissing: Rule = {
  meta: {
    id: 'checksum-missing',
    description: 'Checksums were negotiated (A flag) but a mapping carries none.',
    severity: 'error',
    topic: 'mapping',
  },
  create: (ctx) => ({
    changesOnly: true,
    options: ['DSS', 'MP_CAPABLE'],
    packet({ frame, facts }) {
      const c = facts.conn;
      if (!c || !c.checksumRequired) return;
      for (const o of facts.options) {
        if (o.lengthProblem || o.truncated) continue;
        const missing =
          (o.kind === 'DSS' && (o.flags & DSS_MAPPING) !== 0 && o.length === dssLength(o.flags))
          || (o.kind === 'MP_CAPABLE' && o.length === 22 && c.version !== 0);
        if (missing) {
          const first = c.initial?.capable.find((x) => x.option.flags & CAPABLE_A);
          ctx.report({
            frame: frame.frame, conn: c, stream: facts.stream, relatedFrames: first ? [first.frame] : [],
            message: `${o.kind === 'DSS' ? `DSS mapping (length ${o.length})` : 'MP_CAPABLE with data'} carries no checksum, though checksums were negotiated (A flag${first ? ` in frame ${first.frame}` : ''})`,
          });
        }
      }
    },
  }),
};

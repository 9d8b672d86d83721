import type { Rule } from '../types.ts';
import { hex32 } from '../util.ts';

export const tokenCollision: Rule = {
  meta: {
    id: 'token-collision',
    description: 'Two connections in the capture derive the same token.',
    severity: 'warning',
    topic: 'capable',
  },
  create: (ctx) => ({
    end(end) {
      // collisions across the whole capture: said once, at its end
      if (!end.final) return;
      for (const c of ctx.tracker.tokenCollisions) {
        const conns = c.conns.map((id) => ctx.tracker.connections[id]);
        ctx.report({
          frame: c.frame, conn: conns[conns.length - 1], relatedFrames: conns.map((x) => x.firstFrame),
          message: `token ${hex32(c.token)} is derived by connections ${c.conns.join(' and ')}: a join naming it is ambiguous`,
        });
      }
    },
  }),
};

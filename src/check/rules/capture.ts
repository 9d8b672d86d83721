import type { Rule } from '../types.ts';
import { describeStream } from '../util.ts';
import type { MptcpConnection } from '../../mptcp/model.ts';
import { RAISE_HEAP } from '../../mptcp/tracker.ts';

export const handshakeNotCaptured: Rule = {
  meta: {
    id: 'handshake-not-captured',
    description: 'Keys unknown, so key-based checks were skipped (says which).',
    severity: 'info',
    topic: 'capable',
  },
  create: (ctx) => ({
    end(end) {
      for (const c of end.connections) {
        if (c.keys[0] !== undefined && c.keys[1] !== undefined) continue;
        const skipped: string[] = [];
        const joins = c.subflows.filter((s) => s.join && (s.join.truncatedHmac !== undefined || s.join.hmac));
        if (joins.length) skipped.push(`MP_JOIN HMACs of ${joins.map((s) => `subflow ${s.id}`).join(', ')}`);
        if (c.announcements.some((a) => a.hmac !== undefined)) skipped.push('ADD_ADDR HMACs');
        if (c.events.some((e) => e.option.kind === 'MP_FASTCLOSE')) skipped.push('the MP_FASTCLOSE key');
        if (c.keyObservations.length) skipped.push('the key echo');
        skipped.push('DSN and Data ACK relative to the IDSN');
        const missing = c.keys[0] === undefined && c.keys[1] === undefined ? 'neither key' : `only the ${c.keys[0] !== undefined ? 'client' : 'server'}'s key`;
        const s = c.subflows[0];
        ctx.report({ frame: c.firstFrame, conn: c, stream: s,
          message: `connection ${c.id}${s ? ` (first seen on ${describeStream(s)})` : ''}: the capture holds ${missing}, so these checks were skipped: ${skipped.join('; ')}` });
      }
    },
  }),
};

export const captureTruncated: Rule = {
  meta: {
    id: 'capture-truncated',
    description: 'The snaplen cut what a check needed (says which check).',
    severity: 'info',
    topic: 'mapping',
  },
  create: (ctx) => {
    const cut = new Map<MptcpConnection | null, { first: number; count: number }>();
    let optionsCut: { first: number; count: number } | undefined;
    return {
      changesOnly: true,
      // the repeat lane's options are wholly captured
      lane: (facts) => facts.checksumCut !== undefined,
      packet({ frame, facts }) {
        if (facts.checksumCut) {
          const x = cut.get(facts.conn);
          if (x) x.count++;
          else cut.set(facts.conn, { first: frame.frame, count: 1 });
        }
        if (facts.options.some((o) => o.truncated)) {
          if (optionsCut) optionsCut.count++;
          else optionsCut = { first: frame.frame, count: 1 };
        }
      },
      end(end) {
        // counts over the whole capture (a few numbers per connection): said once, at its end
        if (!end.final || !end.scan) return;
        for (const [conn, x] of cut) {
          ctx.report({ frame: x.first, conn, topic: 'mapping',
            message: `the snaplen (${end.scan.snaplen}) cut the mapped data of ${x.count} mapping${x.count > 1 ? 's' : ''}: their DSS checksums were not verified (dss-checksum)` });
        }
        if (optionsCut) {
          ctx.report({ frame: optionsCut.first, topic: 'option',
            message: `the snaplen cut MPTCP options in ${optionsCut.count} frame${optionsCut.count > 1 ? 's' : ''}: those options were decoded as far as their bytes go (option-length and key checks skipped)` });
        }
      },
    };
  },
};

export const trackingLimit: Rule = {
  meta: {
    id: 'tracking-limit',
    description: 'More TCP streams than the tracker keeps, or than memory holds: finished connections were checked early and let go, the rest decoded but not tracked or checked (says how many).',
    severity: 'info',
    topic: 'option',
  },
  create: (ctx) => ({
    end(end) {
      if (!end.final) return;
      const u = ctx.tracker.untracked;
      const r = ctx.tracker.retired;
      if (!u && !r) return;
      const n = (x: number) => x.toLocaleString('en-US');
      const mib = (b: number) => n(Math.round(b / 2 ** 20));
      const parts: string[] = [];
      if (r) {
        parts.push(`${u ? `from frame ${n(r.firstFrame)} on, ` : ''}${n(r.connections)} finished MPTCP connection${r.connections === 1 ? '' : 's'} and ${n(r.streams)} TCP stream${r.streams === 1 ? '' : 's'} in all were checked early and let go${r.packets ? ` (${n(r.packets)} later packet${r.packets === 1 ? '' : 's'} of theirs counted, not tracked)` : ''}`);
      }
      if (u && u.packets > 0) {
        parts.push(`${u.streamsAtLeast ? 'at least ' : ''}${n(u.streams)} more (${n(u.packets)} packets, the first at this frame) were decoded but not tracked or checked`);
      }
      if (u?.halted) {
        parts.push(`from frame ${n(u.halted.frame)} on (heap ${mib(u.halted.used)} MiB) no stream was tracked: ${n(u.halted.packets)} TCP packets were decoded only`);
      }
      if (u?.heap || r?.heap) parts.push(ctx.tracker.limits.heap?.raise ?? RAISE_HEAP);
      const head = u?.heap
        ? `memory ran short after ${n(u.limit)} TCP streams (JavaScript heap ${mib(u.heap.used)} of its ${mib(u.heap.limit)} MiB)`
        : u ? `the capture holds more than ${n(u.limit)} TCP streams`
        : r!.heap ? `memory ran short at this frame (JavaScript heap ${mib(r!.heap.used)} of its ${mib(r!.heap.limit)} MiB)`
        : `more than ${n(r!.streamLimit!)} TCP streams at once at this frame`;
      const related = [...(u && r ? [r.firstFrame] : []), ...(u?.halted ? [u.halted.frame] : [])];
      ctx.report({ frame: u ? u.firstFrame : r!.firstFrame, relatedFrames: related.length ? related : undefined, message: `${head}: ${parts.join('; ')}` });
    },
  }),
};

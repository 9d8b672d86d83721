import type { Rule } from '../types.ts';
import { hex16, PerConnection, PerStream, sideName } from '../util.ts';
import { ACK_MAX_FRAME, ACK_MAX_TIME, recentMappingsStart, type DssCache, type Mapping, type PacketFacts, type Side } from '../../mptcp/model.ts';
import { DSS_MAPPING } from '../../wire/mptcp.ts';
import { widen32 } from '../../mptcp/tracker.ts';
import { appendTight, emptyObjects } from '../../mptcp/lists.ts';

export const dssChecksumRule: Rule = {
  meta: {
    id: 'dss-checksum',
    description: 'A DSS checksum that does not match its mapped data (verified only when the whole mapping was captured).',
    severity: 'error',
    topic: 'mapping',
  },
  create: (ctx) => ({
    changesOnly: true,
    lane: (facts) => facts.checksumResults.length !== 0,
    packet({ facts }) {
      for (const m of facts.checksumResults) {
        if (m.verified!.ok) continue;
        const last = m.verified!.frames[1];
        ctx.report({
          frame: m.frame, conn: facts.conn, stream: facts.stream, relatedFrames: last !== m.frame ? [last] : [],
          message: `DSS checksum ${hex16(m.checksum!)} does not match the ${m.length} mapped bytes at DSN ${m.dsn} (subflow sequence ${m.ssn}): computed ${hex16(m.verified!.computed)}`,
        });
      }
    },
  }),
};

/** the most a mapping may start after the end of the one before and still be in order (mapping-conflict) */
const IN_ORDER_GAP = 1 << 24;
/** the mappings mapping-conflict keeps per direction to compare a new one with (its own ring, not the tracker's MAX_MAPPINGS) */
const KEPT_MAPPINGS = 64;
const newRecent = () => ({ items: emptyObjects<Mapping>(), head: 0, count: 0, lastEnd: 0, outOfOrderAt: -1 });

export const mappingConflict: Rule = {
  meta: {
    id: 'mapping-conflict',
    description: 'Overlapping mappings give the same subflow bytes different data sequence numbers.',
    severity: 'error',
    topic: 'mapping',
  },
  create: (ctx) => {
    // the last KEPT_MAPPINGS mappings per direction, oldest first from `head` (a ring: no shifting per
    // mapping); `count` mappings kept so far, the last one's end, and when the last mapping out of
    // order (or empty) was kept
    const seen = new PerStream(() => [newRecent(), newRecent()]);
    return {
      changesOnly: true,
      // a new mapping comes with a DSS, or with the MP_CAPABLE of the first data (v1)
      options: ['DSS', 'MP_CAPABLE'],
      packet({ frame, facts }) {
        const s = facts.stream;
        if (!s || !facts.conn) return;
        const list = s.mappings[facts.dir];
        const m = list[list.length - 1];
        if (!m || m.frame !== frame.frame || !m.dsnKnown) return;
        const earlier = seen.get(s)[facts.dir];
        const n = earlier.items.length;
        // A mapping that starts at the end of the one before or a little after it, when every kept
        // mapping did so too and none is empty, overlaps none of them: a transfer's every new
        // mapping, compared with KEPT_MAPPINGS before (the kept ones span less than 2^31 bytes, so the test
        // below would find no overlap either).
        const gap = (m.ssn - earlier.lastEnd) | 0;
        const inOrder = n > 0 && gap >= 0 && gap < IN_ORDER_GAP;
        if (!inOrder || earlier.outOfOrderAt >= earlier.count - n) {
          for (let k = 0; k < n; k++) {
            const x = earlier.items[(earlier.head + k) % n];
            if (!x.dsnKnown) continue;
            const overlap = ((m.ssn - x.ssn) >>> 0) < x.length || ((x.ssn - m.ssn) >>> 0) < m.length;
            if (!overlap) continue;
            const shift = BigInt(((m.ssn - x.ssn) | 0));
            if (x.dsn + shift !== m.dsn) {
              ctx.report({
                frame: frame.frame, conn: facts.conn, stream: s, relatedFrames: [x.frame],
                message: `mapping of subflow bytes ${m.ssn}..${(m.ssn + m.length - 1) >>> 0} to DSN ${m.dsn} overlaps the mapping of frame ${x.frame}, which puts subflow byte ${m.ssn} at DSN ${x.dsn + shift}`,
              });
              break;
            }
          }
        }
        if (m.length === 0 || (n > 0 && !inOrder)) earlier.outOfOrderAt = earlier.count;
        earlier.count++;
        earlier.lastEnd = (m.ssn + m.length) >>> 0;
        if (n < KEPT_MAPPINGS) earlier.items = appendTight(earlier.items, m);
        else { earlier.items[earlier.head] = m; earlier.head = (earlier.head + 1) % KEPT_MAPPINGS; }
      },
    };
  },
};

/** How long a Data ACK must stay the highest before a lower one counts as a regression. */
const REGRESSION_GRACE_SECONDS = 0.001;

export const dataAckRegression: Rule = {
  meta: {
    id: 'data-ack-regression',
    description: 'A Data ACK moving backwards on a subflow.',
    severity: 'warning',
    topic: 'dataAck',
  },
  // Linux sends bursts of ACKs whose Data ACKs were read concurrently and may be out of order by a
  // few microseconds; a lower Data ACK within REGRESSION_GRACE_SECONDS of the last packet that
  // carried the highest is such a burst, not a connection going backwards. The tracker keeps the
  // high-water mark (TcpStream.dataAckMax) and marks a packet below it (never a quiet one).
  create: (ctx) => ({
    changesOnly: true,
    // a Data ACK comes with a DSS
    options: ['DSS'],
    packet({ frame, facts }) {
      const s = facts.stream;
      if (!s || !facts.dataAckBelow || facts.dataAck === undefined) return;
      const high = s.dataAckMax[facts.dir]!;
      const at = facts.dir * 3;
      const highFrame = s.dataAckMaxSeen[at + ACK_MAX_FRAME];
      const time = frame.tsSec + frame.tsNsec / 1e9;
      const since = time - s.dataAckMaxSeen[at + ACK_MAX_TIME];
      if (since > REGRESSION_GRACE_SECONDS) {
        ctx.report({ frame: frame.frame, conn: facts.conn, stream: s, relatedFrames: [highFrame],
          message: `Data ACK ${facts.dataAck} is below the ${high} this subflow already acknowledged in frame ${highFrame}, ${(since * 1000).toFixed(1)} ms before (by ${high - facts.dataAck} bytes)` });
      }
    },
  }),
};

/** slots of data-ack-unsent's table of repeated DSSs found within what the peer mapped (a power of two) */
const WITHIN_SLOTS = 512;

export const dataAckUnsent: Rule = {
  meta: {
    id: 'data-ack-unsent',
    description: 'A Data ACK beyond all data the peer sent, where its sending was fully captured.',
    severity: 'error',
    topic: 'dataAck',
  },
  create: (ctx) => {
    // Data ACKs that passed what the peer had mapped when they were seen; judged at the end,
    // since captures on several interfaces may show an ACK before the data it acknowledges.
    const candidates = new PerConnection(() => [[], []] as [Array<{ ack: bigint; frame: number; stream: number }>, Array<{ ack: bigint; frame: number; stream: number }>]);
    const touched = new Set<import('../../mptcp/model.ts').MptcpConnection>();
    // per side of the connection, as fields (a busy capture keeps one of these per connection)
    const idsnPlus1 = new PerConnection(() => ({ idsn0: undefined as bigint | undefined, plus10: 0n, idsn1: undefined as bigint | undefined, plus11: 0n }));
    // whether the packet's Data ACK is within what the peer mapped when it was seen (true), or was
    // noted as a candidate, or is not judged (false)
    const judge = (facts: PacketFacts, frame: number): boolean => {
      const c = facts.conn;
      if (!c || facts.dataAck === undefined || facts.side === undefined || c.partial || !facts.stream) return false;
      const peer = (1 - facts.side) as Side;
      const idsn = c.idsns[peer];
      if (idsn === undefined) return false;
      let limit = c.sentEnd[peer];
      if (limit === undefined) {
        // no data mapped yet: the limit is IDSN + 1, worked out once, not per packet
        const p1 = idsnPlus1.get(c);
        if (peer === 0) { if (p1.idsn0 !== idsn) { p1.idsn0 = idsn; p1.plus10 = idsn + 1n; } limit = p1.plus10; }
        else { if (p1.idsn1 !== idsn) { p1.idsn1 = idsn; p1.plus11 = idsn + 1n; } limit = p1.plus11; }
      }
      if (facts.dataAck <= limit) return true;
      const list = candidates.get(c)[facts.side];
      // a Data ACK repeated on the next segments adds nothing: the first of them is the candidate
      if (list.length < 1000 && (list.length === 0 || list[list.length - 1].ack !== facts.dataAck)) {
        list.push({ ack: facts.dataAck, frame, stream: facts.stream.id });
        touched.add(c);
      }
      return false;
    };
    // The repeated DSS last found within what the peer mapped, by stream and direction in a table
    // of 512 slots, and its connection's ackLimitChanges then: its repeats (the same Data ACK, on the
    // same connection and side) are found so again while that count stands, without the 64-bit
    // comparisons. A slot is one stream direction's unless two share it (a busy capture): then the
    // DSS is not the slot's and is judged. Bounded: per stream it kept 50 MB of closed streams'
    // DSS caches alive in the 30,000-connection capture.
    const withinDss: Array<DssCache | undefined> = new Array(WITHIN_SLOTS).fill(undefined);
    const withinAt = new Float64Array(WITHIN_SLOTS).fill(-1);
    return {
      packet: ({ frame, facts }) => { judge(facts, frame.frame); },
      repeat: (facts, frame) => {
        const dss = facts.repeatedDss;
        const s = facts.stream;
        const c = facts.conn;
        if (dss === undefined || s === null || c === null) { judge(facts, frame); return; }
        const slot = (s.id * 2 + facts.dir) & (WITHIN_SLOTS - 1);
        const changes = c.ackLimitChanges;
        if (withinDss[slot] === dss && withinAt[slot] === changes) return;
        if (!judge(facts, frame)) return;
        withinDss[slot] = dss;
        withinAt[slot] = changes;
      },
      end(end) {
        // at a retirement, the retired connections' candidates (then let go); at the end, the rest
        const scope = end.final ? [...touched] : end.connections.filter((c) => touched.has(c));
        if (!end.final) for (const c of scope) touched.delete(c);
        for (const c of scope) {
          // fully captured: every subflow seen from its SYN, and the peer's mapped data has no hole
          if (c.subflows.some((s) => s.synFrame === undefined)) continue;
          for (const side of [0, 1] as Side[]) {
            const peer = (1 - side) as Side;
            const idsn = c.idsns[peer];
            // the keys may have been re-derived for another version since the candidates were seen
            if (idsn === undefined || !candidates.get(c)[side].length) continue;
            const mapped = c.mapped[peer];
            let limit = c.sentEnd[peer] ?? idsn + 1n;
            const fin = c.dataFin[peer];
            if (fin && fin.dsn + 1n > limit) limit = fin.dsn + 1n;
            if (mapped && (mapped.overflowed || mapped.ranges.length > 1 || (mapped.ranges.length === 1 && mapped.ranges[0][0] > idsn + 1n))) continue;
            const first = candidates.get(c)[side].find((x) => x.ack > limit);
            if (!first) continue;
            ctx.report({ frame: first.frame, conn: c, stream: ctx.tracker.streams[first.stream],
              message: `the ${sideName(side)} acknowledges data up to DSN ${first.ack}, but the ${sideName(peer)} mapped data only up to ${limit} in the whole capture (${first.ack - limit} bytes more than it sent)` });
          }
        }
      },
    };
  },
};

export const dataAfterDataFin: Rule = {
  meta: {
    id: 'data-after-data-fin',
    description: 'Data mapped beyond the DATA_FIN.',
    severity: 'error',
    topic: 'dataFin',
  },
  create: (ctx) => ({
    changesOnly: true,
    // a new mapping comes with a DSS, or with the MP_CAPABLE of the first data (v1)
    options: ['DSS', 'MP_CAPABLE'],
    packet({ frame, facts }) {
      const c = facts.conn;
      const s = facts.stream;
      if (!c || !s || facts.side === undefined) return;
      const fin = c.dataFin[facts.side];
      if (!fin) return;
      const list = s.mappings[facts.dir];
      const m = list[list.length - 1];
      if (!m || m.frame !== frame.frame || !m.dsnKnown) return;
      const end = m.dsn + BigInt(m.length);
      if (end > fin.dsn + 1n) {
        ctx.report({ frame: frame.frame, conn: c, stream: s, relatedFrames: [fin.frame],
          message: `data mapped up to DSN ${end - 1n}, beyond the DATA_FIN at DSN ${fin.dsn} (frame ${fin.frame})` });
      }
    },
  }),
};

export const infiniteMapping: Rule = {
  meta: {
    id: 'infinite-mapping',
    description: 'An infinite mapping (fallback at the data level).',
    severity: 'warning',
    topic: 'mapping',
  },
  create: (ctx) => ({
    changesOnly: true,
    options: ['DSS'],
    packet({ frame, facts }) {
      for (const o of facts.options) {
        if (o.kind === 'DSS' && o.flags & DSS_MAPPING && o.dataLevelLength === 0 && !o.lengthProblem) {
          ctx.report({ frame: frame.frame, conn: facts.conn, stream: facts.stream, topic: 'fallback',
            message: `infinite mapping from DSN ${o.dsn} (data-level length 0): the data level falls back to this subflow's byte stream` });
        }
      }
    },
  }),
};

export const mpFail: Rule = {
  meta: {
    id: 'mp-fail',
    description: 'MP_FAIL, with the DSN and the mapping it refers to.',
    severity: 'warning',
    topic: 'fallback',
  },
  create: (ctx) => ({
    changesOnly: true,
    options: ['MP_FAIL'],
    packet({ frame, facts }) {
      const c = facts.conn;
      for (const o of facts.options) {
        if (o.kind !== 'MP_FAIL' || o.dsn === undefined) continue;
        let related: Mapping | undefined;
        if (c && facts.side !== undefined) {
          const peer = (1 - facts.side) as Side;
          const ref = c.dsnRef[peer];
          const dsn = ref !== undefined ? widen32(o.dsn, ref) & 0xffffffffffffffffn : o.dsn;
          for (const s of c.subflows) {
            const dir = s.sideOfA === peer ? 0 : 1;
            const list = s.mappings[dir];
            for (let i = recentMappingsStart(list); i < list.length; i++) {
              const m = list[i];
              if (m.dsnKnown && dsn >= m.dsn && dsn < m.dsn + BigInt(Math.max(m.length, 1))) related = m;
            }
          }
        }
        ctx.report({ frame: frame.frame, conn: c, stream: facts.stream, relatedFrames: related ? [related.frame] : [],
          message: `MP_FAIL at DSN ${o.dsn}${related ? `, in the mapping of frame ${related.frame} (DSN ${related.dsn}, ${related.length} bytes)` : ', no captured mapping holds it'}` });
      }
    },
  }),
};

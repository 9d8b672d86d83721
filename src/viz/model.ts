/**
 * What the diagrams draw, worked out from the tracker's model and the findings: a ladder (sequence
 * diagram) per connection, a subflow timeline, and the data-sequence series. The webview only draws.
 */
import type { Finding } from '../check/types.ts';
import { deriveFromKey } from '../mptcp/crypto.ts';
import type { Endpoint, MptcpConnection, Side, TcpStream } from '../mptcp/model.ts';
import type { Tracker } from '../mptcp/tracker.ts';
import { TCPRST_REASONS } from '../wire/mptcp.ts';
import { endpoint } from '../format/decode.ts';

export interface Lifeline { id: string; label: string; side: Side }

export interface LadderArrow {
  frame: number;
  /** seconds since the connection's first packet */
  time: number;
  from: string;
  to: string;
  subflow: number;
  /** the option and stage, e.g. "MP_JOIN SYN/ACK" */
  label: string;
  /** shortened option values */
  detail: string;
  severity?: 'error' | 'warning' | 'info';
  /** the finding at this frame, with expected vs found */
  finding?: string;
}

export interface Ladder { connection: number; version: number | null; lifelines: Lifeline[]; arrows: LadderArrow[] }

export interface TimelineBar {
  subflow: number;
  label: string;
  start: number;
  end: number;
  bytes: number;
  /** [start, end) periods in backup mode */
  backup: Array<[number, number]>;
  events: Array<{ time: number; frame: number; label: string }>;
}

export interface Timeline { connection: number; duration: number; bars: TimelineBar[] }

const short = (v: bigint | number | undefined, digits: number) => {
  if (v === undefined) return '?';
  const h = BigInt.asUintN(digits * 4, BigInt(v)).toString(16).padStart(digits, '0');
  return digits > 8 ? `0x${h.slice(0, 4)}…${h.slice(-4)}` : `0x${h}`;
};

function ends(s: TcpStream, side: Side): { from: Endpoint; to: Endpoint } {
  const fromA = s.sideOfA === side || (s.sideOfA === undefined && side === 0);
  return fromA ? { from: s.a, to: s.b } : { from: s.b, to: s.a };
}

export function buildLadder(tracker: Tracker, c: MptcpConnection, findings: Finding[]): Ladder {
  const t0 = c.firstTime;
  const arrows: LadderArrow[] = [];
  const lifelines = new Map<string, Lifeline>();
  const line = (e: Endpoint, side: Side) => {
    if (!lifelines.has(e.addr)) lifelines.set(e.addr, { id: e.addr, label: e.addr, side });
    return e.addr;
  };
  const push = (s: TcpStream, dir: 0 | 1, frame: number, time: number, label: string, detail: string) => {
    const a = dir === 0 ? s.a : s.b;
    const b = dir === 0 ? s.b : s.a;
    const sideOfFrom = (s.sideOfA === undefined ? dir : dir === 0 ? s.sideOfA : 1 - s.sideOfA) as Side;
    arrows.push({ frame, time: time - t0, from: line(a, sideOfFrom), to: line(b, (1 - sideOfFrom) as Side), subflow: s.id, label, detail });
  };
  if (c.initial) {
    for (const o of c.initial.capable) {
      const op = o.option;
      const stage = { syn: 'SYN', synack: 'SYN/ACK', ack: 'ACK', data: 'ACK+data' }[o.stage];
      const parts: string[] = [`v${op.version}`];
      if (op.senderKey !== undefined) parts.push(`key ${short(op.senderKey, 16)}`, `token ${short(deriveFromKey(op.senderKey, op.version).token, 8)}`);
      if (op.receiverKey !== undefined) parts.push(`peer key ${short(op.receiverKey, 16)}`);
      push(c.initial, o.dir, o.frame, o.time, `MP_CAPABLE ${stage}`, parts.join(', '));
    }
  }
  for (const s of c.subflows) {
    const j = s.join;
    if (!j) continue;
    if (j.synFrame !== undefined) push(s, 0, j.synFrame, j.synTime!, 'MP_JOIN SYN', `token ${short(j.token, 8)}, R-A ${short(j.nonceA, 8)}, id ${j.addressIdA ?? '?'}${j.backupA ? ', backup' : ''}`);
    if (j.synAckFrame !== undefined) push(s, 1, j.synAckFrame, j.synAckTime!, 'MP_JOIN SYN/ACK', `HMAC ${short(j.truncatedHmac, 16)}, R-B ${short(j.nonceB, 8)}, id ${j.addressIdB ?? '?'}`);
    if (j.ackFrame !== undefined) push(s, 0, j.ackFrame, j.ackTime!, 'MP_JOIN ACK', `HMAC ${j.hmac ? `${j.hmac.toString('hex').slice(0, 8)}…` : '?'}`);
  }
  const streamDir = (streamId: number, side: Side): { s: TcpStream; dir: 0 | 1 } | undefined => {
    const s = tracker.streams[streamId];
    if (!s) return undefined;
    const { from } = ends(s, side);
    return { s, dir: from === s.a ? 0 : 1 };
  };
  for (const a of c.announcements) {
    const sd = streamDir(a.stream, a.side);
    if (sd) push(sd.s, sd.dir, a.frame, a.time, 'ADD_ADDR', `id ${a.id} ${a.port !== undefined ? endpoint(a.address, a.port) : a.address}${a.hmac !== undefined ? `, HMAC ${short(a.hmac, 16)}` : ''}`);
  }
  for (const e of c.echoes) {
    const sd = streamDir(e.stream, e.side);
    if (sd) push(sd.s, sd.dir, e.frame, e.time, 'ADD_ADDR echo', `id ${e.id} ${e.address}`);
  }
  for (const e of c.events) {
    if (e.side === undefined) continue;
    const sd = streamDir(e.stream, e.side);
    if (!sd) continue;
    const o = e.option;
    const detail = o.kind === 'REMOVE_ADDR' ? `ids ${o.addressIds.join(', ')}` : o.kind === 'MP_PRIO' ? (o.backup ? 'backup' : 'regular')
      : o.kind === 'MP_FASTCLOSE' ? `key ${short(o.receiverKey, 16)}` : o.kind === 'MP_FAIL' ? `DSN ${o.dsn ?? '?'}`
        : o.kind === 'MP_TCPRST' ? `reason ${o.reason ?? '?'} (${TCPRST_REASONS[o.reason ?? -1] ?? 'unassigned'})` : '';
    push(sd.s, sd.dir, e.frame, e.time, o.kind, detail);
  }
  arrows.sort((a, b) => a.frame - b.frame);
  const byFrame = new Map<number, Finding[]>();
  for (const f of findings) if (f.connection === c.id) { const l = byFrame.get(f.frame); if (l) l.push(f); else byFrame.set(f.frame, [f]); }
  const rank = { error: 3, warning: 2, info: 1 } as const;
  for (const a of arrows) {
    const fs = byFrame.get(a.frame);
    if (!fs) continue;
    const worst = fs.reduce((m, f) => (rank[f.severity] > rank[m.severity] ? f : m));
    a.severity = worst.severity;
    a.finding = fs.map((f) => `${f.rule}: ${f.message}`).join('\n');
  }
  // clients' addresses left, servers' right
  const lines = [...lifelines.values()].sort((x, y) => x.side - y.side);
  for (const l of lines) l.label = `${l.side === 0 ? 'client' : 'server'} ${l.id}`;
  return { connection: c.id, version: c.version ?? null, lifelines: lines, arrows };
}

export function buildTimeline(c: MptcpConnection): Timeline {
  const t0 = c.firstTime;
  const bars: TimelineBar[] = c.subflows.map((s) => {
    const backup: Array<[number, number]> = [];
    let since: number | undefined = s.join?.backupA || s.join?.backupB ? s.firstTime - t0 : undefined;
    const events: TimelineBar['events'] = [];
    for (const e of c.events) {
      if (e.stream !== s.id) continue;
      const t = e.time - t0;
      if (e.option.kind === 'MP_PRIO') {
        if (e.option.backup && since === undefined) since = t;
        else if (!e.option.backup && since !== undefined) { backup.push([since, t]); since = undefined; }
      }
      events.push({ time: t, frame: e.frame, label: e.option.kind });
    }
    if (since !== undefined) backup.push([since, s.lastTime - t0]);
    if (s.rstFrame !== undefined && !events.some((e) => e.frame === s.rstFrame)) events.push({ time: s.lastTime - t0, frame: s.rstFrame, label: 'RST' });
    const kind = s === c.initial ? 'initial' : s.role === 'join' ? 'join' : 'subflow';
    return {
      subflow: s.id, label: `sf ${s.id} ${kind} ${endpoint(s.a.addr, s.a.port)} → ${endpoint(s.b.addr, s.b.port)}`,
      start: s.firstTime - t0, end: s.lastTime - t0, bytes: s.bytes[0] + s.bytes[1], backup, events,
    };
  });
  return { connection: c.id, duration: c.lastTime - t0, bars };
}

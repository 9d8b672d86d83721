/**
 * Runs the rules over one capture's packets and model and collects their findings, each with the
 * RFC section for the connection's version. Rules are ESLint-style modules (see rules/).
 */
import type { ScanResult } from '../capture/reader.ts';
import type { MptcpConnection, PacketFacts, TcpStream } from '../mptcp/model.ts';
import type { Tracker } from '../mptcp/tracker.ts';
import { rfcRef } from '../rfc.ts';
import type { DecodedFrame } from '../wire/packet.ts';
import { DSS_DATA_FIN, DSS_MAPPING, type Dss, type MptcpOption } from '../wire/mptcp.ts';
import { RULES } from './rules/index.ts';
import { collectPerKey, PerConnection, PerKey, PerStream } from './util.ts';
import type { Finding, PacketEvent, Report, Rule, RuleHandlers, Severity } from './types.ts';

export type RuleSetting = Severity | 'off';

export interface CheckerConfig {
  /** per-rule severity or 'off' */
  rules?: Record<string, RuleSetting>;
  /** findings of one rule on one connection beyond this are counted, not listed */
  maxPerRuleAndConnection?: number;
  /** call every rule on every packet, quiet ones too (the tests compare the two) */
  everyPacket?: boolean;
}

const SYN_FIN_RST = 0x007;
const DSS_MAPPING_OR_FIN = DSS_MAPPING | DSS_DATA_FIN;

/**
 * A packet that brings nothing but Data ACKs (see RuleHandlers.changesOnly): no SYN, FIN or RST,
 * no checksum verified or cut, and as MPTCP options only well-formed DSS options that carry no
 * mapping and no DATA_FIN, or the direction's previous DSS repeated byte for byte — unless that
 * repeats an infinite mapping, or a mapping where checksums were negotiated (each repeat is one
 * more finding of infinite-mapping or checksum-missing, which see only packets that are not quiet),
 * not the end of a handshake (PacketFacts.handshake: the answer to a SYN/ACK, which
 * capable-fallback judges, and a join's packets until its peer answers the third ACK, which
 * join-incomplete follows), and not a Data ACK below its subflow's highest (data-ack-regression).
 */
export function isQuiet(frame: DecodedFrame, facts: PacketFacts): boolean {
  const t = frame.tcp;
  if (t === null || (t.flags & SYN_FIN_RST) !== 0 || !quietFacts(facts)) return false;
  const options = facts.options;
  // an option the tracker could not even take apart (length below 2) is not in facts.options
  if (options.length === 0 || options.length !== t.mptcpOptions.length) return false;
  const headerEnd = t.offset + t.headerLength;
  for (let i = 0; i < options.length; i++) if (options[i].offset + options[i].length > headerEnd) return false;
  return true;
}

/**
 * The part of isQuiet that a packet's facts decide alone: no checksum verified or cut, not the end
 * of a handshake, no Data ACK below its subflow's highest; as MPTCP options only well-formed DSS
 * options without a mapping or DATA_FIN, or the direction's previous DSS repeated byte for byte,
 * unless that repeats an infinite mapping or a mapping where checksums were negotiated. The
 * tracker's repeat lane (Tracker.repeatLane) takes only packets whose frames pass the rest of
 * isQuiet, so this is isQuiet for its packets.
 */
/**
 * Whether the direction's previous DSS, repeated, still needs the checker: it repeats an infinite
 * mapping, or a mapping where checksums were negotiated.
 */
const repeatNeedsCheck = (o: Dss, facts: PacketFacts): boolean =>
  (o.flags & DSS_MAPPING) !== 0 && (o.dataLevelLength === 0 || facts.conn?.checksumRequired === true);

export function quietFacts(facts: PacketFacts): boolean {
  if (facts.checksumResults.length !== 0 || facts.checksumCut !== undefined || facts.handshake || facts.dataAckBelow) return false;
  const options = facts.options;
  const rep = facts.repeatedDss;
  if (rep !== undefined && options === rep.options) {
    // the direction's last DSS again, alone (most packets; DssCache.options is [option]): quiet
    // unless it maps data that must be checked (the loop below, for one option)
    return !repeatNeedsCheck(rep.option, facts);
  }
  const repeated = rep?.option;
  for (let i = 0; i < options.length; i++) {
    const o = options[i];
    if (o === repeated) {
      if (repeatNeedsCheck(o, facts)) return false;
      continue;
    }
    if (o.kind !== 'DSS' || (o.flags & DSS_MAPPING_OR_FIN) !== 0 || o.lengthProblem !== undefined || o.truncated) return false;
  }
  return true;
}

/** a bit per kind of MPTCP option (RuleHandlers.options), and one that every packet has */
const OPTION_BIT: Record<MptcpOption['kind'], number> = {
  MP_CAPABLE: 1 << 0, MP_JOIN: 1 << 1, DSS: 1 << 2, ADD_ADDR: 1 << 3, REMOVE_ADDR: 1 << 4, MP_PRIO: 1 << 5,
  MP_FAIL: 1 << 6, MP_FASTCLOSE: 1 << 7, MP_TCPRST: 1 << 8, MP_EXPERIMENTAL: 1 << 9, UNKNOWN: 1 << 10,
};
const ANY_PACKET = 1 << 30;

/** The bits of the kinds of options a packet carries, and ANY_PACKET. */
function optionBits(options: readonly MptcpOption[]): number {
  let bits = ANY_PACKET;
  for (let i = 0; i < options.length; i++) bits |= OPTION_BIT[options[i].kind];
  return bits;
}

export function findRule(id: string): Rule | undefined {
  return RULES.find((r) => r.meta.id === id);
}

export class Checker {
  readonly findings: Finding[] = [];
  /** findings counted but not listed, by rule id */
  readonly suppressed = new Map<string, number>();
  private handlers: Array<{ rule: Rule; h: RuleHandlers }> = [];
  /** the rules' state per stream and per connection (let go at a retirement) */
  private perKey: Array<PerKey<{ id: number }, unknown>> = [];
  private counts = new Map<string, number>();
  private readonly cap: number;

  constructor(private readonly tracker: Tracker, private readonly config: CheckerConfig = {}) {
    this.cap = config.maxPerRuleAndConnection ?? 200;
    for (const rule of RULES) {
      if (config.rules?.[rule.meta.id] === 'off') continue;
      const ctx = { report: (r: Report) => this.report(rule, r), tracker };
      const { value: h, perKey } = collectPerKey(() => rule.create(ctx));
      this.handlers.push({ rule, h });
      this.perKey.push(...perKey);
    }
  }

  private report(rule: Rule, r: Report): void {
    const key = `${rule.meta.id}|${r.conn?.id ?? '-'}`;
    const n = (this.counts.get(key) ?? 0) + 1;
    this.counts.set(key, n);
    if (n > this.cap) {
      this.suppressed.set(rule.meta.id, (this.suppressed.get(rule.meta.id) ?? 0) + 1);
      return;
    }
    const configured = this.config.rules?.[rule.meta.id];
    const severity: Severity = configured && configured !== 'off' ? configured : r.severity ?? rule.meta.severity;
    const stream = r.stream ?? undefined;
    this.findings.push({
      rule: rule.meta.id,
      severity,
      frame: r.frame,
      relatedFrames: [...new Set((r.relatedFrames ?? []).filter((f) => f !== r.frame))].sort((a, b) => a - b),
      connection: r.conn?.id,
      subflow: stream?.id,
      message: r.message,
      rfc: rfcRef(r.topic ?? rule.meta.topic, r.conn?.version),
    });
  }

  /**
   * the rules that see every packet, and those that see only packets with something new, with the
   * options each acts on (optionBits; ANY_PACKET for all)
   */
  private everyPacket: Array<(e: PacketEvent) => void> | undefined;
  private changedPacket: Array<(e: PacketEvent) => void> = [];
  private changedOptions: number[] = [];
  /**
   * Of those, the ones a packet with these option bits concerns, in the same order, by the bits (a
   * packet's rules were a walk through all thirty, 0.9 K instructions for each new mapping)
   */
  private changedByBits = new Map<number, Array<(e: PacketEvent) => void>>();
  /**
   * Of those, the ones a packet of the repeat lane may concern (its one option is a DSS: the rules
   * of DSS options and of every packet, but those whose RuleHandlers.lane is false), with that test
   */
  private lanePacket: Array<(e: PacketEvent) => void> = [];
  private laneTest: Array<((facts: PacketFacts) => boolean) | undefined> = [];

  /**
   * Whether packets of the tracker's repeat lane may come to `repeat` instead of `packet`: every
   * rule that sees every packet says what it does for them (RuleHandlers.repeat).
   */
  get acceptsRepeats(): boolean {
    return this.config.everyPacket !== true && this.handlers.every(({ h }) => !h.packet || h.changesOnly === true || h.repeat !== undefined);
  }

  /**
   * the handlers of the rules of every packet, called as methods (`h.repeat(...)`): a function bound
   * to its handler was a call V8 could not inline (the checker's repeat path took ~220 instructions
   * a packet)
   */
  private everyRepeat: RuleHandlers[] | undefined;

  /**
   * A packet of the tracker's repeat lane (see acceptsRepeats): when it is quiet (quietFacts), only
   * the rules of every packet see it, and this returns true; otherwise false, and nothing has seen
   * it (the caller decodes it and calls `packet`).
   */
  repeat(facts: PacketFacts, frame: number): boolean {
    if (!quietFacts(facts)) return false;
    const every = (this.everyRepeat ??= this.handlers.filter((x) => x.h.packet && !x.h.changesOnly).map((x) => x.h));
    for (let i = 0; i < every.length; i++) every[i].repeat!(facts, frame);
    return true;
  }

  /**
   * A packet and its facts. `lane`: it came through the tracker's repeat lane (a lane packet that is
   * not quiet; its frame a LazyFrame, decoded only if a rule reads its headers), so only the rules it
   * may concern see it (RuleHandlers.lane).
   */
  packet(frame: DecodedFrame, facts: PacketFacts, data: Uint8Array, lane = false): void {
    if (!this.everyPacket) {
      const all = this.config.everyPacket === true;
      this.everyPacket = this.handlers.filter((x) => x.h.packet && (all || !x.h.changesOnly)).map((x) => x.h.packet!.bind(x.h));
      const changed = this.handlers.filter((x) => x.h.packet && !all && x.h.changesOnly);
      this.changedPacket = changed.map((x) => x.h.packet!.bind(x.h));
      this.changedOptions = changed.map((x) => (x.h.options ? x.h.options.reduce((bits, kind) => bits | OPTION_BIT[kind], 0) : ANY_PACKET));
      const dss = ANY_PACKET | OPTION_BIT.DSS;
      for (let i = 0; i < changed.length; i++) {
        const lane = changed[i].h.lane;
        if ((this.changedOptions[i] & dss) === 0 || lane === false) continue;
        this.lanePacket.push(this.changedPacket[i]);
        this.laneTest.push(lane);
      }
    }
    // a new event object a packet: young, it takes the three pointers without the write barrier's
    // slow path, which one long-lived object filled again for every packet went through each time
    const e: PacketEvent = { frame, facts, data };
    const every = this.everyPacket;
    for (let i = 0; i < every.length; i++) every[i](e);
    if (lane) {
      // a lane packet's headers are as isQuiet wants them (Tracker.repeatLane): its facts say whether
      // it is quiet, and its frame stays undecoded (LazyFrame). Only the rules it may concern see
      // it (a test of its facts: when it says so).
      if (quietFacts(facts)) return;
      const changed = this.lanePacket;
      const when = this.laneTest;
      for (let i = 0; i < changed.length; i++) {
        const test = when[i];
        if (test === undefined || test(facts)) changed[i](e);
      }
      return;
    }
    if (isQuiet(frame, facts)) return;
    const has = optionBits(facts.options);
    let changed = this.changedByBits.get(has);
    if (changed === undefined) {
      const wants = this.changedOptions;
      changed = this.changedPacket.filter((_, i) => (wants[i] & has) !== 0);
      this.changedByBits.set(has, changed);
    }
    for (let i = 0; i < changed.length; i++) changed[i](e);
  }

  /**
   * The end-of-capture checks of connections and streams the tracker retires (Retirement.check):
   * run now, over them alone; then every rule lets go of their state.
   */
  retire(connections: MptcpConnection[], streams: TcpStream[]): void {
    const ctx = { tracker: this.tracker, scan: undefined, connections, streams, final: false };
    for (const { rule, h } of this.handlers) h.end?.({ ...ctx, report: (r: Report) => this.report(rule, r) });
    for (const p of this.perKey) {
      if (p instanceof PerConnection) for (const c of connections) p.delete(c);
      else if (p instanceof PerStream) for (const st of streams) p.delete(st);
    }
  }

  /** Runs the end-of-capture checks and returns every finding, by frame. */
  finish(scan: ScanResult): Finding[] {
    const t = this.tracker;
    // connections and streams retired before were checked then
    const connections = t.retired ? t.connections.filter((c) => c.retired === undefined) : t.connections;
    const streams = t.retired ? t.streams.filter((s) => s.retired !== true) : t.streams;
    const ctx = { tracker: t, scan, connections, streams, final: true };
    for (const { rule, h } of this.handlers) h.end?.({ ...ctx, report: (r: Report) => this.report(rule, r) });
    const rank: Record<Severity, number> = { error: 0, warning: 1, info: 2 };
    this.findings.sort((a, b) => a.frame - b.frame || rank[a.severity] - rank[b.severity] || a.rule.localeCompare(b.rule));
    return this.findings;
  }
}

import type { ScanResult } from '../capture/reader.ts';
import type { MptcpConnection, PacketFacts, TcpStream } from '../mptcp/model.ts';
import type { Tracker } from '../mptcp/tracker.ts';
import type { RfcRef, Topic } from '../rfc.ts';
import type { DecodedFrame } from '../wire/packet.ts';
import type { MptcpOption } from '../wire/mptcp.ts';

export type Severity = 'error' | 'warning' | 'info';
export const SEVERITIES: readonly Severity[] = ['error', 'warning', 'info'];
export const severityRank: Record<Severity, number> = { error: 3, warning: 2, info: 1 };

export interface Finding {
  rule: string;
  severity: Severity;
  /** the frame carrying the offending option (where the violation is visible) */
  frame: number;
  relatedFrames: number[];
  connection?: number;
  /** the TCP stream (tcp.stream) of the subflow */
  subflow?: number;
  message: string;
  rfc: RfcRef;
}

export interface RuleMeta {
  /** stable id, as in `--rule ID=off` */
  id: string;
  description: string;
  severity: Severity;
  /** the RFC section the rule follows */
  topic: Topic;
}

/** One packet for the rules, made for the call: keep its fields (not `data`, see below), not it. */
export interface PacketEvent {
  frame: DecodedFrame;
  facts: PacketFacts;
  /** the frame's bytes, valid only during the call */
  data: Uint8Array;
}

export interface Report {
  frame: number;
  message: string;
  relatedFrames?: number[];
  conn?: MptcpConnection | null;
  stream?: TcpStream | null;
  /** a severity other than the rule's default for this one report (e.g. an agreed downgrade is info) */
  severity?: Severity;
  /** a section other than the rule's own */
  topic?: Topic;
}

export interface RuleContext {
  report(r: Report): void;
  readonly tracker: Tracker;
}

/**
 * The end-of-capture checks. They run once at the capture's end over every connection and stream;
 * when memory runs short, the tracker retires finished connections, and their checks run then, over
 * those alone (`final` false), each rule letting go of their state. Checks of the whole capture
 * (counts, token collisions, limits) run only at the end.
 */
export interface EndContext extends RuleContext {
  /** the capture's scan (at the end; undefined at a retirement) */
  readonly scan: ScanResult | undefined;
  /** the connections to check: those retired now, or at the end every one not retired before */
  readonly connections: readonly MptcpConnection[];
  /** the streams to check, likewise */
  readonly streams: readonly TcpStream[];
  /** the capture's end (not a retirement) */
  readonly final: boolean;
}

export interface RuleHandlers {
  packet?(e: PacketEvent): void;
  /**
   * `packet` acts only on packets that bring something new, so the checker may skip quiet ones
   * (isQuiet): no SYN, FIN or RST, no checksum verified or cut, and as MPTCP options only
   * well-formed DSS options without a mapping or DATA_FIN (Data ACKs), or the direction's previous
   * DSS repeated byte for byte (Linux repeats a mapping on every segment it covers).
   */
  changesOnly?: boolean;
  /**
   * With changesOnly: `packet` acts only on packets that carry one of these MPTCP options (in
   * facts.options), so the checker calls it for no other (a data segment with a new mapping calls
   * the rules of DSS options, not those of ADD_ADDR or MP_FAIL). `packet` still picks its options
   * out itself: a packet carries several, and CheckerConfig.everyPacket calls every rule for all.
   */
  options?: readonly MptcpOption['kind'][];
  /**
   * With changesOnly: whether `packet` may act on a packet of the tracker's repeat lane that is not
   * quiet (a new mapping, mostly), which the checker then calls the rules for (its frame a
   * LazyFrame: decoded only if a rule reads its headers). Such a
   * packet has one MPTCP option, a well-formed DSS wholly inside the TCP header, no SYN, FIN or RST,
   * and a stream tied to a connection outside its handshake (Tracker.repeatLane). false: never (it
   * cannot concern the rule, which the checker then does not call for it); a function: only when it
   * says so of the packet's facts. Unset: as any other packet. CheckerConfig.everyPacket calls every
   * rule for all packets all the same, and the tests compare the two.
   */
  lane?: false | ((facts: PacketFacts) => boolean);
  /**
   * For a rule whose `packet` sees every packet (not changesOnly): what `packet` does for a packet
   * of the tracker's repeat lane (Tracker.repeatLane), which comes as its facts and frame number,
   * without a decoded frame or its bytes. Such a packet is quiet (isQuiet; a lane packet that is not
   * is decoded and goes to `packet`). The checker lets the lane take packets only when every such
   * rule has this.
   */
  repeat?(facts: PacketFacts, frame: number): void;
  end?(ctx: EndContext): void;
}

export interface Rule {
  meta: RuleMeta;
  create(ctx: RuleContext): RuleHandlers;
}

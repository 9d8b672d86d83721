/**
 * The model the tracker builds: TCP streams (subflows) and MPTCP connections, with what was
 * observed of them. Checker rules and summaries read it; nothing here touches packet bytes.
 */
import type { Dss, MpCapable, MptcpOption } from '../wire/mptcp.ts';
import type { OnesSum } from './crypto.ts';
import type { IntervalSet } from './intervals.ts';

export interface Endpoint {
  addr: string;
  port: number;
}

export type Side = 0 | 1; // 0: the MPTCP client (sent the MP_CAPABLE SYN), 1: the server
export type Dir = 0 | 1; // 0: stream.a -> stream.b

export interface KeyObservation {
  frame: number;
  /** the side whose key this is */
  side: Side;
  key: bigint;
  /** sender: the sending side's own key; echo: the peer's key repeated by the sender */
  as: 'sender' | 'echo';
  stage: 'syn' | 'synack' | 'ack' | 'data' | 'fastclose';
}

export interface CapableObservation {
  frame: number;
  time: number;
  dir: Dir;
  stage: 'syn' | 'synack' | 'ack' | 'data';
  option: MpCapable;
}

export interface Mapping {
  frame: number;
  stream: number;
  dir: Dir;
  /** 64-bit data sequence number of the first mapped byte */
  dsn: bigint;
  /** whether the DSN was widened from 32 bits against a known reference (or was 64 bits) */
  dsnKnown: boolean;
  /** subflow sequence number relative to the subflow's ISN */
  ssn: number;
  length: number;
  checksum?: number;
  implicit: boolean;
  /** checksum verification state */
  sum?: OnesSum;
  covered: number;
  verified?: { ok: boolean; computed: number; frames: number[] };
  /** why the checksum could not be verified */
  unverifiable?: 'snaplen';
  /**
   * the DSN relative to its side's first mapped DSN (MptcpConnection.sentBase, set once), as a
   * Number, and that side (-1: not worked out yet): the tracker's cache, so that a segment of the
   * mapping costs a Number comparison, where comparing the base (a BigInt) was a call
   */
  rel?: number;
  relSide: number;
}

export interface JoinInfo {
  token?: number;
  /** side of the connection that initiated the subflow (sent the MP_JOIN SYN) */
  initiatorSide?: Side;
  nonceA?: number;
  nonceB?: number;
  addressIdA?: number;
  addressIdB?: number;
  backupA?: boolean;
  backupB?: boolean;
  truncatedHmac?: bigint;
  hmac?: Buffer;
  synFrame?: number;
  synAckFrame?: number;
  ackFrame?: number;
  synTime?: number;
  synAckTime?: number;
  ackTime?: number;
  rstTime?: number;
  /** frame of the first segment from B acknowledging the third ACK (the subflow is then established) */
  ackAckFrame?: number;
  /** first data frame seen on the subflow before the third ACK was acknowledged */
  dataBeforeEstablished?: number;
  rstFrame?: number;
  rstReason?: number;
}

export interface AddressAnnouncement {
  frame: number;
  time: number;
  side: Side;
  id: number;
  address: string;
  addressBytes?: Buffer;
  port?: number;
  hmac?: bigint;
  /** frame of the peer's echo, when seen */
  echoFrame?: number;
  stream: number;
  /** the peer's ConnectionStats.sent when it was announced (what the peer sent after it is the difference) */
  peerSentBefore: number;
}

export interface AddressEcho {
  frame: number;
  time: number;
  /** the side that echoed (the receiver of the announcement) */
  side: Side;
  id: number;
  address: string;
  port?: number;
  matched: boolean;
  stream: number;
}

export interface ConnectionEvent {
  frame: number;
  time: number;
  stream: number;
  side: Side | undefined;
  option: MptcpOption;
}

/** the mappings per direction a stream holds (TcpStream.mappings: the last this many) */
export const MAX_MAPPINGS = 64;
/** where a direction's mappings (TcpStream.mappings) begin to be its last MAX_MAPPINGS */
export const recentMappingsStart = (list: readonly Mapping[]): number => Math.max(0, list.length - MAX_MAPPINGS);

export interface TcpStream {
  id: number;
  a: Endpoint;
  b: Endpoint;
  /** a's and b's IPv4 addresses as numbers (big-endian), as the tracker finds a packet's stream; -1 for IPv6 */
  ipv4A: number;
  ipv4B: number;
  /** a's and b's IPv6 addresses as four big-endian words, as the tracker finds a packet's stream; undefined for IPv4 */
  ipv6A: Uint32Array | undefined;
  ipv6B: Uint32Array | undefined;
  /** ISN per direction, when the SYN / SYN-ACK was seen */
  isn: [number | undefined, number | undefined];
  synFrame?: number;
  synAckFrame?: number;
  synSeq?: number;
  firstFrame: number;
  lastFrame: number;
  firstTime: number;
  lastTime: number;
  packets: [number, number];
  bytes: [number, number];
  finFrame: [number | undefined, number | undefined];
  rstFrame?: number;
  /** MP_CAPABLE on this stream's SYN, SYN/ACK, ... */
  capable: CapableObservation[];
  /** how MPTCP is used on it */
  role: 'plain' | 'initial' | 'join' | 'unknown';
  conn: MptcpConnection | null;
  /** connection side of direction 0 (a->b), once known */
  sideOfA?: Side;
  join?: JoinInfo;
  backup: boolean;
  /** a DSS was seen on this stream (before the current packet's options were applied) */
  dssSeen: boolean;
  /** last MPTCP option frame, for "MPTCP options stop" */
  lastMptcpFrame?: number;
  /**
   * mappings per direction, most recent last: the last MAX_MAPPINGS (64) are the direction's
   * mappings; up to as many older ones wait to be dropped together (see Tracker.addMapping), so a
   * reader of more than the last one reads only the last MAX_MAPPINGS
   */
  mappings: [Mapping[], Mapping[]];
  /** MP_CAPABLE SYN was answered by a SYN/ACK without it */
  fallbackAtSynAck?: number;
  /** Data ACK high-water mark per direction (64-bit): the highest of its packets' Data ACKs */
  dataAckMax: [bigint | undefined, bigint | undefined];
  /**
   * Per direction, the frame and time of the last packet whose Data ACK was the high-water mark,
   * and how often the mark rose: slot `dir * 3 + ACK_MAX_FRAME / ACK_MAX_TIME / ACK_MAX_RISES`
   */
  dataAckMaxSeen: number[];
  /**
   * The last DSS per direction, raw and as worked out: Linux repeats a mapping on every segment it
   * covers, and such a repeat needs no parsing and changes no state.
   */
  dssCache?: [DssCache | undefined, DssCache | undefined];
  /** bytes this subflow carried that had been sent on another subflow before */
  reinjectedBytes?: number;
  /** round-trip samples at the capture point: data seen until the ACK covering it is seen */
  rtt?: RttStats;
  /** data segments awaiting their ACK, per direction, as RTT sampling reads them (Karn's rule: Inflight) */
  inflight?: Inflight;
  /**
   * Handshake answers still to come (PacketFacts.handshake): bit d, the next packet without SYN in
   * direction d answers a SYN/ACK sent the other way; bit 2, a join's third ACK was seen and its
   * peer (direction 1) has not sent since.
   */
  awaiting: number;
  /**
   * Let go early (Tracker retirement, when memory runs short): checked, its state released; its
   * later packets are counted, not tracked.
   */
  retired?: boolean;
}

/**
 * Per direction, the data segments awaiting their ACK, as far as RTT sampling reads them: the oldest
 * one's sequence end and time (an ACK covering it is the sample), the newest one's end (data ending
 * at or before it again is a retransmission) and how many are in flight (at most 64 counted: the
 * tracker's INFLIGHT; beyond them a segment's end is not kept).
 * Direction d's slots are `d * 4 + IF_*` of `v` (below).
 */
export interface Inflight {
  v: Float64Array;
}

/** Inflight.v slots of direction d (d * 4 + …): the oldest segment's end and time, the newest one's end, the count */
export const IF_FIRST_END = 0, IF_FIRST_TIME = 1, IF_LAST_END = 2, IF_COUNT = 3;

/** TcpStream.dataAckMaxSeen slots of direction d (d * 3 + …) */
export const ACK_MAX_FRAME = 0, ACK_MAX_TIME = 1, ACK_MAX_RISES = 2;

export interface DssCache {
  offset: number;
  length: number;
  /** the option's bytes as big-endian signed 32-bit words (tracker.ts optionWords; the store is reused by the direction's next DSS) */
  words: Int32Array;
  option: Dss;
  /** [option], shared by every packet that repeats it (PacketFacts.options: never written) */
  options: readonly MptcpOption[];
  dataAck?: bigint;
  mappingDsn?: bigint;
  /** the connection it was worked out in (a stream can be re-tied by a later option) */
  conn: MptcpConnection;
  /**
   * The direction's high-water mark rises when it was worked out (TcpStream.dataAckMaxSeen), and
   * whether its Data ACK was below the mark: while the mark has not risen, a repeat is the same
   */
  ackRises: number;
  ackBelow: boolean;
}

export interface RttStats {
  samples: number;
  sum: number;
  min: number;
  max: number;
}

export interface ConnectionStats {
  /** new data segments that arrived below data already seen (MPTCP-level out of order), per sending side */
  outOfOrder: [number, number];
  /** pure ACKs repeating the previous Data ACK of that side */
  duplicateDataAcks: [number, number];
  lastDataAck: [bigint | undefined, bigint | undefined];
  /** highest Data ACK each side sent */
  maxDataAck: [bigint | undefined, bigint | undefined];
  /**
   * Packets each side sent, counted while the connection is not known as version 0 (what
   * add-addr-not-echoed counts after an ADD_ADDR: v0 has no echo).
   */
  sent: [number, number];
}

export interface MptcpConnection {
  /** numbered like Wireshark's mptcp.stream */
  id: number;
  version?: number;
  /** the handshake was not (wholly) in the capture */
  partial: boolean;
  keys: [bigint | undefined, bigint | undefined];
  tokens: [number | undefined, number | undefined];
  idsns: [bigint | undefined, bigint | undefined];
  /** checksums negotiated (A flag) */
  checksumRequired: boolean;
  /** C flag per side (v1: do not open subflows to this side's source address) */
  noNewSubflowsTo: [boolean, boolean];
  /** the endpoints of the initial subflow per side (address of the side) */
  initialAddr: [string | undefined, string | undefined];
  /** every key an MP_CAPABLE carried, as sent or echoed, in frame order (added at its packet); at most 256 */
  keyObservations: KeyObservation[];
  subflows: TcpStream[];
  initial?: TcpStream;
  announcements: AddressAnnouncement[];
  echoes: AddressEcho[];
  events: ConnectionEvent[];
  /** DATA_FIN DSN per side */
  dataFin: [{ dsn: bigint; frame: number } | undefined, { dsn: bigint; frame: number } | undefined];
  /** DSN ranges each side mapped (data seen in the capture) */
  mapped: [IntervalSet | undefined, IntervalSet | undefined];
  /** highest DSN end (exclusive) mapped by each side */
  sentEnd: [bigint | undefined, bigint | undefined];
  /** last 64-bit value seen in each side's DSN space (for widening 32-bit values) */
  dsnRef: [bigint | undefined, bigint | undefined];
  firstFrame: number;
  lastFrame: number;
  firstTime: number;
  lastTime: number;
  fallback?: { frame: number; how: string };
  fastcloseFrame?: number;
  /** streams whose join token named this connection without it being otherwise known */
  createdBy: 'capable' | 'join' | 'option';
  reinjectedBytes: number;
  /**
   * Changes to what the connection's Data ACKs are judged against, but for the usual one (a side's
   * mapped end, sentEnd, rising): a side's first mapped end, or one past 2^64 (stored wrapped,
   * lower), IDSNs set or cleared, a subflow tied to it or given its side, its retirement. A rule that
   * found a repeated DSS's Data ACK within what the peer mapped finds the same for the DSS's repeats
   * while this count stands (data-ack-unsent), since a repeat changes none of them.
   */
  ackLimitChanges: number;
  stats: ConnectionStats;
  /** the DSN that sentRanges and sentHigh are relative to, per side (its first mapped DSN) */
  sentBase: [bigint | undefined, bigint | undefined];
  /**
   * sent DSN ranges per side, relative to sentBase, for recognising reinjection: four numbers each,
   * laid out flat (start, end, stream, frame, start, end, …; SENT_RANGE_* in tracker.ts)
   */
  sentRanges: [number[], number[]];
  /** highest DSN end each side has sent, relative to sentBase (data below it is sent again) */
  sentHigh: [number | undefined, number | undefined];
  /**
   * Let go early (Tracker retirement, when memory runs short): its end-of-capture checks were run
   * and its summary (connectionJson) kept as JSON text, the index-th of a batch of them; its
   * per-packet state was released.
   */
  retired?: RetiredSummary;
}

/** Where a retired connection's summary is kept: the index-th text of a batch (Retirement.pack). */
export interface RetiredSummary {
  readonly batch: { text(index: number): string };
  readonly index: number;
}

/** Facts about one packet that the tracker worked out, for output and for the checker. */
export interface PacketFacts {
  stream: TcpStream | null;
  dir: Dir;
  conn: MptcpConnection | null;
  side: Side | undefined;
  /** the packet's MPTCP options, parsed (shared between packets: never written) */
  options: readonly MptcpOption[];
  /** 64-bit DSN of the first payload byte, when its mapping is known */
  dsn?: bigint;
  /** the frame of the mapping that covers this payload */
  mappingFrame?: number;
  /** the mapping that covers this payload, and the payload's offset in it (dsn = mapping.dsn + offset) */
  mapping?: Mapping;
  mappingOffset?: number;
  dataAck?: bigint;
  /** 64-bit DSN of the mapping this packet's DSS carries, when known */
  mappingDsn?: bigint;
  /** a reinjection of data first sent in that frame (on another subflow) */
  reinjectionOf?: number;
  /** mappings whose DSS checksum was verified when this packet completed them */
  checksumResults: Mapping[];
  /** this packet's DSS repeats its direction's last one (the cached result was used) */
  repeatedDss?: DssCache;
  /** a mapping whose checksum this packet made unverifiable (the snaplen cut its data) */
  checksumCut?: Mapping;
  /** its Data ACK is below its subflow direction's high-water mark (TcpStream.dataAckMax): never quiet */
  dataAckBelow: boolean;
  /**
   * Part of a handshake's end (TcpStream.awaiting): the first packet without SYN that answers a
   * SYN/ACK (the third ACK, or what came in its place), or a packet of a join after its third ACK
   * until the peer's first answer to it. Never quiet: the rules that judge handshakes see it.
   */
  handshake: boolean;
}

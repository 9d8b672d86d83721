/**
 * The connection tracker: numbers TCP streams like Wireshark's tcp.stream and MPTCP connections
 * like mptcp.stream, ties subflows to their connection (MP_CAPABLE keys, MP_JOIN tokens), derives
 * tokens and IDSNs, widens 32-bit DSNs and Data ACKs, maps every segment to the data sequence
 * space, verifies DSS checksums of fully captured mappings, and recognises reinjections.
 *
 * It works in one pass, in capture order, keeping state per stream and per connection only.
 */
import type { CaptureRecord } from '../capture/types.ts';
import type { DecodedFrame, TcpOptionRef } from '../wire/packet.ts';
import { ETHERTYPE_IPV4, ETHERTYPE_IPV6, LINKTYPE, pastVlanTags, TH_ACK, TH_FIN, TH_RST, TH_SYN } from '../wire/packet.ts';
import { be16, be32 } from '../wire/bytes.ts';
import { CAPABLE_A, CAPABLE_C, DSS_MAPPING, parseDss, parseMptcpOption, Subtype, TCPOPT_MPTCP, type Dss, type MpCapable, type MpJoin, type MptcpOption, type OptionContext } from '../wire/mptcp.ts';
import { deriveFromKey, dssChecksum, OnesSum } from './crypto.ts';
import { IntervalSet } from './intervals.ts';
import { appendTight, appendTight4, emptyObjects } from './lists.ts';
import { ACK_MAX_FRAME, ACK_MAX_RISES, ACK_MAX_TIME, IF_COUNT, IF_FIRST_END, IF_FIRST_TIME, IF_LAST_END, MAX_MAPPINGS, recentMappingsStart } from './model.ts';
import type { Dir, DssCache, Inflight, Mapping, MptcpConnection, PacketFacts, Side, TcpStream } from './model.ts';

/** Shared by every packet without MPTCP options or checksum results (never written). */
// not frozen: a frozen array has another elements kind, which slows every site that reads these lists
// nor `[]`: lists of objects (emptyObjects)
const NO_OPTIONS: MptcpOption[] = emptyObjects();
const NO_MAPPINGS: Mapping[] = emptyObjects();

/** What the tracker worked out of one packet; the 64-bit DSN is made only when asked for. */
class Facts implements PacketFacts {
  stream: TcpStream | null = null;
  dir: Dir = 0;
  conn: MptcpConnection | null = null;
  side: Side | undefined = undefined;
  options: readonly MptcpOption[] = NO_OPTIONS;
  checksumResults: Mapping[] = NO_MAPPINGS;
  mapping: Mapping | undefined = undefined;
  mappingOffset = 0;
  mappingFrame: number | undefined = undefined;
  dataAck: bigint | undefined = undefined;
  mappingDsn: bigint | undefined = undefined;
  reinjectionOf: number | undefined = undefined;
  repeatedDss: DssCache | undefined = undefined;
  checksumCut: Mapping | undefined = undefined;
  handshake = false;
  dataAckBelow = false;
  get dsn(): bigint | undefined {
    return this.mapping ? (this.mapping.dsn + BigInt(this.mappingOffset)) & MASK64 : undefined;
  }
}

// V8 gives an object's field the representation of the values stored in it so far, and takes a
// field never written after its object was made as constant; code optimized on either depends on
// it. A field made `undefined` that gets its first number mid-capture (reinjectionOf, at the first
// reinjection) is widened then, a flag first set (dataAckBelow, at the first Data ACK below its
// mark) becomes mutable, and the code that read them is thrown away, a compilation under way
// aborted (repeatLane's: 38 ms of the compiler's time, in the bulk capture, while its packets ran
// unoptimized). One Facts with each such field written as it will be, before any code is
// optimized, gives every Facts its final fields (test: tracker.test.ts).
{
  const primer = new Facts();
  primer.side = 0;
  primer.mappingFrame = 0;
  primer.reinjectionOf = 0;
  primer.handshake = true;
  primer.dataAckBelow = true;
}

/** `v - base` as a Number (exact within 2^53 of the base, which a capture never leaves). */
export const relativeTo = (v: bigint, base: bigint): number => Number(BigInt.asIntN(64, v - base));
/** data segments counted in flight per direction at most: beyond it a segment is not counted (nor its end kept) */
const INFLIGHT = 64;
const newInflight = (): Inflight => ({ v: new Float64Array(8) });

/**
 * Whether an address is endpoint a's (`a`) or b's of stream `x`: the IPv4 address `v4` (read once by
 * the caller), or with `v6` the IPv6 address at `at` in `b`.
 */
function isAddress(x: TcpStream, a: boolean, v4: number, b: Uint8Array, at: number, v6: boolean): boolean {
  if (!v6) return (a ? x.ipv4A : x.ipv4B) === v4;
  const w = a ? x.ipv6A : x.ipv6B;
  return w !== undefined && w[0] === be32(b, at) && w[1] === be32(b, at + 4) && w[2] === be32(b, at + 8) && w[3] === be32(b, at + 12);
}

/** The 16 bytes at `at` as four big-endian words. */
function v6Words(b: Uint8Array, at: number): Uint32Array {
  return Uint32Array.of(be32(b, at), be32(b, at + 4), be32(b, at + 8), be32(b, at + 12));
}

/**
 * Both FINs or a RST seen: what comes after is the last ACKs and retransmissions. Both FIN frames
 * are read on every call: with `&&`, a stream's first FIN was the first time the second was read,
 * and V8 threw away the code built without it (the lane's, where a connection closed mid-capture:
 * 16 k packets run unoptimized until it was built again). Test: tracker.test.ts (V8 compiling synchronously).
 */
const closed = (s: TcpStream): boolean => {
  const fin = s.finFrame;
  const a = fin[0], b = fin[1];
  return s.rstFrame !== undefined || (a !== undefined && b !== undefined);
};

/** TcpStream.awaiting: an answer to a SYN/ACK due in direction 0 or 1; a join's peer to answer its third ACK */
const AWAIT_ANSWER_0 = 1;
const AWAIT_ANSWER_1 = 2;
const AWAIT_JOIN_PEER = 4;

const MAX_RANGES_PER_SIDE = 4096;
/** MptcpConnection.sentRanges: numbers a range, and where each of its numbers is */
const SENT_RANGE = 4;
const SENT_RANGE_START = 0;
const SENT_RANGE_END = 1;
const SENT_RANGE_STREAM = 2;
const SENT_RANGE_FRAME = 3;
/** the last ranges a side's data is searched in for reinjection (and kept at least when acknowledged) */
const RANGES_SEARCHED = 256;
const MAX_EVENTS_PER_CONN = 10000;
const TWO32 = 0x100000000n;
const MASK64 = (1n << 64n) - 1n;

/** Widens a 32-bit sequence value to the 64-bit value closest to `ref` (RFC 8684 §3.3.1). */
export function widen32(v: number | bigint, ref: bigint): bigint {
  // the reference's halves, kept from the call before (a connection side's Data ACKs are all
  // widened against its first): the distance is worked out in Numbers, and the one BigInt made is
  // the result (it was ten BigInt operations a call, 3 % of decoding the 5 M-packet capture)
  if (ref !== widenRef) {
    widenRef = ref;
    widenRefLow = Number(ref & LOW32);
    widenRefHigh = ref & HIGH32;
  }
  const low = typeof v === 'number' ? v >>> 0 : Number(v & LOW32);
  const diff = low - widenRefLow; // (the candidate with the reference's high half) − ref
  const c = widenRefHigh | BigInt(low);
  if (diff > 0x80000000) return (c - TWO32) & MASK64;
  if (diff < -0x80000000) return (c + TWO32) & MASK64;
  return c;
}
let widenRef = -1n;
let widenRefLow = 0;
let widenRefHigh = 0n;
const LOW32 = 0xffffffffn;
const HIGH32 = 0xffffffff00000000n;

export interface TrackerLimits {
  /**
   * TCP streams tracked at once. When it is reached, finished connections and streams are retired
   * (Retirement) to make room; packets of streams beyond it are still decoded (and printed) but not
   * tracked or checked; the limit and what it left out are reported (rule tracking-limit). Every
   * stream and connection keeps a few kilobytes of state, so this bounds memory.
   */
  maxStreams: number;
  /**
   * The JavaScript heap: no new stream is tracked once `used()` exceeds `stopAt` bytes (read every
   * HEAP_PROBE_EVERY new streams), so that a busy capture ends with a tracking-limit finding
   * rather than in V8 running out of memory, whatever the heap limit of the Node running it.
   */
  heap?: HeapBudget;
}

export interface HeapBudget {
  /** bytes in use at which tracking of new streams stops */
  stopAt: number;
  /** bytes in use at which tracking stops altogether (read by checkHeap, at each progress report of the reader) */
  haltAt: number;
  /** the heap's limit (bytes), for the report */
  limit: number;
  /** bytes in use now */
  used(): number;
  /** new streams between two readings (default HEAP_PROBE_EVERY) */
  probeEvery?: number;
  /** how the user gives the analysis more heap, for the report (default: node's --max-old-space-size) */
  raise?: string;
  /**
   * A full garbage collection, so that used() reads what is live: retirement lets go of state that
   * V8 collects only when it must, near the limit, after the budget's thresholds; and a reading
   * past haltAt counts garbage too (checkHeap collects before it halts).
   */
  collect?(): void;
}

/** what the tracking-limit finding says raises the heap, unless the budget says otherwise (HeapBudget.raise) */
export const RAISE_HEAP = "node's --max-old-space-size raises the limit";

export const DEFAULT_LIMITS: TrackerLimits = { maxStreams: 200_000 };

/** new streams between two readings of the heap in use */
export const HEAP_PROBE_EVERY = 256;
/**
 * Tracking halts (Tracker.checkHeap) when a collection leaves more than this share of haltAt live:
 * below it, the garbage of at least a tenth of haltAt comes before the next collection there.
 */
export const HALT_AFTER_COLLECT = 0.9;

/**
 * Letting finished connections go when memory runs short (set by the analysis, which knows the
 * checks and the summaries). When the heap budget is spent, the tracker first retires every
 * finished connection and plain TCP stream: their end-of-capture checks run at once (`check`),
 * their summary is kept as text (`summarise`), and their state is released. Tracking of new streams
 * stops only when nothing is finished. Without memory pressure nothing is retired.
 */
export interface Retirement {
  /** runs the end-of-capture checks of these connections and streams (before their state goes) */
  check?(conns: MptcpConnection[], streams: TcpStream[]): void;
  /** the connection's summary as JSON text (connectionJson), kept in place of its state */
  summarise(c: MptcpConnection): string;
  /** keeps the summaries of one retirement together (deflated); without it each text is kept as is */
  pack?(texts: string[]): { text(index: number): string };
  /** connections numbered below this are never retired (the viewer draws their diagrams) */
  keepBelow?: number;
  /** how long a closed stream must be quiet to be finished (default RETIRE_QUIET_PACKETS / _SECONDS) */
  quietPackets?: number;
  quietSeconds?: number;
}

/**
 * A stream is finished when both FINs or a RST were seen and it has been quiet since for this many
 * packets of the capture and this many seconds of capture time (the last ACKs and retransmissions
 * of a close come within them); when none is, for the packets alone.
 */
export const RETIRE_QUIET_PACKETS = 1000;
export const RETIRE_QUIET_SECONDS = 2;

/** What retirement let go, for the tracking-limit finding. */
export interface RetiredReport {
  /** the frame at which the first retirement took place */
  firstFrame: number;
  connections: number;
  /** TCP streams, the retired connections' subflows included */
  streams: number;
  /** packets of retired streams that came after their retirement (counted, not tracked) */
  packets: number;
  /** the heap in use and its limit (bytes) at the first retirement, when the heap was what ran short */
  heap?: { used: number; limit: number };
  /** the streams tracked at once (TrackerLimits.maxStreams), when the first retirement made room under it */
  streamLimit?: number;
}

/** shared by every retired stream and connection in place of their own (nothing writes to them) */
const GONE_PAIR = Object.freeze([undefined, undefined]) as unknown as [undefined, undefined];
const GONE_COUNTS = Object.freeze([0, 0]) as unknown as [number, number];
const GONE_SEEN = Object.freeze([0, 0, 0, 0, 0, 0]) as unknown as number[];
const GONE_LIST = Object.freeze([]) as unknown as never[];
const GONE_LISTS = Object.freeze([GONE_LIST, GONE_LIST]) as unknown as [never[], never[]];
const GONE_STATS = Object.freeze({ outOfOrder: GONE_COUNTS, duplicateDataAcks: GONE_COUNTS, lastDataAck: GONE_PAIR, maxDataAck: GONE_PAIR, sent: GONE_COUNTS }) as MptcpConnection['stats'];

/** What a limit left out. */
export interface LimitReport {
  /** the streams tracked (the limit reached) */
  limit: number;
  firstFrame: number;
  packets: number;
  streams: number;
  /** the stream count was not the limit, the heap was: bytes in use and its limit when tracking stopped */
  heap?: { used: number; limit: number };
  /** untracked streams beyond those counted (the count of distinct 4-tuples has a bound of its own) */
  streamsAtLeast?: boolean;
  /** the heap's use grew on to HeapBudget.haltAt: from this frame on, no packet was tracked */
  halted?: { frame: number; packets: number; used: number };
}

export class Tracker {
  readonly streams: TcpStream[] = [];
  readonly connections: MptcpConnection[] = [];
  private byToken = new Map<number, { conn: MptcpConnection; side: Side }>();
  /** tokens derived by more than one connection */
  readonly tokenCollisions: Array<{ token: number; conns: number[]; frame: number }> = [];
  packets = 0;
  tcpPackets = 0;
  nonFirstFragments = 0;
  /** set once the stream limit is reached */
  untracked: LimitReport | undefined;
  private untrackedKeys = new Set<string>();
  /** maxStreams, lowered to the streams tracked when the heap budget ran out */
  private streamLimit: number;
  /** how finished connections are let go when the heap budget is spent (none: tracking stops) */
  retirement: Retirement | undefined;
  /** what retirement let go */
  retired: RetiredReport | undefined;
  /** the connections and streams not retired, in order: made at the first retirement, then kept */
  private liveConns: MptcpConnection[] | undefined;
  private liveStreams: TcpStream[] | undefined;
  /** retirement let go of state since the last collection (HeapBudget.collect) */
  private uncollected = false;

  constructor(readonly limits: TrackerLimits = DEFAULT_LIMITS) {
    this.streamLimit = limits.maxStreams;
  }

  /**
   * The last resort of the heap budget, read between packets (analyze.ts: at each progress report
   * of the reader, every 16,384 records): the streams already tracked grow too (their mappings,
   * data ranges, the checker's state), so when the heap's use reaches haltAt, tracking stops for
   * every packet, and the rest of the capture is decoded only. `process` is then replaced by a
   * function that only counts, so that the packets before pay nothing for the test.
   *
   * A reading counts garbage not yet collected, so before this step, which is not undone, the heap
   * is collected and read again (when the budget can collect): a busy capture in a small heap was
   * halted a few packets before its end by a reading of 20 MiB in a 24 MiB heap, in one run of
   * twenty. Tracking goes on only when what is live stays below HALT_AFTER_COLLECT of haltAt, so that
   * a heap live just under it is not collected again at every reading.
   */
  checkHeap(): void {
    const h = this.limits.heap;
    if (!h || this.untracked?.halted) return;
    let used = h.used();
    if (used <= h.haltAt) return;
    if (h.collect) {
      used = this.heapInUse(h, used, true);
      if (used <= h.haltAt * HALT_AFTER_COLLECT) return;
    }
    const frame = this.packets + 1;
    const halted = { frame, packets: 0, used };
    this.stopNewStreams(frame, used, h.limit).halted = halted;
    this.process = (f: DecodedFrame): PacketFacts => {
      this.packets++;
      if (f.nonFirstFragment) this.nonFirstFragments++;
      if (f.tcp && f.tcp.headerLength >= 20) { this.tcpPackets++; halted.packets++; }
      return new Facts();
    };
  }

  /**
   * Whether the heap budget is spent (read every HEAP_PROBE_EVERY new streams); once it is, no new
   * stream is tracked for the rest of the capture, and the report says so.
   */
  private heapFull(frame: number, time: number): boolean {
    const h = this.limits.heap;
    if (!h || this.streams.length % (h.probeEvery ?? HEAP_PROBE_EVERY) !== 0) return false;
    let used = h.used();
    if (used <= h.stopAt) return false;
    if (this.retirement) {
      // finished connections go first; when none is, the heap is read again after a collection
      // (heapInUse); once connections have been retired, new streams are refused only past
      // halfway to the halt (the connections open now may finish soon, as others did)
      if (this.retireFinished(frame, time, { heap: { used, limit: h.limit } }) > 0) return false;
      used = this.heapInUse(h, used);
      if (used <= (this.retired ? (h.stopAt + h.haltAt) / 2 : h.stopAt)) return false;
    }
    this.stopNewStreams(frame, used, h.limit);
    return true;
  }

  /**
   * The heap in use (`used`, just read), or read again after a collection when retirement has let
   * go of state since the last one (or `always`, before tracking halts): V8 collects it only near
   * its limit, past the budget's thresholds.
   */
  private heapInUse(h: HeapBudget, used: number, always = false): number {
    if ((!always && !this.uncollected) || !h.collect) return used;
    this.uncollected = false;
    h.collect();
    return h.used();
  }

  /**
   * Retires every finished connection (all its subflows finished) and finished plain TCP stream:
   * their checks run now (Retirement.check), each connection's summary is kept as text, and their
   * state is released. Returns the streams retired.
   */
  private retireFinished(frame: number, time: number, why: Pick<RetiredReport, 'heap' | 'streamLimit'>): number {
    const r = this.retirement!;
    const keep = r.keepBelow ?? 0;
    const quietPackets = r.quietPackets ?? RETIRE_QUIET_PACKETS;
    const quietSeconds = r.quietSeconds ?? RETIRE_QUIET_SECONDS;
    const liveConns = (this.liveConns ??= this.connections.filter((c) => c.retired === undefined));
    const liveStreams = (this.liveStreams ??= this.streams.filter((s) => s.retired !== true));
    const conns: MptcpConnection[] = [];
    const streams: TcpStream[] = [];
    const gather = (seconds: number) => {
      const finished = (s: TcpStream) => closed(s) && s.lastFrame <= frame - quietPackets && s.lastTime <= time - seconds;
      for (const c of liveConns) {
        if (c.id >= keep && c.subflows.length > 0 && c.lastFrame <= frame - quietPackets && c.subflows.every(finished)) {
          conns.push(c);
          for (const s of c.subflows) streams.push(s);
        }
      }
      // (a join to a connection let go is retired at its SYN, before it leaves this list)
      for (const s of liveStreams) if (s.conn === null && s.retired !== true && finished(s)) streams.push(s);
    };
    gather(quietSeconds);
    // none quiet for so long (a fast capture, a few seconds in all): those quiet for the packets
    // alone, rather than refuse new streams (a late packet of theirs is then counted, not tracked)
    if (streams.length === 0 && quietSeconds > 0) gather(0);
    if (streams.length === 0) return 0;
    streams.sort((a, b) => a.id - b.id);
    r.check?.(conns, streams);
    // What stays of a retired connection: its number, version, first frame (findings of the whole
    // capture name it), summary text and subflows; of a stream, its number, endpoints and first SYN
    // (a later packet of its 4-tuple is known as its), and a subflow's join nonces (the viewer's
    // connection list shows them). The rest is let go: shared empty stand-ins, never written, since
    // no packet of theirs is tracked again.
    const texts = conns.map((c) => r.summarise(c));
    const batch = r.pack ? r.pack(texts) : { text: (i: number) => texts[i] };
    for (let i = 0; i < conns.length; i++) {
      const c = conns[i];
      c.retired = { batch, index: i };
      c.ackLimitChanges++;
      c.keyObservations = GONE_LIST; c.announcements = GONE_LIST; c.echoes = GONE_LIST; c.events = GONE_LIST;
      c.mapped = GONE_PAIR; c.sentRanges = GONE_LISTS; c.sentBase = GONE_PAIR; c.sentHigh = GONE_PAIR; c.sentEnd = GONE_PAIR;
      c.dsnRef = GONE_PAIR; c.dataFin = GONE_PAIR; c.noNewSubflowsTo = GONE_PAIR as unknown as [boolean, boolean];
      c.keys = GONE_PAIR; c.tokens = GONE_PAIR; c.idsns = GONE_PAIR; c.initialAddr = GONE_PAIR; c.stats = GONE_STATS;
    }
    for (const s of streams) {
      s.retired = true;
      s.capable = GONE_LIST; s.mappings = GONE_LISTS; s.dataAckMax = GONE_PAIR; s.dataAckMaxSeen = GONE_SEEN; s.isn = GONE_PAIR; s.finFrame = GONE_PAIR;
      s.packets = GONE_COUNTS; s.bytes = GONE_COUNTS;
      s.dssCache = undefined; s.inflight = undefined; s.rtt = undefined;
      if (s.conn === null) s.join = undefined;
      else if (s.join) s.join.hmac = undefined;
    }
    this.uncollected = true;
    this.liveConns = liveConns.filter((c) => c.retired === undefined);
    this.liveStreams = liveStreams.filter((s) => s.retired !== true);
    const rep = (this.retired ??= { firstFrame: frame, connections: 0, streams: 0, packets: 0, ...why });
    rep.connections += conns.length;
    rep.streams += streams.length;
    return streams.length;
  }

  /** the streams tracked now (not retired) */
  private liveStreamCount(): number {
    return this.streams.length - (this.retired?.streams ?? 0);
  }

  /**
   * Whether no new stream may be tracked: as many as the limit are (retired ones do not count),
   * and retiring the finished ones makes no room.
   */
  private atStreamLimit(frame: number, time: number): boolean {
    if (this.liveStreamCount() < this.streamLimit) return false;
    if (this.retirement && this.retireFinished(frame, time, { streamLimit: this.streamLimit }) > 0 && this.liveStreamCount() < this.streamLimit) return false;
    return true;
  }

  /** The report of streams not tracked, begun at `frame` when this is the first. */
  private untrackedReport(frame: number): LimitReport {
    return (this.untracked ??= { limit: this.streams.length, firstFrame: frame, packets: 0, streams: 0 });
  }

  /** No new stream from `frame` on, since the heap held `used` bytes of `limit`: the report says so. */
  private stopNewStreams(frame: number, used: number, limit: number): LimitReport {
    this.streamLimit = Math.min(this.streamLimit, this.liveStreamCount());
    const u = this.untrackedReport(frame);
    u.heap ??= { used, limit };
    return u;
  }

  /**
   * The TCP flags and payload length of the packet repeatLane took last (what an index of packets
   * reads besides the record and the facts; the same object, filled again for each packet)
   */
  readonly laneSegment = { flags: 0, payloadLength: 0 };

  /**
   * The bytes repeatLane read last (the reader's buffer, the same for a whole chunk of records) and
   * a DataView over them, through which the lane reads its 16- and 32-bit fields and compares a
   * repeated DSS (sameWordsIn): a field in one load, where four bounds-checked bytes were
   */
  private laneBytes: Uint8Array | undefined = undefined;
  private laneView: DataView | undefined = undefined;

  /**
   * The repeat lane: the packets of a transfer, worked out from their bytes without decoding them
   * into objects (most packets of a capture). Such a packet is a TCP segment in IPv4 without IP
   * options or in IPv6 without extension headers, of a stream already tracked and tied to a
   * connection (found as findStream finds it), its TCP header wholly captured and well formed, with no SYN, FIN or RST, outside a handshake,
   * whose one MPTCP option is a well-formed DSS: mostly its direction's last DSS again, byte for
   * byte (TcpStream.dssCache; no parsing), else a new Data ACK or mapping. For such a packet this
   * does what decodeFrame and process do, and returns the same facts; for any other it changes
   * nothing and returns undefined (then decodeFrame and process take it). Its packets are quiet to
   * the checker (isQuiet) when quietFacts says so of their facts.
   */
  repeatLane(rec: CaptureRecord, b: Uint8Array, base = 0, n = b.length): PacketFacts | undefined {
    // the frame is b[base, n) (ScanOptions.take: where it lies in the reader's buffer); every offset
    // below is in `b`, and made the frame's own where it is kept (an option's, the DSS cache's)
    // the DataView of these bytes (laneView), made again only when the reader moves to another buffer
    if (b !== this.laneBytes) { this.laneBytes = b; this.laneView = new DataView(b.buffer, b.byteOffset, b.byteLength); }
    const v = this.laneView!;
    let o: number; // the IP header's offset (decodeFrame's link layers, except loopback and PPP)
    let et: number; // the ethertype; 0: the IP version decides (raw IP)
    switch (rec.linkType) {
      case LINKTYPE.ETHERNET:
        if (n < base + 14) return undefined;
        o = pastVlanTags(b, base + 14, n);
        if (o < 0) return undefined;
        et = v.getUint16(o - 2);
        break;
      case LINKTYPE.LINUX_SLL: if (n < base + 16) return undefined; et = v.getUint16(base + 14); o = base + 16; break;
      case LINKTYPE.LINUX_SLL2: if (n < base + 20) return undefined; et = v.getUint16(base); o = base + 20; break;
      case LINKTYPE.RAW: case LINKTYPE.RAW_OLD: case LINKTYPE.RAW_OPENBSD: et = 0; o = base; break;
      case LINKTYPE.IPV4: et = ETHERTYPE_IPV4; o = base; break;
      case LINKTYPE.IPV6: et = ETHERTYPE_IPV6; o = base; break;
      default: return undefined;
    }
    if (n < o + 40) return undefined;
    let to: number; // the TCP header's offset
    let ipPayload: number; // what the IP header says follows it
    let v6: boolean;
    if ((et === ETHERTYPE_IPV4 || et === 0) && b[o] === 0x45) {
      // version 4 and a 20-byte header, not a later fragment, TCP, and the TCP header's fixed part
      if ((v.getUint16(o + 6) & 0x1fff) !== 0 || b[o + 9] !== 6) return undefined;
      v6 = false;
      to = o + 20;
      const total = v.getUint16(o + 2);
      ipPayload = total >= 20 ? total - 20 : n - to; // TSO captures carry a total length of 0
    } else if ((et === ETHERTYPE_IPV6 || et === 0) && b[o] >> 4 === 6) {
      // version 6, TCP the next header (no extension header), and the TCP header's fixed part
      if (n < o + 60 || b[o + 6] !== 6) return undefined;
      v6 = true;
      to = o + 40;
      const length = v.getUint16(o + 4);
      ipPayload = length === 0 ? n - to : length; // a jumbogram or TSO: what the frame holds
    } else return undefined;
    const src = o + (v6 ? 8 : 12);
    const src4 = v6 ? -1 : v.getUint32(src), dst4 = v6 ? -1 : v.getUint32(src + 4);
    const srcPort = v.getUint16(to), dstPort = v.getUint16(to + 2);
    // the last packet's stream, as streamAt tries it first (an IPv4 stream: its addresses are
    // numbers), without the call; else streamAt
    let s = this.lastStream;
    let dir: Dir = 0;
    if (!v6 && s !== undefined && s.ipv4A === src4 && s.ipv4B === dst4 && s.a.port === srcPort && s.b.port === dstPort) dir = 0;
    else if (!v6 && s !== undefined && s.ipv4B === src4 && s.ipv4A === dst4 && s.b.port === srcPort && s.a.port === dstPort) dir = 1;
    else {
      s = this.streamAt(b, src, v6, src4, dst4, srcPort, dstPort, true);
      dir = this.foundDir;
    }
    if (s === undefined || s.retired === true || s.awaiting !== 0) return undefined;
    const c = s.conn;
    if (c === null || s.sideOfA === undefined) return undefined;
    const word = v.getUint16(to + 12);
    const hl = (word >> 12) * 4;
    const flags = word & 0x0fff;
    const end = to + hl;
    if ((flags & (TH_SYN | TH_FIN | TH_RST)) !== 0 || hl < 20 || n < end) return undefined;
    // the options, as decodeTcp walks them: well formed, and one MPTCP option
    let at = -1;
    let p = to + 20;
    // Linux's usual first options, NOP, NOP and timestamps (kind 8, length 10), in one word: as the
    // walk below steps over them, in one step (three were a ninth of the lane's instructions)
    if (p + 12 <= end && v.getUint32(p) === 0x0101080a) p += 12;
    for (; p < end;) {
      const kind = b[p];
      if (kind === 0) break;
      if (kind === 1) { p++; continue; }
      if (p + 1 >= end) return undefined;
      const len = b[p + 1];
      if (len < 2 || p + len > end) return undefined;
      if (kind === TCPOPT_MPTCP) { if (at !== -1) return undefined; at = p; }
      p += len;
    }
    if (at === -1) return undefined;
    const length = b[at + 1];
    const payloadLength = Math.max(0, ipPayload - hl);
    const payloadCaptured = Math.max(0, Math.min(payloadLength, n - end));
    // the direction's last DSS again (as `repeats` finds it), or another DSS, well formed
    const cache = s.dssCache?.[dir];
    const repeated = cache !== undefined && cache.offset === at - base && cache.length === length && cache.conn === c && sameWordsIn(cache.words, v, at, length);
    let option: Dss | undefined;
    if (!repeated) {
      if (length < 3 || b[at + 2] >> 4 !== Subtype.DSS) return undefined;
      option = parseDss(b, at, length, length, base);
      if (option.lengthProblem !== undefined) return undefined;
    }
    const seq = v.getUint32(to + 4);
    // the packet is one: what process does for it
    this.packets++;
    this.tcpPackets++;
    const frame = rec.frame;
    const time = rec.tsSec + rec.tsNsec / 1e9;
    this.remember(s);
    const facts = new Facts();
    facts.stream = s;
    facts.dir = dir;
    this.laneSegment.flags = flags;
    this.laneSegment.payloadLength = payloadLength;
    s.lastFrame = frame;
    s.lastTime = time;
    s.packets[dir]++;
    s.bytes[dir] += payloadLength;
    this.rtt(s, dir, seq, v.getUint32(to + 8), payloadLength, (flags & TH_ACK) !== 0, time);
    if (option === undefined) {
      facts.options = cache!.options;
      facts.repeatedDss = cache;
      this.applyRepeat(frame, time, s, dir, cache!, facts, seq, payloadLength, payloadCaptured, end, b);
      return facts;
    }
    // another DSS: applied (applyOption's way for a DSS on a stream with a connection and a side),
    // its Data ACK against the high-water mark, and cached
    facts.options = [option];
    const side = this.sideOf(s, dir)!;
    this.applyDssFully(frame, payloadLength, s, dir, side, c, option, facts);
    if (facts.dataAck !== undefined) this.dataAckHighWater(frame, s, dir, facts, time);
    if (!closed(s)) this.cacheDss(s, dir, c, option, facts, b, base);
    s.dssSeen = true;
    this.onConnection(frame, s, dir, c, side, facts, time, seq, payloadLength, payloadCaptured, end, b);
    return facts;
  }

  /** Processes one decoded frame; `data` is the frame's bytes (used for DSS checksums). */
  process(f: DecodedFrame, data: Uint8Array): PacketFacts {
    this.packets++;
    const facts = new Facts();
    if (f.nonFirstFragment) this.nonFirstFragments++;
    const t = f.tcp;
    if (!t || t.headerLength < 20) return facts;
    this.tcpPackets++;
    const time = f.tsSec + f.tsNsec / 1e9;
    const s = this.findStream(f, time, data);
    if (!s) return facts; // beyond the stream limit: decoded, not tracked
    if (s.retired === true) { this.retired!.packets++; return facts; } // let go when memory ran short
    const dir = this.foundDir;
    facts.stream = s;
    facts.dir = dir;
    s.lastFrame = f.frame;
    s.lastTime = time;
    s.packets[dir]++;
    s.bytes[dir] += t.payloadLength;
    const syn = (t.flags & TH_SYN) !== 0;
    const ack = (t.flags & TH_ACK) !== 0;
    if (syn && !ack) {
      s.isn[dir] = t.seq;
      s.synFrame ??= f.frame;
      s.synSeq = t.seq;
    } else if (syn && ack) {
      s.isn[dir] = t.seq;
      s.synAckFrame ??= f.frame;
      s.awaiting |= dir === 0 ? AWAIT_ANSWER_1 : AWAIT_ANSWER_0;
    } else if (s.awaiting !== 0) {
      const answer = dir === 0 ? AWAIT_ANSWER_0 : AWAIT_ANSWER_1;
      if (s.awaiting & answer) { s.awaiting &= ~answer; facts.handshake = true; }
      if (s.awaiting & AWAIT_JOIN_PEER) {
        facts.handshake = true;
        if (dir === 1) s.awaiting &= ~AWAIT_JOIN_PEER;
      }
    }
    this.rtt(s, dir, t.seq, t.ack, t.payloadLength, (t.flags & TH_ACK) !== 0, time);
    if (t.flags & (TH_FIN | TH_RST)) {
      if (t.flags & TH_FIN) s.finFrame[dir] ??= f.frame;
      if (t.flags & TH_RST) s.rstFrame ??= f.frame;
      // a closed stream lets go of what only its next segments would use (a busy capture holds
      // tens of thousands of them): the repeated-DSS cache, and the record of segments in flight
      // once nothing is in it (an empty record and none are the same to rtt)
      if (closed(s)) {
        s.dssCache = undefined;
        if (s.inflight && s.inflight.v[IF_COUNT] === 0 && s.inflight.v[4 + IF_COUNT] === 0) s.inflight = undefined;
      }
    }

    let repeat: DssCache | undefined;
    const refs = t.mptcpOptions;
    if (refs.length) {
      const cache = s.dssCache?.[dir];
      let optCtx: OptionContext | undefined;
      // one MPTCP option, the direction's last DSS again: the common case, a one-element list
      const only = refs.length === 1 ? refs[0] : undefined;
      if (only && cache && repeats(cache, only, s.conn, data)) {
        repeat = cache;
        facts.options = cache.options;
      } else {
        const options: MptcpOption[] = (facts.options = []);
        for (let i = 0; i < refs.length; i++) {
          const ref = refs[i];
          if (ref.length < 2) continue;
          if (cache && repeats(cache, ref, s.conn, data)) {
            repeat = cache;
            options.push(cache.option);
            continue;
          }
          optCtx ??= { syn, ack, hasData: t.payloadLength > 0, version: s.conn?.version };
          options.push(parseMptcpOption(data, ref.offset, ref.length, ref.avail, optCtx));
        }
      }
      facts.repeatedDss = repeat;
      // Only the direction's last DSS again, outside a handshake (most packets of a transfer): what
      // applyOption would do for it, without the general walk. Its stream has a connection and a
      // side (the DSS it repeats was applied on it), and has seen a DSS.
      if (repeat !== undefined && facts.options.length === 1 && !syn) {
        this.applyRepeat(f.frame, time, s, dir, repeat, facts, t.seq, t.payloadLength, t.payloadCaptured, t.payloadOffset, data);
        return facts;
      }
    }

    // A SYN/ACK without MP_CAPABLE answering an MP_CAPABLE SYN: fallback at the handshake (§3.1).
    if (syn && ack && s.capable.length && s.capable.some((c) => c.stage === 'syn') && !facts.options.some((o) => o.kind === 'MP_CAPABLE')) {
      s.fallbackAtSynAck ??= f.frame;
      if (s.conn && !s.conn.fallback) s.conn.fallback = { frame: f.frame, how: 'the SYN/ACK carries no MP_CAPABLE' };
    }

    const options = facts.options;
    for (let i = 0; i < options.length; i++) this.applyOption(f, s, dir, options[i], facts, time, t.payloadLength);
    if (facts.dataAck !== undefined) this.dataAckHighWater(f.frame, s, dir, facts, time);
    // remember this direction's DSS, so that its repeats on the next segments cost nothing
    if (s.conn && options.length && !closed(s)) {
      for (let i = 0; i < options.length; i++) {
        const o = options[i];
        if (o.kind !== 'DSS' || o === repeat?.option || o.lengthProblem || o.truncated) continue;
        this.cacheDss(s, dir, s.conn, o, facts, data);
      }
    }
    if (!s.dssSeen) for (let i = 0; i < options.length; i++) if (options[i].kind === 'DSS') { s.dssSeen = true; break; }

    if (s.conn) this.onConnection(f.frame, s, dir, s.conn, this.sideOf(s, dir), facts, time, t.seq, t.payloadLength, t.payloadCaptured, t.payloadOffset, data);
    return facts;
  }

  /** Remembers a DSS as its direction's last (TcpStream.dssCache), so that its repeats on the next segments cost nothing. */
  private cacheDss(s: TcpStream, dir: Dir, c: MptcpConnection, o: Dss, facts: PacketFacts, data: Uint8Array, base = 0): void {
    const caches = (s.dssCache ??= [undefined, undefined]);
    // the word store of the direction's previous DSS is reused (only the tracker reads it)
    const at = o.offset, length = o.length; // read once: options come in many shapes
    const words = caches[dir]?.words ?? new Int32Array(OPTION_WORDS);
    optionWords(data, base + at, length, words);
    caches[dir] = {
      offset: at, length, words, option: o, options: [o],
      dataAck: facts.dataAck, mappingDsn: facts.mappingDsn, conn: c,
      ackRises: s.dataAckMaxSeen[dir * 3 + ACK_MAX_RISES], ackBelow: facts.dataAckBelow,
    };
  }

  /**
   * The direction's last DSS again, alone, outside a handshake (most packets of a transfer): what
   * applyOption would do for it, without the general walk. Its stream has a connection and a side
   * (the DSS it repeats was applied on it), and has seen a DSS.
   */
  private applyRepeat(frame: number, time: number, s: TcpStream, dir: Dir, repeat: DssCache, facts: PacketFacts, seq: number, payloadLength: number, payloadCaptured: number, payloadOffset: number, data: Uint8Array): void {
    const c = repeat.conn;
    const side = this.sideOf(s, dir)!;
    applyRepeatedDss(repeat, c, side, facts, payloadLength);
    if (facts.dataAck !== undefined) {
      // the mark has not risen since the repeated DSS was worked out: the same answer
      if (repeat.ackRises === s.dataAckMaxSeen[dir * 3 + ACK_MAX_RISES]) this.ackAgain(frame, s, dir, facts, time, repeat.ackBelow);
      else this.dataAckHighWater(frame, s, dir, facts, time);
    }
    this.onConnection(frame, s, dir, c, side, facts, time, seq, payloadLength, payloadCaptured, payloadOffset, data);
  }

  /**
   * The packet's Data ACK (the last of its DSS options') against its subflow direction's high-water
   * mark: a higher one raises it, one as high is the mark seen again (its frame and time), a lower
   * one is below it (data-ack-regression judges it, by the time since the mark was last seen).
   */
  private dataAckHighWater(frame: number, s: TcpStream, dir: Dir, facts: PacketFacts, time: number): void {
    const dack = facts.dataAck!;
    const prev = s.dataAckMax[dir];
    let below = false;
    if (prev === undefined || dack > prev) {
      s.dataAckMax[dir] = dack;
      s.dataAckMaxSeen[dir * 3 + ACK_MAX_RISES]++;
    } else below = dack < prev;
    this.ackAgain(frame, s, dir, facts, time, below);
  }

  private ackAgain(frame: number, s: TcpStream, dir: Dir, facts: PacketFacts, time: number, below: boolean): void {
    // written every time, false but for a Data ACK below the mark: a store met only at the first such
    // ACK (mid-capture, after V8 had compiled this) was its cue to throw the code away
    facts.dataAckBelow = below;
    if (below) return;
    const seen = s.dataAckMaxSeen;
    seen[dir * 3 + ACK_MAX_FRAME] = frame;
    seen[dir * 3 + ACK_MAX_TIME] = time;
  }

  /** A packet of a stream tied to a connection: the connection's last packet, and its data mapped. */
  private onConnection(frame: number, s: TcpStream, dir: Dir, c: MptcpConnection, side: Side | undefined, facts: PacketFacts, time: number,
    seq: number, payloadLength: number, payloadCaptured: number, payloadOffset: number, data: Uint8Array): void {
    c.lastFrame = frame;
    c.lastTime = time;
    facts.conn = c;
    facts.side = side;
    if (side !== undefined && c.version !== 0) c.stats.sent[side]++;
    if (facts.options.length > 0) s.lastMptcpFrame = frame;
    if (payloadLength > 0) this.mapSegment(frame, s, dir, c, facts, seq, payloadLength, payloadCaptured, payloadOffset, data);
  }

  /**
   * Round-trip time at the capture point: from a data segment to the first ACK that covers it, in
   * the other direction. Retransmitted data gives no sample (Karn's rule).
   */
  private rtt(s: TcpStream, dir: Dir, seq: number, ack: number, len: number, hasAck: boolean, time: number): void {
    const q = s.inflight;
    if (hasAck && q) {
      // the oldest segment in flight the other way: one sample per ACK; what it also covered was sent earlier
      const v = q.v;
      const b = (1 - dir) * 4;
      if (v[b + IF_COUNT] > 0 && ((ack - v[b + IF_FIRST_END]) | 0) >= 0) {
        const r = (s.rtt ??= { samples: 0, sum: 0, min: Infinity, max: 0 });
        const d = time - v[b + IF_FIRST_TIME];
        if (d >= 0) { r.samples++; r.sum += d; if (d < r.min) r.min = d; if (d > r.max) r.max = d; }
        v[b + IF_COUNT] = 0;
        if (v[dir * 4 + IF_COUNT] === 0 && closed(s)) s.inflight = undefined;
      }
    }
    if (len > 0) {
      const v = (s.inflight ??= newInflight()).v;
      const o = dir * 4;
      const end = (seq + len) >>> 0;
      const n = v[o + IF_COUNT];
      if (n > 0 && ((end - v[o + IF_LAST_END]) | 0) <= 0) { v[o + IF_COUNT] = 0; return; } // a retransmission: no sample for what is in flight
      if (n === 0) { v[o + IF_FIRST_END] = end; v[o + IF_FIRST_TIME] = time; }
      if (n < INFLIGHT) { v[o + IF_LAST_END] = end; v[o + IF_COUNT] = n + 1; }
    }
  }

  /** The connection side that sends in direction `dir` of stream `s`, when known. */
  sideOf(s: TcpStream, dir: Dir): Side | undefined {
    if (s.sideOfA === undefined) return undefined;
    return (dir === 0 ? s.sideOfA : 1 - s.sideOfA) as Side;
  }

  /** The stream of the packet (its direction in `foundDir`), or undefined beyond the stream limit. */
  private findStream(f: DecodedFrame, time: number, data: Uint8Array): TcpStream | undefined {
    const t = f.tcp!;
    // a SYN may reuse a 4-tuple and start a new stream: only findStreamSlow decides that
    const synOnly = (t.flags & TH_SYN) !== 0 && (t.flags & TH_ACK) === 0;
    // a SYN goes on to findStreamSlow with what it found
    const v6 = f.ipVersion === 6;
    const src = f.ipOffset + (v6 ? 8 : 12);
    const s = this.streamAt(data, src, v6, v6 ? -1 : be32(data, src), v6 ? -1 : be32(data, src + 4), t.srcPort, t.dstPort, !synOnly);
    if (s && !synOnly) return this.remember(s);
    const found = this.findStreamSlow(f, time, s, data);
    return found && this.remember(found);
  }

  /**
   * The current stream of the 4-tuple whose source address is at `src` in `b` and destination
   * address right after it (IPv4, read by the caller as `src4` and `dst4`; or IPv6 when `v6`, with
   * those -1), either way round, its direction in
   * `foundDir`. With `recent`, the last two streams are tried first (consecutive packets mostly
   * belong to the stream of the one before); then by port pair (byPorts holds one stream per
   * 4-tuple; no text key: building and hashing one for every SYN cost a busy capture a few per cent
   * of its decoding). Addresses are compared as numbers (TcpStream.ipv4A/ipv6A), not as text.
   */
  private streamAt(b: Uint8Array, src: number, v6: boolean, src4: number, dst4: number, srcPort: number, dstPort: number, recent: boolean): TcpStream | undefined {
    const dst = src + (v6 ? 16 : 4);
    if (recent) {
      for (let i = 0, x = this.lastStream; i < 2 && x; i++, x = this.prevStream) {
        if (x.a.port === srcPort && x.b.port === dstPort && isAddress(x, true, src4, b, src, v6) && isAddress(x, false, dst4, b, dst, v6)) { this.foundDir = 0; return x; }
        if (x.b.port === srcPort && x.a.port === dstPort && isAddress(x, false, src4, b, src, v6) && isAddress(x, true, dst4, b, dst, v6)) { this.foundDir = 1; return x; }
      }
    }
    const fwd = this.byPorts.get(srcPort * 65536 + dstPort);
    if (fwd) for (let i = 0; i < fwd.length; i++) {
      const x = fwd[i];
      if (isAddress(x, true, src4, b, src, v6) && isAddress(x, false, dst4, b, dst, v6)) { this.foundDir = 0; return x; }
    }
    const rev = this.byPorts.get(dstPort * 65536 + srcPort);
    if (rev) for (let i = 0; i < rev.length; i++) {
      const x = rev[i];
      if (isAddress(x, true, dst4, b, dst, v6) && isAddress(x, false, src4, b, src, v6)) { this.foundDir = 1; return x; }
    }
    return undefined;
  }

  /** the current stream of each 4-tuple, by its first endpoint's port × 65536 + the second's */
  private byPorts = new Map<number, TcpStream[]>();

  private remember(s: TcpStream): TcpStream {
    if (s !== this.lastStream) { this.prevStream = this.lastStream; this.lastStream = s; }
    return s;
  }

  private lastStream: TcpStream | undefined;
  private prevStream: TcpStream | undefined;
  private foundDir: Dir = 0;

  /** A SYN, or a packet of no known stream: `s` is its 4-tuple's current stream, if any. */
  private findStreamSlow(f: DecodedFrame, time: number, s: TcpStream | undefined, data: Uint8Array): TcpStream | undefined {
    const t = f.tcp!;
    const syn = (t.flags & TH_SYN) !== 0 && (t.flags & TH_ACK) === 0;
    // A new SYN with another sequence number on a used 4-tuple starts a new stream (port reuse).
    let reused: TcpStream | undefined;
    if (s && syn && s.synSeq !== undefined && s.synSeq !== t.seq) { reused = s; s = undefined; }
    if (!s && (this.atStreamLimit(f.frame, time) || this.heapFull(f.frame, time))) {
      // the new stream of a reused 4-tuple is not tracked: the old one must not take its packets
      if (reused) this.forget(reused);
      const u = this.untrackedReport(f.frame);
      u.packets++;
      const k1 = `${f.src}|${t.srcPort}`;
      const k2 = `${f.dst}|${t.dstPort}`;
      const key = k1 < k2 ? `${k1}|${k2}` : `${k2}|${k1}`;
      // the distinct 4-tuples are counted up to a bound: fewer when the heap is what is short
      const most = u.heap ? 10_000 : 1_000_000;
      if (!this.untrackedKeys.has(key)) {
        if (this.untrackedKeys.size < most) { this.untrackedKeys.add(key); u.streams++; } else u.streamsAtLeast = true;
      }
      return undefined;
    }
    if (!s) {
      // every field present from the start: one hidden class for all streams keeps the per-packet
      // property accesses monomorphic
      s = {
        id: this.streams.length,
        a: { addr: f.src, port: t.srcPort },
        b: { addr: f.dst, port: t.dstPort },
        ipv4A: f.ipVersion === 4 ? be32(data, f.ipOffset + 12) : -1,
        ipv4B: f.ipVersion === 4 ? be32(data, f.ipOffset + 16) : -1,
        ipv6A: f.ipVersion === 6 ? v6Words(data, f.ipOffset + 8) : undefined,
        ipv6B: f.ipVersion === 6 ? v6Words(data, f.ipOffset + 24) : undefined,
        isn: [undefined, undefined],
        synFrame: undefined, synAckFrame: undefined, synSeq: undefined,
        firstFrame: f.frame, lastFrame: f.frame, firstTime: time, lastTime: time,
        packets: [0, 0], bytes: [0, 0], finFrame: [undefined, undefined], rstFrame: undefined,
        capable: [], role: 'plain', conn: null, sideOfA: undefined, join: undefined, backup: false, dssSeen: false,
        lastMptcpFrame: undefined, mappings: [emptyObjects(), emptyObjects()], fallbackAtSynAck: undefined, dataAckMax: [undefined, undefined], dataAckMaxSeen: [0, 0, 0, 0, 0, 0],
        dssCache: undefined, reinjectedBytes: undefined, rtt: undefined, inflight: undefined, awaiting: 0, retired: undefined,
      };
      this.streams.push(s);
      this.liveStreams?.push(s);
      // a reused 4-tuple: the new stream replaces the old one, whichever way the old one was opened
      const ns = s;
      const rev = this.byPorts.get(ns.b.port * 65536 + ns.a.port);
      if (rev) { const i = rev.findIndex((x) => x.a.addr === ns.b.addr && x.b.addr === ns.a.addr); if (i >= 0) rev.splice(i, 1); }
      const pk = ns.a.port * 65536 + ns.b.port;
      const same = this.byPorts.get(pk);
      if (!same) this.byPorts.set(pk, [ns]);
      else {
        const i = same.findIndex((x) => x.a.addr === ns.a.addr && x.b.addr === ns.b.addr);
        if (i >= 0) same[i] = ns; else same.push(ns);
      }
    }
    this.foundDir = s.a.addr === f.src && s.a.port === t.srcPort ? 0 : 1;
    return s;
  }

  /** Takes a stream out of the 4-tuple lookup (its 4-tuple now belongs to an untracked stream). */
  private forget(s: TcpStream): void {
    const list = this.byPorts.get(s.a.port * 65536 + s.b.port);
    const i = list ? list.indexOf(s) : -1;
    if (i >= 0) list!.splice(i, 1);
    if (this.prevStream === s) this.prevStream = undefined;
    if (this.lastStream === s) { this.lastStream = this.prevStream; this.prevStream = undefined; }
  }

  private newConnection(f: DecodedFrame, time: number, createdBy: MptcpConnection['createdBy']): MptcpConnection {
    const c: MptcpConnection = {
      id: this.connections.length,
      partial: true,
      keys: [undefined, undefined],
      tokens: [undefined, undefined],
      idsns: [undefined, undefined],
      checksumRequired: false,
      noNewSubflowsTo: [false, false],
      initialAddr: [undefined, undefined],
      keyObservations: [],
      subflows: [],
      announcements: [],
      echoes: [],
      events: [],
      dataFin: [undefined, undefined],
      sentEnd: [undefined, undefined],
      mapped: [undefined, undefined],
      dsnRef: [undefined, undefined],
      firstFrame: f.frame, lastFrame: f.frame, firstTime: time, lastTime: time,
      version: undefined, initial: undefined, fallback: undefined, fastcloseFrame: undefined,
      createdBy,
      reinjectedBytes: 0,
      ackLimitChanges: 0,
      stats: { outOfOrder: [0, 0], duplicateDataAcks: [0, 0], lastDataAck: [undefined, undefined], maxDataAck: [undefined, undefined], sent: [0, 0] },
      sentRanges: [[], []],
      sentHigh: [undefined, undefined],
      sentBase: [undefined, undefined],
      retired: undefined,
    };
    this.connections.push(c);
    this.liveConns?.push(c);
    return c;
  }

  private attach(s: TcpStream, c: MptcpConnection): void {
    if (s.conn === c) return;
    s.conn = c;
    c.ackLimitChanges++;
    c.subflows = appendTight(c.subflows, s);
  }

  private setKey(c: MptcpConnection, side: Side, key: bigint, frame: number): void {
    if (c.keys[side] !== undefined) return;
    c.keys[side] = key;
    if (c.version === undefined) return;
    const d = deriveFromKey(key, c.version);
    c.tokens[side] = d.token;
    c.idsns[side] = d.idsn;
    c.ackLimitChanges++;
    c.dsnRef[side] ??= d.idsn;
    const prev = this.byToken.get(d.token);
    if (prev && prev.conn !== c) {
      const existing = this.tokenCollisions.find((x) => x.token === d.token);
      if (existing) { if (!existing.conns.includes(c.id)) existing.conns.push(c.id); }
      else this.tokenCollisions.push({ token: d.token, conns: [prev.conn.id, c.id], frame });
    } else {
      this.byToken.set(d.token, { conn: c, side });
    }
  }

  private applyOption(f: DecodedFrame, s: TcpStream, dir: Dir, o: MptcpOption, facts: PacketFacts, time: number, payloadLength: number): void {
    const t = f.tcp!;
    const syn = (t.flags & TH_SYN) !== 0;
    const ack = (t.flags & TH_ACK) !== 0;
    if (o.lengthProblem && o.kind !== 'MP_CAPABLE' && o.kind !== 'MP_JOIN') {
      // RFC 8684 §3.8: a malformed option is not acted upon; still, tshark-style, it ties the stream.
      if (!s.conn && o.subtype > 1) this.attach(s, this.newConnection(f, time, 'option'));
      return;
    }
    switch (o.kind) {
      case 'MP_CAPABLE':
        this.applyCapable(f, s, dir, o, time, syn, ack, payloadLength);
        return;
      case 'MP_JOIN':
        this.applyJoin(f, s, dir, o, time, syn, ack);
        return;
      default:
        break;
    }
    // Every other subtype on a stream not yet tied to a connection starts one (as Wireshark does).
    if (!s.conn) {
      const c = this.newConnection(f, time, 'option');
      this.attach(s, c);
      s.role = 'unknown';
    }
    const c = s.conn!;
    if (s.sideOfA === undefined) s.sideOfA = 0; // partial: the first sender seen is taken as side 0
    const side = this.sideOf(s, dir)!;
    switch (o.kind) {
      case 'DSS':
        this.applyDss(f, s, dir, side, c, o, facts);
        return;
      case 'ADD_ADDR': {
        if (o.addressId === undefined || o.address === undefined) return;
        if (o.layout === 1 && o.echo) {
          // the echo goes back to the announcer: the announcer is the other side
          const ann = [...c.announcements].reverse().find((a) => a.side !== side && a.id === o.addressId && a.address === o.address && (a.port ?? 0) === (o.port ?? 0));
          if (ann && ann.echoFrame === undefined) ann.echoFrame = f.frame;
          c.echoes = pushCapped(c.echoes, { frame: f.frame, time, side, id: o.addressId, address: o.address, port: o.port, matched: !!ann, stream: s.id });
        } else {
          c.announcements = pushCapped(c.announcements, { frame: f.frame, time, side, id: o.addressId, address: o.address, addressBytes: o.addressBytes, port: o.port, hmac: o.hmac, stream: s.id, peerSentBefore: c.stats.sent[1 - side] });
        }
        return;
      }
      case 'MP_PRIO':
        s.backup = o.backup;
        c.events = pushCapped(c.events, { frame: f.frame, time, stream: s.id, side, option: o });
        return;
      case 'MP_FASTCLOSE':
        c.fastcloseFrame ??= f.frame;
        c.events = pushCapped(c.events, { frame: f.frame, time, stream: s.id, side, option: o });
        return;
      case 'MP_TCPRST':
        if (s.join && s.join.rstFrame === undefined) { s.join.rstFrame = f.frame; s.join.rstTime = time; s.join.rstReason = o.reason; }
        c.events = pushCapped(c.events, { frame: f.frame, time, stream: s.id, side, option: o });
        return;
      default:
        c.events = pushCapped(c.events, { frame: f.frame, time, stream: s.id, side, option: o });
    }
  }

  private applyCapable(f: DecodedFrame, s: TcpStream, dir: Dir, o: MpCapable, time: number, syn: boolean, ack: boolean, payloadLength: number): void {
    const stage = syn ? (ack ? 'synack' : 'syn') : o.length >= 22 ? 'data' : 'ack';
    if (s.capable.length < 64) s.capable = appendTight(s.capable, { frame: f.frame, time, dir, stage, option: o });
    if (s.role === 'plain') s.role = 'initial';
    // The client is the SYN's sender; without a SYN, the SYN/ACK's receiver; else the key-echoing sender.
    if (s.sideOfA === undefined) {
      if (stage === 'synack') s.sideOfA = dir === 0 ? 1 : 0;
      else s.sideOfA = dir === 0 ? 0 : 1;
    }
    if (o.senderKey === undefined) return; // a v1 SYN: no key, no connection yet
    let c = s.conn;
    if (!c) {
      c = this.newConnection(f, time, 'capable');
      this.attach(s, c);
      c.initial = s;
      c.firstFrame = s.firstFrame;
      c.firstTime = s.firstTime;
      // complete only if we saw the SYN that opened the stream
      c.partial = !s.capable.some((x) => x.stage === 'syn');
    }
    const side = this.sideOf(s, dir)!;
    const peer = (1 - side) as Side;
    // The negotiated version is the SYN/ACK's; before it, the SYN's (§3.1).
    if (stage === 'synack' || c.version === undefined) {
      const changed = c.version !== o.version;
      c.version = o.version;
      if (changed) this.rederiveKeys(c, f.frame);
    }
    if (o.flags & CAPABLE_A) c.checksumRequired = true;
    if (o.version >= 1 && o.flags & CAPABLE_C && (stage === 'syn' || stage === 'synack')) c.noNewSubflowsTo[side] = true;
    c.initialAddr[side] ??= dir === 0 ? s.a.addr : s.b.addr;
    c.initialAddr[peer] ??= dir === 0 ? s.b.addr : s.a.addr;
    if (c.keyObservations.length < 256) c.keyObservations = appendTight(c.keyObservations, { frame: f.frame, side, key: o.senderKey, as: 'sender', stage });
    this.setKey(c, side, o.senderKey, f.frame);
    if (o.receiverKey !== undefined) {
      if (c.keyObservations.length < 256) c.keyObservations = appendTight(c.keyObservations, { frame: f.frame, side: peer, key: o.receiverKey, as: 'echo', stage });
      this.setKey(c, peer, o.receiverKey, f.frame);
    }
    // v1: the first data segment carries an implicit mapping from IDSN+1 (§3.1)
    if (stage === 'data' && o.dataLevelLength !== undefined && payloadLength > 0 && c.idsns[side] !== undefined) {
      const m: Mapping = {
        frame: f.frame, stream: s.id, dir, dsn: (c.idsns[side]! + 1n) & MASK64, dsnKnown: true,
        ssn: 1, length: o.dataLevelLength, checksum: o.checksum, implicit: true, sum: undefined, covered: 0,
        verified: undefined, unverifiable: undefined, rel: undefined, relSide: -1,
      };
      this.addMapping(s, dir, c, side, m);
    }
  }

  private rederiveKeys(c: MptcpConnection, frame: number): void {
    const keys = c.keys;
    c.keys = [undefined, undefined];
    c.tokens = [undefined, undefined];
    c.idsns = [undefined, undefined];
    c.dsnRef = [undefined, undefined];
    c.ackLimitChanges++;
    if (keys[0] !== undefined) this.setKey(c, 0, keys[0], frame);
    if (keys[1] !== undefined) this.setKey(c, 1, keys[1], frame);
  }

  private applyJoin(f: DecodedFrame, s: TcpStream, dir: Dir, o: MpJoin, time: number, syn: boolean, ack: boolean): void {
    if (s.role === 'plain' || s.role === 'unknown') s.role = 'join';
    const j = (s.join ??= {
      token: undefined, initiatorSide: undefined, nonceA: undefined, nonceB: undefined, addressIdA: undefined, addressIdB: undefined,
      backupA: undefined, backupB: undefined, truncatedHmac: undefined, hmac: undefined, synFrame: undefined, synAckFrame: undefined,
      ackFrame: undefined, synTime: undefined, synAckTime: undefined, ackTime: undefined, rstTime: undefined, ackAckFrame: undefined,
      dataBeforeEstablished: undefined, rstFrame: undefined, rstReason: undefined,
    });
    if (o.form === 'syn' && syn && !ack) {
      if (j.synFrame === undefined) { j.synFrame = f.frame; j.synTime = time; }
      j.token = o.token;
      j.nonceA = o.nonce;
      j.addressIdA = o.addressId;
      j.backupA = o.backup;
      if (o.backup) s.backup = true;
      if (!s.conn && o.token !== undefined) {
        const hit = this.byToken.get(o.token);
        let c: MptcpConnection;
        let ownerSide: Side;
        if (hit && hit.conn.retired !== undefined) {
          // a join to a connection let go: counted with its packets, not tracked
          s.retired = true;
          this.retired!.streams++;
          this.retired!.packets++;
          return;
        }
        if (hit) {
          c = hit.conn;
          ownerSide = hit.side;
        } else {
          // Unknown token: keep the subflow as a partial connection known by that token.
          c = this.newConnection(f, time, 'join');
          ownerSide = 1;
          c.tokens[1] = o.token;
          this.byToken.set(o.token, { conn: c, side: 1 });
        }
        this.attach(s, c);
        j.initiatorSide = (1 - ownerSide) as Side;
        s.sideOfA = (dir === 0 ? j.initiatorSide : ownerSide) as Side;
        c.ackLimitChanges++;
      }
    } else if (o.form === 'synack' && syn && ack) {
      if (j.synAckFrame === undefined) { j.synAckFrame = f.frame; j.synAckTime = time; }
      j.truncatedHmac = o.truncatedHmac;
      j.nonceB = o.nonce;
      j.addressIdB = o.addressId;
      j.backupB = o.backup;
    } else if (o.form === 'ack' && !syn) {
      if (j.ackFrame === undefined) { j.ackFrame = f.frame; j.ackTime = time; s.awaiting |= AWAIT_JOIN_PEER; }
      j.hmac = o.hmac;
    }
  }

  private applyDss(f: DecodedFrame, s: TcpStream, dir: Dir, side: Side, c: MptcpConnection, o: Dss, facts: PacketFacts): void {
    const payloadLength = f.tcp!.payloadLength;
    const rep = facts.repeatedDss;
    if (rep && rep.option === o) { applyRepeatedDss(rep, c, side, facts, payloadLength); return; }
    this.applyDssFully(f.frame, payloadLength, s, dir, side, c, o, facts);
  }

  private applyDssFully(frame: number, payloadLength: number, s: TcpStream, dir: Dir, side: Side, c: MptcpConnection, o: Dss, facts: PacketFacts): void {
    const peer = (1 - side) as Side;
    if (o.dataAck !== undefined) {
      let dack: bigint;
      const ref = c.dsnRef[peer];
      if (o.dataAck8) dack = o.dataAck;
      else if (ref !== undefined) dack = widen32(o.dataAck, ref);
      else dack = o.dataAck;
      facts.dataAck = dack;
      if (o.dataAck8 || ref !== undefined) c.dsnRef[peer] ??= dack;
      const st = c.stats;
      if (payloadLength === 0 && !(o.flags & DSS_MAPPING) && st.lastDataAck[side] === dack) st.duplicateDataAcks[side]++;
      st.lastDataAck[side] = dack;
      if (st.maxDataAck[side] === undefined || dack > st.maxDataAck[side]!) st.maxDataAck[side] = dack;
      this.pruneRanges(c, peer, dack);
    }
    if (o.flags & DSS_MAPPING && o.dsn !== undefined && o.subflowSeq !== undefined && o.dataLevelLength !== undefined) {
      const ref = c.dsnRef[side];
      let dsn: bigint;
      let known = true;
      if (o.dsn8) dsn = o.dsn;
      else if (ref !== undefined) dsn = widen32(o.dsn, ref);
      else { dsn = o.dsn; known = false; }
      if (known) { c.dsnRef[side] = dsn; facts.mappingDsn = dsn; }
      if (o.dataLevelLength === 0) {
        if (!c.fallback) c.fallback = { frame, how: 'an infinite mapping (data-level length 0)' };
      }
      if (o.dataFin) {
        // DATA_FIN takes the last octet of the mapping (§3.3.3); with length 1 and no data, it is alone.
        const finDsn = (dsn + BigInt(Math.max(o.dataLevelLength, 1)) - 1n) & MASK64;
        c.dataFin[side] ??= { dsn: finDsn, frame };
      }
      const m: Mapping = {
        frame, stream: s.id, dir, dsn, dsnKnown: known, ssn: o.subflowSeq, length: o.dataLevelLength,
        checksum: o.checksum, implicit: false, sum: undefined, covered: 0,
        verified: undefined, unverifiable: undefined, rel: undefined, relSide: -1,
      };
      // a new mapping: addMapping notes its data as sent, and what follows would do it again (the
      // same end, the same range: no change, but BigInt work on every new mapping)
      if (o.dataLevelLength > 0 && !(o.dataFin && o.subflowSeq === 0 && payloadLength === 0) && this.addMapping(s, dir, c, side, m)) return;
      const endRaw = dsn + BigInt(o.dataLevelLength);
      const end = endRaw & MASK64;
      if (known && (c.sentEnd[side] === undefined || end > c.sentEnd[side]!)) {
        if (c.sentEnd[side] === undefined) c.ackLimitChanges++;
        c.sentEnd[side] = end;
      }
      if (known && o.dataLevelLength > 0) (c.mapped[side] ??= new IntervalSet()).add(dsn, endRaw);
    }
  }

  /**
   * Adds a mapping to its direction's list and notes its data as sent (the side's end and ranges);
   * false when it is the list's last one again (Linux repeats a mapping on each segment it covers:
   * the first is kept), which changes nothing.
   */
  private addMapping(s: TcpStream, dir: Dir, c: MptcpConnection, side: Side, m: Mapping): boolean {
    const list = s.mappings[dir];
    const last = list[list.length - 1];
    if (last && last.ssn === m.ssn && last.dsn === m.dsn && last.length === m.length) return false;
    if (c.checksumRequired || m.checksum !== undefined) m.sum = new OnesSum();
    const grown = (s.mappings[dir] = appendTight(list, m));
    // the oldest MAX_MAPPINGS dropped together once there are twice as many: dropping one per new
    // mapping moved the other 64 each time, the young ones through V8's write barrier (a bulk
    // transfer's every mapping: some 330 instructions a packet of 6,600)
    if (grown.length >= 2 * MAX_MAPPINGS) grown.splice(0, MAX_MAPPINGS);
    const end = m.dsn + BigInt(m.length);
    const sent = c.sentEnd[side];
    if (sent === undefined || end > sent) {
      const wrapped = end & MASK64;
      if (sent === undefined || wrapped !== end) c.ackLimitChanges++;
      c.sentEnd[side] = wrapped;
    }
    if (m.dsnKnown) (c.mapped[side] ??= new IntervalSet()).add(m.dsn, end);
    return true;
  }

  /** Finds the DSN of this segment's payload and feeds DSS checksums. */
  private mapSegment(frame: number, s: TcpStream, dir: Dir, c: MptcpConnection, facts: PacketFacts,
    seq: number, payloadLength: number, payloadCaptured: number, payloadOffset: number, data: Uint8Array): void {
    const isn = s.isn[dir];
    if (isn === undefined) return;
    const ssn = (seq - isn) >>> 0;
    const m = mappingOf(s.mappings[dir], ssn);
    if (!m) return;
    const off = (ssn - m.ssn) >>> 0;
    facts.mapping = m;
    facts.mappingOffset = off;
    facts.mappingFrame = m.frame;
    const side = facts.side;
    const len = Math.min(payloadLength, m.length - off);
    // checksum: bytes must arrive in order and all be captured
    if (m.sum && !m.verified && off === m.covered) {
      const capturedHere = Math.min(len, payloadCaptured);
      m.sum.add(data, payloadOffset, payloadOffset + capturedHere);
      if (capturedHere < len) {
        // the snaplen cut the mapped data: the checksum cannot be verified
        m.sum = undefined;
        if (m.checksum !== undefined) { m.unverifiable = 'snaplen'; facts.checksumCut = m; }
      }
      else {
        m.covered += len;
        if (m.covered >= m.length && m.checksum !== undefined) {
          const computed = dssChecksum(m.dsn, m.ssn, m.length, m.sum);
          m.verified = { ok: computed === m.checksum, computed, frames: [m.frame, frame] };
          if (facts.checksumResults === NO_MAPPINGS) facts.checksumResults = [];
          facts.checksumResults.push(m);
          m.sum = undefined;
        }
      }
    }
    // reinjection: the same data sent earlier on another subflow. New data (at or past the highest
    // end sent) cannot be one: only data sent again needs the search. Worked out in Numbers relative
    // to the side's first mapped DSN (sentBase), not in 64-bit BigInts.
    if (side !== undefined && m.dsnKnown) {
      // (the base read at every segment: read only with a new mapping, V8 met it too seldom to compile it)
      const base = (c.sentBase[side] ??= m.dsn);
      if (m.relSide !== side) { m.rel = relativeTo(m.dsn, base); m.relSide = side; }
      const dsn = m.rel! + off;
      const ranges = c.sentRanges[side];
      const end = dsn + len;
      const high = c.sentHigh[side];
      if (high !== undefined && dsn < high) {
        let seen = false;
        // data is sent again soon after it was first sent: the last ranges suffice, and keep this O(1)
        // (read from the flat list: no object a range, 256 of them searched for any new data that
        // comes below another subflow's)
        const stop = Math.max(0, ranges.length - RANGES_SEARCHED * SENT_RANGE);
        for (let i = ranges.length - SENT_RANGE; i >= stop; i -= SENT_RANGE) {
          if (ranges[i + SENT_RANGE_START] < end && dsn < ranges[i + SENT_RANGE_END]) {
            seen = true;
            if (ranges[i + SENT_RANGE_STREAM] !== s.id) {
              facts.reinjectionOf = ranges[i + SENT_RANGE_FRAME];
              c.reinjectedBytes += len;
              s.reinjectedBytes = (s.reinjectedBytes ?? 0) + len;
            }
            break;
          }
        }
        // new data below data already seen: it arrives out of data-sequence order
        if (!seen) c.stats.outOfOrder[side]++;
      }
      if (high === undefined || end > high) c.sentHigh[side] = end;
      if (facts.reinjectionOf === undefined) {
        const last = ranges.length - SENT_RANGE;
        if (last >= 0 && ranges[last + SENT_RANGE_STREAM] === s.id && ranges[last + SENT_RANGE_END] === dsn) ranges[last + SENT_RANGE_END] = end;
        else {
          const grown = (c.sentRanges[side] = appendTight4(ranges, dsn, end, s.id, frame));
          if (grown.length > MAX_RANGES_PER_SIDE * SENT_RANGE) grown.splice(0, grown.length - MAX_RANGES_PER_SIDE * SENT_RANGE);
        }
      }
    }
  }

  private pruneRanges(c: MptcpConnection, side: Side, acked: bigint): void {
    const r = c.sentRanges[side];
    const base = c.sentBase[side];
    const count = r.length / SENT_RANGE;
    if (count <= RANGES_SEARCHED + 1 || base === undefined) return;
    const ack = relativeTo(acked, base);
    let n = 0;
    while (n < count - 1 && r[n * SENT_RANGE + SENT_RANGE_END] <= ack) n++;
    if (n > RANGES_SEARCHED) r.splice(0, n * SENT_RANGE);
  }
}

/** The same DSS as the direction's last one: the same values, no new state but the duplicate count. */
function applyRepeatedDss(rep: DssCache, c: MptcpConnection, side: Side, facts: PacketFacts, payloadLength: number): void {
  facts.dataAck = rep.dataAck;
  facts.mappingDsn = rep.mappingDsn;
  if (rep.dataAck !== undefined && payloadLength === 0 && !(rep.option.flags & DSS_MAPPING)) c.stats.duplicateDataAcks[side]++;
}

/**
 * Whether the option at `ref`, wholly captured, is the cached DSS byte for byte, on the connection
 * it was worked out in (short options: a plain loop beats a native call).
 */
function repeats(cache: DssCache, ref: TcpOptionRef, conn: MptcpConnection | null, data: Uint8Array): boolean {
  if (cache.offset !== ref.offset || cache.length !== ref.length || ref.avail !== ref.length || cache.conn !== conn) return false;
  return sameWords(cache.words, data, ref.offset, ref.length);
}

/** Whether the `length` bytes at `at` are `w` (optionWords). */
function sameWords(w: Int32Array, data: Uint8Array, at: number, length: number): boolean {
  // four bytes at a time, from the end (where a new Data ACK or mapping differs first): a DSS
  // is 12-28 bytes, and byte by byte this was 0.5 K instructions of a packet's 7 K
  let i = length >> 2;
  if (length & 3 && tailWord(data, at + (i << 2), at + length) !== w[i]) return false;
  while (--i >= 0) if (word32(data, at + (i << 2)) !== w[i]) return false;
  return true;
}

/** sameWords over a DataView of the bytes: a word in one load (a bounds check, not four) */
function sameWordsIn(w: Int32Array, v: DataView, at: number, length: number): boolean {
  let i = length >> 2;
  const tail = length & 3;
  if (tail !== 0) {
    const t = at + (i << 2);
    const x = tail === 2 ? v.getUint16(t) : tail === 1 ? v.getUint8(t) : (v.getUint16(t) << 8) | v.getUint8(t + 2);
    if (x !== w[i]) return false;
  }
  // two words a turn (a DSS is 3 to 7 of them): each turn's checks of the view and the words count
  // for both
  if (i & 1) { i--; if (v.getInt32(at + (i << 2)) !== w[i]) return false; }
  while (i > 0) {
    i -= 2;
    const o = at + (i << 2);
    if (v.getInt32(o + 4) !== w[i + 1] || v.getInt32(o) !== w[i]) return false;
  }
  return true;
}

/** The mapping of a direction's recent ones (newest first) that holds subflow sequence number `ssn`. */
function mappingOf(list: readonly Mapping[], ssn: number): Mapping | undefined {
  for (let i = list.length - 1, stop = recentMappingsStart(list); i >= stop; i--) {
    const x = list[i];
    if (((ssn - x.ssn) >>> 0) < x.length) return x;
  }
  return undefined;
}

/** a TCP option's most words (its 40 bytes at most) */
const OPTION_WORDS = 10;

/**
 * The `length` bytes at `at` as big-endian 32-bit words into `into` (the last one of the bytes
 * left when the length is not a multiple of four), as `repeats` reads them.
 */
function optionWords(data: Uint8Array, at: number, length: number, into: Int32Array): void {
  const n = length >> 2;
  for (let i = 0; i < n; i++) into[i] = word32(data, at + (i << 2));
  if (length & 3) into[n] = tailWord(data, at + (n << 2), at + length);
}

/**
 * The four bytes at `o` as one big-endian signed 32-bit word: only compared for equality, so its
 * sign does not matter, and it stays a 32-bit integer in optimized code (be32's unsigned value
 * above 2^31 is a float: a DSS's words were a third of the lane's instructions spent comparing)
 */
function word32(b: Uint8Array, o: number): number {
  return (b[o] << 24) | (b[o + 1] << 16) | (b[o + 2] << 8) | b[o + 3];
}

/** the one to three bytes from `from` to `end` as one big-endian number */
function tailWord(data: Uint8Array, from: number, end: number): number {
  let x = 0;
  for (let k = from; k < end; k++) x = (x << 8) | data[k];
  return x;
}

/** `list` with `item` at its end, while it is below its bound (see appendTight: store the result) */
function pushCapped<T>(list: T[], item: T): T[] {
  return list.length < MAX_EVENTS_PER_CONN ? appendTight(list, item) : list;
}

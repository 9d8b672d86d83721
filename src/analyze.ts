/**
 * One pass over a capture: read records, decode frames, track connections, and let the caller
 * see every packet as it goes. Used by the CLI, the extension's worker and the tests alike.
 */
import type { Readable } from 'node:stream';
import * as fs from 'node:fs';
import { describeFsError, gunzipBytes, isPipe, openCapture } from './capture/open.ts';
import { isGzip } from './capture/gunzip.ts';
import { CaptureError } from './errors.ts';
import { addContainerProblem, scanCapture, type ScanOptions, type ScanResult } from './capture/reader.ts';
import { scanDescriptor, scanPcapStream } from './capture/stdin.ts';
import { BufferSource } from './capture/source.ts';
import { Checker, type CheckerConfig } from './check/checker.ts';
import type { Finding } from './check/types.ts';
import type { CaptureRecord, RecordSink } from './capture/types.ts';
import type { PacketFacts } from './mptcp/model.ts';
import { getHeapStatistics, setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { DEFAULT_LIMITS, Tracker, type TrackerLimits } from './mptcp/tracker.ts';
import { decodeFrame, LazyFrame, type DecodedFrame } from './wire/packet.ts';
import { connectionJson } from './format/summary.ts';
import { PackedTexts } from './format/packed.ts';

/**
 * A packet in capture order; `lane`: it came through the tracker's repeat lane (taken there, then
 * wanted after all: its frame a LazyFrame, valid during the call only; Checker.packet calls fewer
 * rules for it).
 */
export type PacketListener = (frame: DecodedFrame, facts: PacketFacts, data: Uint8Array, lane?: boolean) => void;

export interface AnalyzeOptions extends Pick<ScanOptions, 'onProgress' | 'limit' | 'onProblem' | 'beforeRead'> {
  /** tracker limits (default DEFAULT_LIMITS) */
  limits?: TrackerLimits;
  /** called for each packet in capture order; `data` is valid only during the call */
  onPacket?: PacketListener;
  /**
   * Called instead of onPacket for a packet of the tracker's repeat lane (Tracker.repeatLane: its
   * facts worked out without decoding it into a frame), with its record and its TCP flags and
   * payload length (`segment`, valid only during the call); false if it wants the packet after all,
   * which is then decoded and goes to onPacket. Without it, and with onPacket, every packet is
   * decoded and goes to onPacket; with neither, the lane takes what it can. Through checkCapture it
   * is called only for the lane's packets the checker takes as quiet, which it must take.
   */
  onRepeat?: (facts: PacketFacts, rec: CaptureRecord, segment: { readonly flags: number; readonly payloadLength: number }) => boolean;
  /**
   * How the user raises this process's heap, for the tracking-limit finding when the heap budget
   * runs out (default RAISE_HEAP, node's --max-old-space-size; the extension names its setting).
   */
  memoryHint?: string;
  /**
   * Connections numbered below this are never retired when memory runs short (the viewer draws
   * the diagrams of the first ones); default 0.
   */
  keepConnections?: number;
  /** how long a closed stream must be quiet before it may be retired (default: the tracker's) */
  retireAfter?: { packets: number; seconds: number };
}

export interface Analysis {
  file: string;
  scan: ScanResult;
  tracker: Tracker;
}

/**
 * The reader's sink, and what it offers records to first (ScanOptions.take): the tracker's repeat
 * lane, where the record lies in the reader's buffer, before a view of it is made.
 */
function pipeline(tracker: Tracker, opts: AnalyzeOptions): { sink: RecordSink; take?: ScanOptions['take'] } {
  const lane = opts.onPacket === undefined || opts.onRepeat !== undefined;
  const onRepeat = opts.onRepeat;
  // the lane has seen the record the sink gets (it was offered and declined): not again
  let declined = false;
  const sink = (rec: CaptureRecord, data: Uint8Array) => {
    if (lane && !declined) {
      const repeated = tracker.repeatLane(rec, data);
      if (repeated !== undefined) {
        if (onRepeat === undefined || onRepeat(repeated, rec, tracker.laneSegment)) return;
        opts.onPacket?.(new LazyFrame(rec, data), repeated, data, true);
        return;
      }
    }
    declined = false;
    const f = decodeFrame(rec, data, false);
    const facts = tracker.process(f, data);
    opts.onPacket?.(f, facts, data);
  };
  if (!lane) return { sink };
  const take = (rec: CaptureRecord, bytes: Uint8Array, at: number): boolean => {
    const repeated = tracker.repeatLane(rec, bytes, at, at + rec.caplen);
    if (repeated === undefined) { declined = true; return false; }
    if (onRepeat === undefined || onRepeat(repeated, rec, tracker.laneSegment)) return true;
    // a listener wants it after all (decoded as far as it reads it)
    const data = new Uint8Array(bytes.buffer, bytes.byteOffset + at, rec.caplen);
    opts.onPacket?.(new LazyFrame(rec, data), repeated, data, true);
    return true;
  };
  return { sink, take };
}

/**
 * The tracker's limits for this process: DEFAULT_LIMITS, and a heap budget of HEAP_SHARE of the
 * heap's limit, so that a capture of more connections than memory holds ends with a
 * tracking-limit finding instead of V8 aborting with a native stack trace.
 */
export function processLimits(base: TrackerLimits = DEFAULT_LIMITS, raise?: string): TrackerLimits {
  if (base.heap) return base;
  const limit = getHeapStatistics().heap_size_limit;
  // the heap's limit holds the young generation's reserve, which long-lived state never fills
  const old = limit - YOUNG_RESERVE >= 16 * 2 ** 20 ? limit - YOUNG_RESERVE : limit / 2;
  return { ...base, heap: { limit: old, stopAt: old * HEAP_SHARE, haltAt: old * HEAP_HALT, used: () => getHeapStatistics().used_heap_size, raise, collect } };
}

/** V8's gc(), made available when first needed (once memory runs short); null where it cannot be */
let gc: (() => void) | null | undefined;
function collect(): void {
  if (gc === undefined) {
    try {
      setFlagsFromString('--expose-gc');
      gc = runInNewContext('gc') as () => void;
    } catch {
      gc = null;
    }
  }
  gc?.();
}

/**
 * The share of the heap the tracker's streams may fill before it tracks no new one: what remains
 * is for the findings, the output and the garbage a collection has not yet freed.
 */
export const HEAP_SHARE = 0.6;
/**
 * What V8 (Node 20, 64-bit) adds to --max-old-space-size for the young generation (three 16 MiB
 * semi-spaces): heap_size_limit is 80 MiB with --max-old-space-size=32, 248 with 200, 4,144 by
 * default here (4,096 + 48).
 */
const YOUNG_RESERVE = 48 * 2 ** 20;
/** the share at which no packet at all is tracked any more (the tracked streams grow too) */
export const HEAP_HALT = 0.75;

/**
 * `decompressInto`: for a gzip-compressed file, a file the inflated capture is written to as it is
 * read (the viewer re-reads rows from it; the caller owns it).
 */
export type CaptureInput = { file: string; decompressInto?: string } | { stream: Readable; name: string } | { fd: number; name: string } | { bytes: Uint8Array; name: string };

/** One pass over any input with the given tracker: the readers' part shared by every entry point. */
async function run(input: CaptureInput, tracker: Tracker, givenOpts: AnalyzeOptions): Promise<Analysis> {
  const { sink, take } = pipeline(tracker, givenOpts);
  // the heap is read between packets, where the readers report progress (Tracker.checkHeap)
  const onProgress = givenOpts.onProgress;
  const opts: AnalyzeOptions & ScanOptions = { ...givenOpts, take, onProgress: (done, total) => { tracker.checkHeap(); onProgress?.(done, total); } };
  if ('file' in input && isPipe(input.file)) {
    // a named pipe or <(command): read as it comes, as standard input is
    let fd: number;
    try {
      fd = fs.openSync(input.file, 'r');
    } catch (err) {
      throw new CaptureError(input.file, describeFsError(err));
    }
    try {
      return { file: input.file, scan: await scanDescriptor(fd, input.file, sink, opts), tracker };
    } finally {
      fs.closeSync(fd);
    }
  }
  if ('file' in input) {
    const opened = await openCapture(input.file, { decompressInto: input.decompressInto });
    try {
      const scan = scanCapture(opened.source, sink, opts);
      scan.gzip = opened.gzip;
      const warning = opened.warning;
      if (warning) addContainerProblem(scan, opts, opened.warningOffset, warning);
      return { file: input.file, scan, tracker };
    } finally {
      opened.close();
    }
  }
  if ('fd' in input) return { file: input.name, scan: await scanDescriptor(input.fd, input.name, sink, opts), tracker };
  if ('stream' in input) return { file: input.name, scan: await scanPcapStream(input.stream, input.name, sink, opts), tracker };
  // bytes from a virtual file system: a compressed capture is inflated in memory, where it already is
  const gz = isGzip(input.bytes);
  const plain = gz ? gunzipBytes(input.name, input.bytes) : { bytes: input.bytes, warning: undefined };
  const scan = scanCapture(new BufferSource(input.name, plain.bytes), sink, opts);
  scan.gzip = gz;
  if (plain.warning) addContainerProblem(scan, opts, plain.bytes.length, plain.warning);
  return { file: input.name, scan, tracker };
}

/** A tracker with the caller's limits, or this process's (processLimits). */
function newTracker(opts: AnalyzeOptions): Tracker {
  const tracker = new Tracker(processLimits(opts.limits, opts.memoryHint));
  // when memory runs short, finished connections are let go, their summaries kept as text
  tracker.retirement = {
    summarise: (c) => JSON.stringify(connectionJson(c)), pack: (texts) => new PackedTexts(texts), keepBelow: opts.keepConnections,
    quietPackets: opts.retireAfter?.packets, quietSeconds: opts.retireAfter?.seconds,
  };
  return tracker;
}

/** Analyses a capture file (pcap, pcapng, either gzip-compressed). */
export function analyzeFile(file: string, opts: AnalyzeOptions = {}): Promise<Analysis> {
  return run({ file }, newTracker(opts), opts);
}

/** Analyses a classic pcap Readable through pcap-parser (the CLI reads standard input by its descriptor: analyzeDescriptor). */
export function analyzeStream(stream: Readable, name: string, opts: AnalyzeOptions = {}): Promise<Analysis> {
  return run({ stream, name }, newTracker(opts), opts);
}

/** Analyses a capture read from a file descriptor as it arrives (standard input: pcap or pcapng). */
export function analyzeDescriptor(fd: number, name: string, opts: AnalyzeOptions = {}): Promise<Analysis> {
  return run({ fd, name }, newTracker(opts), opts);
}

/** Analyses bytes already in memory (a virtual file system, a test). */
export function analyzeBytes(name: string, bytes: Uint8Array, opts: AnalyzeOptions = {}): Promise<Analysis> {
  return run({ bytes, name }, newTracker(opts), opts);
}

export interface CheckedCapture extends Analysis {
  findings: Finding[];
  suppressed: Map<string, number>;
}

/** Analyses a capture and runs the checker over it in the same pass. */
export async function checkCapture(input: CaptureInput, config: CheckerConfig = {}, opts: AnalyzeOptions = {}): Promise<CheckedCapture> {
  const tracker = newTracker(opts);
  const checker = new Checker(tracker, config);
  // a retired connection's end-of-capture checks run as it goes
  tracker.retirement!.check = (conns, streams) => checker.retire(conns, streams);
  const callerRepeat = opts.onRepeat;
  const a = await run(input, tracker, {
    ...opts,
    onPacket: (f, facts, data, lane) => {
      checker.packet(f, facts, data, lane);
      opts.onPacket?.(f, facts, data, lane);
    },
    // the repeat lane where the caller sees no packet, or takes the lane's packets too
    onRepeat: (opts.onPacket === undefined || callerRepeat !== undefined) && checker.acceptsRepeats
      ? (facts, rec, segment) => {
        if (!checker.repeat(facts, rec.frame)) return false;
        callerRepeat?.(facts, rec, segment); // it takes what the checker took
        return true;
      }
      : undefined,
  });
  return { ...a, findings: checker.finish(a.scan), suppressed: checker.suppressed };
}

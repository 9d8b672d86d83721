/**
 * One pass over a capture: read records, decode frames, track connections, and let the caller
 * see every packet as it goes. Used by the CLI, the extension's worker and the tests alike.
 */
import type { Readable } from 'node:stream';
import { openCapture } from './capture/open.ts';
import { scanCapture, type ScanOptions, type ScanResult } from './capture/reader.ts';
import { scanPcapStream } from './capture/stdin.ts';
import type { CaptureRecord } from './capture/types.ts';
import type { PacketFacts } from './mptcp/model.ts';
import { Tracker, type TrackerLimits } from './mptcp/tracker.ts';
import { decodeFrame, type DecodedFrame } from './wire/packet.ts';

export type PacketListener = (frame: DecodedFrame, facts: PacketFacts, data: Buffer) => void;

export interface AnalyzeOptions extends Pick<ScanOptions, 'onProgress' | 'isCancelled' | 'limit' | 'onProblem'> {
  /** tracker limits (default DEFAULT_LIMITS) */
  limits?: TrackerLimits;
  /** called for each packet in capture order; `data` is valid only during the call */
  onPacket?: PacketListener;
}

export interface Analysis {
  file: string;
  scan: ScanResult;
  tracker: Tracker;
}

function addContainerProblem(scan: ScanResult, message: string, offset: number, opts: AnalyzeOptions): void {
  const p = { offset, frame: scan.packets + 1, message };
  scan.problems.push(p);
  opts.onProblem?.(p);
}

function pipeline(tracker: Tracker, opts: AnalyzeOptions) {
  return (rec: CaptureRecord, data: Buffer) => {
    const f = decodeFrame(rec, data);
    const facts = tracker.process(f, data);
    opts.onPacket?.(f, facts, data);
  };
}

/** Analyses a capture file (pcap, pcapng, either gzip-compressed). */
export async function analyzeFile(file: string, opts: AnalyzeOptions = {}): Promise<Analysis> {
  const opened = await openCapture(file);
  try {
    const tracker = new Tracker(opts.limits);
    const scan = scanCapture(opened.source, pipeline(tracker, opts), opts);
    scan.gzip = opened.gzip;
    if (opened.warning) addContainerProblem(scan, opened.warning, opened.source.size, opts);
    return { file, scan, tracker };
  } finally {
    opened.close();
  }
}

/** Analyses a classic pcap stream (standard input). */
export async function analyzeStream(input: Readable, name: string, opts: AnalyzeOptions = {}): Promise<Analysis> {
  const tracker = new Tracker(opts.limits);
  const scan = await scanPcapStream(input, name, pipeline(tracker, opts), opts);
  return { file: name, scan, tracker };
}

/** Analyses bytes already in memory (a virtual file system, a test). */
export async function analyzeBytes(name: string, bytes: Uint8Array, opts: AnalyzeOptions = {}): Promise<Analysis> {
  const { BufferSource } = await import('./capture/source.ts');
  const tracker = new Tracker(opts.limits);
  const scan = scanCapture(new BufferSource(name, bytes), pipeline(tracker, opts), opts);
  return { file: name, scan, tracker };
}

import { Checker, type CheckerConfig } from './check/checker.ts';
import type { Finding } from './check/types.ts';

export interface CheckedCapture extends Analysis {
  findings: Finding[];
  suppressed: Map<string, number>;
}

/** Analyses a capture and runs the checker over it in the same pass. */
export async function checkCapture(
  input: { file: string } | { stream: Readable; name: string } | { bytes: Uint8Array; name: string },
  config: CheckerConfig = {},
  opts: AnalyzeOptions = {},
): Promise<CheckedCapture> {
  let checker: Checker | undefined;
  const trackerRef: { t?: Tracker } = {};
  const onPacket: PacketListener = (f, facts, data) => {
    checker!.packet(f, facts, data);
    opts.onPacket?.(f, facts, data);
  };
  // The checker needs the tracker before the first packet: create both here.
  const tracker = new Tracker(opts.limits);
  trackerRef.t = tracker;
  checker = new Checker(tracker, config);
  const o = { ...opts, onPacket };
  let scan: ScanResult;
  let file: string;
  if ('file' in input) {
    const opened = await openCapture(input.file);
    try {
      scan = scanCapture(opened.source, pipeline(tracker, o), o);
      scan.gzip = opened.gzip;
      if (opened.warning) addContainerProblem(scan, opened.warning, opened.source.size, o);
    } finally {
      opened.close();
    }
    file = input.file;
  } else if ('stream' in input) {
    scan = await scanPcapStream(input.stream, input.name, pipeline(tracker, o), o);
    file = input.name;
  } else {
    const { BufferSource } = await import('./capture/source.ts');
    scan = scanCapture(new BufferSource(input.name, input.bytes), pipeline(tracker, o), o);
    file = input.name;
  }
  const findings = checker.finish(scan);
  return { file, scan, tracker, findings, suppressed: checker.suppressed };
}

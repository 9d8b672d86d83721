import { PassThrough, Readable } from 'node:stream';
import * as pcapParser from 'pcap-parser';
import { CaptureError } from '../errors.ts';
import { addContainerProblem, MAX_RECORD_LENGTH, PCAPNG_SHB, scanCapture, type ScanOptions, type ScanResult } from './reader.ts';
import { DescriptorSource } from './source.ts';
import { cutWarning, GunzipSource, isGzip } from './gunzip.ts';
import type { CaptureRecord, RecordSink } from './types.ts';

/**
 * Reads a capture from a file descriptor as it arrives (standard input: `tcpdump -w - |`,
 * `dumpcap -w - |`). Classic pcap goes through pcap-parser, which is made for streams; pcapng,
 * which pcap-parser does not read (and which dumpcap, tshark and Wireshark write by default),
 * through our own pcapng reader over the descriptor, forward only, a block at a time.
 */
export async function scanDescriptor(fd: number, name: string, sink: RecordSink, opts: ScanOptions = {}): Promise<ScanResult> {
  // an error of the caller's own output (EPIPE: `| head` closed) goes back to it as it is, not
  // as a problem of the input
  let outputError: unknown;
  const beforeRead = opts.beforeRead;
  const src = new DescriptorSource(name, fd, beforeRead && (() => {
    try {
      beforeRead();
    } catch (err) {
      outputError = err;
      throw err;
    }
  }));
  const head = src.peek(4);
  if (head.length === 4 && head.readUInt32BE(0) === PCAPNG_SHB) return scanCapture(src, sink, opts);
  if (isGzip(head)) {
    // compressed: inflated by a worker thread as it comes, read by our readers (pcap or pcapng)
    const inflated = new GunzipSource({ fd, prefix: Buffer.from(head) }, name);
    try {
      const res = scanCapture(inflated, sink, opts);
      res.gzip = true;
      if (inflated.cut) addContainerProblem(res, opts, inflated.inflated, cutWarning(inflated.inflated));
      return res;
    } finally {
      inflated.close();
    }
  }
  // the bytes as they come, read the same way, for pcap-parser; before each read, which may wait
  // for a live capture's next packet, what came before is parsed and handled (setImmediate)
  let at = 0;
  // 64 KiB pieces, as a pipe gives them (1 MiB pieces from a redirected file doubled the memory
  // pcap-parser's stream held: 142 against 69 MiB)
  const scratch = Buffer.allocUnsafe(1 << 16);
  const chunks = async function* () {
    for (;;) {
      await new Promise((resolve) => setImmediate(resolve));
      const n = src.readInto(scratch, 0, scratch.length, at);
      if (n === 0) return;
      at += n;
      // a copy of what came: pcap-parser may keep a chunk's tail
      yield Buffer.copyBytesFrom(scratch, 0, n);
    }
  };
  try {
    return await scanPcapStream(Readable.from(chunks(), { objectMode: false }), name, sink, opts);
  } catch (err) {
    throw outputError ?? err;
  }
}

const MAGIC_US_LE = Buffer.from([0xd4, 0xc3, 0xb2, 0xa1]);
const MAGIC_US_BE = Buffer.from([0xa1, 0xb2, 0xc3, 0xd4]);

/**
 * Reads a classic pcap stream (`tcpdump -w - | mptcp-lens check -`) with pcap-parser, which is
 * made for streams. pcap-parser knows only the microsecond magic, so a nanosecond stream gets the
 * microsecond magic in its header and its fractions are read back as nanoseconds. pcapng cannot be
 * streamed this way and is refused with a clear message.
 */
export function scanPcapStream(input: Readable, name: string, sink: RecordSink, opts: ScanOptions = {}): Promise<ScanResult> {
  return new Promise((resolve, reject) => {
    const feed = new PassThrough({ highWaterMark: 1 << 20 });
    let head: Buffer | null = Buffer.alloc(0);
    let nano = false;
    let settled = false;
    let offset = 24;
    const res: ScanResult = {
      format: 'pcap', bigEndian: false, gzip: false, linkTypes: [], snaplen: 0,
      packets: 0, problems: [], stoppedEarly: false,
    };
    const rec: CaptureRecord = { frame: 0, dataOffset: 0, caplen: 0, origlen: 0, tsSec: 0, tsNsec: 0, linkType: 1, interfaceId: 0 };
    const fail = (err: Error) => {
      if (settled) return;
      settled = true;
      input.unpipe?.();
      input.destroy?.();
      reject(err);
    };
    const finish = () => {
      if (settled) return;
      settled = true;
      resolve(res);
    };

    input.on('error', (err) => fail(new CaptureError(name, err.message.split('\n')[0])));
    input.on('data', (chunk: Buffer) => {
      if (head) {
        head = Buffer.concat([head, chunk]);
        if (head.length < 4) return;
        const m = head.subarray(0, 4);
        if (m.readUInt32BE(0) === PCAPNG_SHB) {
          fail(new CaptureError(name, 'pcapng on standard input is not supported; save it to a file, or write classic pcap (tcpdump -w -, editcap -F pcap)'));
          return;
        }
        if (m.equals(Buffer.from([0x4d, 0x3c, 0xb2, 0xa1]))) { nano = true; MAGIC_US_LE.copy(head, 0); res.format = 'pcap-ns'; }
        else if (m.equals(Buffer.from([0xa1, 0xb2, 0x3c, 0x4d]))) { nano = true; MAGIC_US_BE.copy(head, 0); res.format = 'pcap-ns'; }
        else if (!m.equals(MAGIC_US_LE) && !m.equals(MAGIC_US_BE)) {
          fail(new CaptureError(name, `not a pcap stream (starts with 0x${m.toString('hex')})`, 0));
          return;
        }
        res.bigEndian = m[0] === 0xa1;
        chunk = head;
        head = null;
      }
      if (!feed.write(chunk)) {
        input.pause();
        feed.once('drain', () => input.resume());
      }
    });
    input.on('end', () => {
      if (head && !settled) {
        fail(new CaptureError(name, head.length === 0 ? 'empty input, not a capture' : 'input too short to be a capture'));
        return;
      }
      feed.end();
    });

    // pcap-parser calls the deprecated Buffer() constructor: that is its business, not the user's,
    // who would otherwise get a DeprecationWarning on stderr
    (process as { noDeprecation?: boolean }).noDeprecation = true;
    const parser = pcapParser.parse(feed);
    let pendingHeader: pcapParser.PacketHeader | null = null;
    parser.on('globalHeader', (h) => {
      res.linkTypes = [h.linkLayerType & 0xffff];
      res.snaplen = h.snapshotLength;
      rec.linkType = h.linkLayerType & 0xffff;
    });
    parser.on('packetHeader', (h) => {
      pendingHeader = h;
      if (h.capturedLength > MAX_RECORD_LENGTH) {
        const p = { offset, frame: res.packets + 1, message: `impossible record length ${h.capturedLength} (over ${MAX_RECORD_LENGTH} bytes); the rest of the stream is not read` };
        res.problems.push(p);
        opts.onProblem?.(p);
        res.stoppedEarly = true;
        input.unpipe?.();
        input.destroy?.();
        finish();
      }
    });
    parser.on('packet', (p) => {
      if (settled) return;
      const h = p.header;
      rec.frame = ++res.packets;
      rec.dataOffset = offset + 16;
      rec.caplen = h.capturedLength;
      rec.origlen = h.originalLength;
      rec.tsSec = h.timestampSeconds;
      rec.tsNsec = nano ? h.timestampMicroseconds : h.timestampMicroseconds * 1000;
      offset += 16 + h.capturedLength;
      pendingHeader = null;
      sink(rec, p.data);
      // progress as the file readers report it: bytes so far, of a size not known
      if ((res.packets & 0x3fff) === 0) opts.onProgress?.(offset, Infinity);
      if (opts.limit !== undefined && res.packets >= opts.limit) { input.destroy?.(); finish(); }
    });
    parser.on('error', (err) => fail(new CaptureError(name, err.message)));
    parser.on('end', () => {
      if (settled) return;
      if (res.linkTypes.length === 0) {
        fail(new CaptureError(name, 'pcap file header cut short (needs 24 bytes)', 0));
        return;
      }
      // pcap-parser ends silently on a cut record; say so.
      const leftover = (parser as unknown as { buffer: Buffer | null }).buffer;
      if (leftover && leftover.length > 0 && res.packets >= 0) {
        const p = { offset, frame: res.packets + 1, message: pendingHeader ? 'stream ends inside a record' : `stream ends inside a record header (${leftover.length} of 16 bytes)` };
        res.problems.push(p);
        opts.onProblem?.(p);
        res.stoppedEarly = true;
      }
      finish();
    });
  });
}

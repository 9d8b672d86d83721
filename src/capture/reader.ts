import { CaptureError, type ReadProblem } from '../errors.ts';
import { ChunkWindow, type ByteSource } from './source.ts';
import { be32, le32 } from '../wire/bytes.ts';
import type { CaptureInfo, CaptureRecord, RecordSink } from './types.ts';

/** Records longer than this are impossible (Wireshark's own limit for most link types). */
export const MAX_RECORD_LENGTH = 262144;

const PCAP_MAGIC_US = 0xa1b2c3d4;
const PCAP_MAGIC_NS = 0xa1b23c4d;
/** pcapng's Section Header Block type, the first four bytes of every pcapng file, either byte order */
export const PCAPNG_SHB = 0x0a0d0d0a;
const PCAPNG_BOM = 0x1a2b3c4d;

// pcapng block types (draft-ietf-opsawg-pcapng §4)
const BT_IDB = 0x00000001;
const BT_PB = 0x00000002; // obsolete Packet Block
const BT_SPB = 0x00000003;
const BT_EPB = 0x00000006;

export interface ScanOptions {
  onProblem?: (p: ReadProblem) => void;
  /** called every few thousand records with the bytes read so far */
  onProgress?: (bytesRead: number, totalBytes: number) => void;
  /** stop after this many records */
  limit?: number;
  /**
   * A forward-only input (standard input) is about to read more, which may wait for the writer
   * (a live capture): the CLI writes out what it has gathered, so that lines appear as packets do.
   */
  beforeRead?: () => void;
  /**
   * Offered each record first where it lies in the reader's buffer (`bytes`, from `at`, its
   * caplen long; valid only during the call), before a view of it is made: true when it took the
   * record, which then does not reach the sink. The pcap and pcapng readers of files offer records;
   * pcap-parser's stream gives every record to the sink.
   */
  take?: (rec: CaptureRecord, bytes: Uint8Array, at: number) => boolean;
}

export interface ScanResult extends CaptureInfo {
  packets: number;
  problems: ReadProblem[];
  /** true when scanning stopped early at an unrecoverable problem */
  stoppedEarly: boolean;
}

/** Identifies the format from the first bytes, or throws a one-line CaptureError. */
export function sniffFormat(name: string, head: Buffer): 'pcap' | 'pcapng' {
  if (head.length < 4) {
    throw new CaptureError(name, head.length === 0 ? 'empty file, not a capture' : 'file too short to be a capture');
  }
  const le = head.readUInt32LE(0);
  const be = head.readUInt32BE(0);
  if (be === PCAPNG_SHB) return 'pcapng';
  if (le === PCAP_MAGIC_US || be === PCAP_MAGIC_US || le === PCAP_MAGIC_NS || be === PCAP_MAGIC_NS) return 'pcap';
  throw new CaptureError(name, `not a pcap or pcapng capture (starts with 0x${head.subarray(0, 4).toString('hex')})`, 0);
}

/** Reads every record of a capture in file order and hands it to `sink`. */
export function scanCapture(src: ByteSource, sink: RecordSink, opts: ScanOptions = {}): ScanResult {
  const win = new ChunkWindow(src);
  const got = win.ensure(0, 4);
  const format = sniffFormat(src.name, win.buf.subarray(0, got));
  return format === 'pcapng' ? scanPcapng(src, win, sink, opts) : scanPcap(src, win, sink, opts);
}

/** Progress: bytes read of the file, or what the source says (a compressed file's compressed bytes). */
function report(src: ByteSource, opts: ScanOptions, pos: number): void {
  if (!opts.onProgress) return;
  if (src.progress) { const p = src.progress(); opts.onProgress(p.done, p.total); }
  else opts.onProgress(pos, src.size);
}

function problem(res: ScanResult, opts: ScanOptions, offset: number, frame: number, message: string): void {
  const p = { offset, frame, message };
  res.problems.push(p);
  opts.onProblem?.(p);
}

/** A problem of the container found once the records are read (a gzip stream cut short): after the last record. */
export function addContainerProblem(res: ScanResult, opts: ScanOptions, offset: number, message: string): void {
  problem(res, opts, offset, res.packets + 1, message);
}

function scanPcap(src: ByteSource, win: ChunkWindow, sink: RecordSink, opts: ScanOptions): ScanResult {
  const name = src.name;
  if (win.ensure(0, 24) < 24) throw new CaptureError(name, 'pcap file header cut short (needs 24 bytes)', 0);
  const b = win.buf;
  const magicLE = b.readUInt32LE(0);
  const le = magicLE === PCAP_MAGIC_US || magicLE === PCAP_MAGIC_NS;
  const nano = (le ? magicLE : b.readUInt32BE(0)) === PCAP_MAGIC_NS;
  const u32 = le ? (buf: Buffer, o: number) => buf.readUInt32LE(o) : (buf: Buffer, o: number) => buf.readUInt32BE(o);
  const major = le ? b.readUInt16LE(4) : b.readUInt16BE(4);
  if (major !== 2) throw new CaptureError(name, `unsupported pcap version ${major}`, 4);
  const snaplen = u32(b, 16);
  const linkType = u32(b, 20) & 0xffff; // upper bits carry FCS information
  const res: ScanResult = {
    format: nano ? 'pcap-ns' : 'pcap', bigEndian: !le, gzip: false, linkTypes: [linkType], snaplen,
    packets: 0, problems: [], stoppedEarly: false,
  };
  const maxLen = MAX_RECORD_LENGTH;
  const ends = src.size === Infinity ? 'input ends' : 'file ends';
  const rec: CaptureRecord = { frame: 0, dataOffset: 0, caplen: 0, origlen: 0, tsSec: 0, tsNsec: 0, linkType, interfaceId: 0 };
  const size = src.size;
  const take = opts.take;
  let pos = 24;
  const limit = opts.limit ?? Infinity;
  // the hot loop: records read straight from the window's bytes while they lie within it
  while (pos < size && res.packets < limit) {
    let o = pos - win.base;
    const inHead = pos >= win.base && o + 16 <= win.filled;
    const caplen = inHead ? win.view.getUint32(o + 8, le) : 0;
    if (caplen > maxLen) {
      problem(res, opts, pos, res.packets + 1, `impossible record length ${caplen} (over ${maxLen} bytes); the rest of the file is not read`);
      res.stoppedEarly = true;
      break;
    }
    if (!inHead || o + 16 + caplen > win.filled) {
      // The one place the window is refilled, from the record's header on, whether its header or
      // its data lies past the window's end: V8 meets it at the first refill (ChunkWindow's short
      // first read), before it compiles the loop. A second place, first met thousands of records in,
      // was its cue to throw the compiled loop away (a pipe's or a gzip file's header cut at a refill).
      const need = 16 + caplen;
      const got = win.ensure(pos, need);
      if (got < need) {
        if (got === 0 && !inHead) break; // a stream's end (a file's is pos === size)
        problem(res, opts, pos, res.packets + 1, got < 16 ? `${ends} inside a record header (${got} of 16 bytes)` : `${ends} inside a record (${got - 16} of ${caplen} bytes)`);
        res.stoppedEarly = true;
        break;
      }
      // the header now in the window: the record is read again from it (its data may still lie beyond)
      if (!inHead) continue;
      o = pos - win.base;
    }
    const v = win.view;
    const tsSec = v.getUint32(o, le);
    const frac = v.getUint32(o + 4, le);
    const origlen = v.getUint32(o + 12, le);
    o += 16;
    rec.frame = ++res.packets;
    rec.dataOffset = pos + 16;
    rec.caplen = caplen;
    rec.origlen = origlen;
    rec.tsSec = tsSec;
    rec.tsNsec = nano ? frac : frac * 1000;
    // a plain Uint8Array view: a Buffer's subarray costs three times as much (0.075 against 0.027 µs)
    if (take === undefined || !take(rec, win.bytes, o)) sink(rec, new Uint8Array(win.arrayBuffer, win.bufOffset + o, caplen));
    pos += 16 + caplen;
    // every 16,384 records, and at the 1,024th: a call first made 16,384 records in came after V8
    // had compiled the loop without it, and was its cue to throw that code away
    if ((res.packets & 0x3fff) === 0 || res.packets === 1024) report(src, opts, pos);
  }
  report(src, opts, pos);
  return res;
}

interface PcapngIface {
  linkType: number;
  snaplen: number;
  /** timestamp units per second as (base, exponent): 10^e or 2^e */
  tsBase: number;
  tsExp: number;
  tsOffset: number;
  /** 10^tsExp and 10^(9 - tsExp), worked out once (a power per packet was an eighth of the pass) */
  unit: number;
  nsPerUnit: number;
}

function scanPcapng(src: ByteSource, win: ChunkWindow, sink: RecordSink, opts: ScanOptions): ScanResult {
  const name = src.name;
  const size = src.size;
  const ends = size === Infinity ? 'input ends' : 'file ends';
  const res: ScanResult = {
    format: 'pcapng', bigEndian: false, gzip: false, linkTypes: [], snaplen: 0,
    packets: 0, problems: [], stoppedEarly: false,
  };
  let le = true;
  let ifaces: PcapngIface[] = [];
  let sectionIdBase = 0; // interface ids are per section; we number them across the file
  const rec: CaptureRecord = { frame: 0, dataOffset: 0, caplen: 0, origlen: 0, tsSec: 0, tsNsec: 0, linkType: 0, interfaceId: 0 };
  let pos = 0;
  let first = true;
  const take = opts.take;
  const limit = opts.limit ?? Infinity;

  // plain byte reads (see wire/bytes.ts): every read lies within a block already in the window
  const u32 = (o: number) => (le ? le32(win.buf, o) : be32(win.buf, o));
  const u16 = (o: number) => { const b = win.buf; return le ? b[o] | (b[o + 1] << 8) : (b[o] << 8) | b[o + 1]; };

  while (pos < size && res.packets < limit) {
    let o = pos - win.base;
    // the block's header, then the whole block, straight from the window where it holds them (most
    // blocks); else the window is refilled (below) and the block read again
    const inHead = pos >= win.base && o + 12 <= win.filled;
    let len = 0;
    if (inHead) {
      const typeRaw = le32(win.buf, o);
      if (typeRaw === PCAPNG_SHB) {
        // Section Header Block: its byte-order magic sets the order for the whole section (read
        // again after a refill: the same order, and no interface left to count twice)
        const bom = win.buf.readUInt32LE(o + 8);
        if (bom === PCAPNG_BOM) le = true;
        else if (win.buf.readUInt32BE(o + 8) === PCAPNG_BOM) le = false;
        else {
          if (first) throw new CaptureError(name, 'pcapng section header has no valid byte-order magic', pos + 8);
          problem(res, opts, pos, res.packets + 1, 'section header with an invalid byte-order magic; the rest of the file is not read');
          res.stoppedEarly = true;
          break;
        }
        if (first) res.bigEndian = !le;
        sectionIdBase += ifaces.length;
        ifaces = [];
      } else if (first) {
        throw new CaptureError(name, 'pcapng file does not start with a section header', 0);
      }
      len = win.view.getUint32(o + 4, le);
      if (len < 12 || len % 4 !== 0 || len > MAX_RECORD_LENGTH + 1024 * 64) {
        if (first) throw new CaptureError(name, `pcapng section header has an impossible length ${len}`, pos + 4);
        problem(res, opts, pos, res.packets + 1, `block with an impossible length ${len}; the rest of the file is not read`);
        res.stoppedEarly = true;
        break;
      }
      first = false;
    }
    if (!inHead || o + len > win.filled) {
      // The one place the window is refilled, from the block's start, whether its header or its
      // body lies past the window's end (as scanPcap's, for the same reason)
      const need = inHead ? len : 12;
      const got = win.ensure(pos, need);
      if (got < need) {
        if (!inHead) {
          if (first) throw new CaptureError(name, 'pcapng section header cut short', pos);
          if (got === 0) break; // a stream's end (a file's is pos === size)
        }
        problem(res, opts, pos, res.packets + 1, inHead ? `${ends} inside a block (${got} of ${len} bytes)` : `${ends} inside a block header (${got} bytes left)`);
        res.stoppedEarly = true;
        break;
      }
      continue;
    }
    const v = win.view; // the block's 32-bit fields, one load each
    const type = v.getUint32(o, le);
    const trailer = v.getUint32(o + len - 4, le);
    if (trailer !== len) {
      problem(res, opts, pos, res.packets + 1, `block trailing length ${trailer} disagrees with its leading length ${len}`);
      // Go on only if what follows the leading length looks like a block.
      if (!looksLikeBlock(win, pos + len, le)) {
        res.stoppedEarly = true;
        break;
      }
      pos += len;
      continue;
    }
    const body = o + 8;
    const bodyLen = len - 12;
    switch (type) {
      case BT_IDB: {
        if (bodyLen < 8) { problem(res, opts, pos, res.packets + 1, 'interface description block too short'); break; }
        const iface: PcapngIface = { linkType: u16(body), snaplen: u32(body + 4), tsBase: 10, tsExp: 6, tsOffset: 0, unit: 1e6, nsPerUnit: 1e3 };
        // options: if_tsresol (9), if_tsoffset (14)
        let p = body + 8;
        const end = body + bodyLen;
        while (p + 4 <= end) {
          const code = u16(p);
          const olen = u16(p + 2);
          if (code === 0) break;
          if (p + 4 + olen > end) break;
          if (code === 9 && olen >= 1) {
            const v = win.buf[p + 4];
            iface.tsBase = v & 0x80 ? 2 : 10;
            iface.tsExp = v & 0x7f;
            iface.unit = 10 ** iface.tsExp;
            iface.nsPerUnit = 10 ** (9 - iface.tsExp);
          } else if (code === 14 && olen >= 8) {
            const hi = u32(p + 4 + (le ? 4 : 0));
            const lo = u32(p + 4 + (le ? 0 : 4));
            iface.tsOffset = hi * 4294967296 + lo;
          }
          p += 4 + ((olen + 3) & ~3);
        }
        ifaces.push(iface);
        res.linkTypes.push(iface.linkType);
        if (iface.snaplen > res.snaplen) res.snaplen = iface.snaplen;
        break;
      }
      case BT_EPB:
      case BT_PB: {
        if (bodyLen < 20) { problem(res, opts, pos, res.packets + 1, 'packet block too short'); break; }
        const ifId = type === BT_EPB ? v.getUint32(body, le) : u16(body);
        const iface = ifaces[ifId];
        if (!iface) { problem(res, opts, pos, res.packets + 1, `packet block names interface ${ifId}, which was not described`); break; }
        const hi = v.getUint32(body + 4, le);
        const lo = v.getUint32(body + 8, le);
        let caplen = v.getUint32(body + 12, le);
        const origlen = v.getUint32(body + 16, le);
        if (caplen > bodyLen - 20) {
          problem(res, opts, pos, res.packets + 1, `packet block captured length ${caplen} exceeds its block`);
          caplen = bodyLen - 20;
        }
        emit(iface, ifId, hi, lo, pos + 8 + 20, caplen, origlen, body + 20);
        break;
      }
      case BT_SPB: {
        const iface = ifaces[0];
        if (!iface || bodyLen < 4) { problem(res, opts, pos, res.packets + 1, 'simple packet block without an interface'); break; }
        const origlen = u32(body);
        let caplen = Math.min(origlen, bodyLen - 4);
        if (iface.snaplen > 0) caplen = Math.min(caplen, iface.snaplen);
        emit(iface, 0, 0, 0, pos + 12, caplen, origlen, body + 4);
        break;
      }
      default:
        break; // other blocks (name resolution, statistics, custom, ...) are skipped by their length
    }
    pos += len;
    // every 16,384 records, and at the 1,024th: a call first made 16,384 records in came after V8
    // had compiled the loop without it, and was its cue to throw that code away
    if ((res.packets & 0x3fff) === 0 || res.packets === 1024) report(src, opts, pos);
  }
  report(src, opts, pos);
  return res;

  function emit(iface: PcapngIface, ifId: number, hi: number, lo: number, dataOffset: number, caplen: number, origlen: number, at: number): void {
    rec.frame = ++res.packets;
    rec.dataOffset = dataOffset;
    rec.caplen = caplen;
    rec.origlen = origlen;
    rec.linkType = iface.linkType;
    rec.interfaceId = sectionIdBase + ifId;
    setTimestamp(rec, iface, hi, lo);
    if (take === undefined || !take(rec, win.bytes, at)) sink(rec, new Uint8Array(win.arrayBuffer, win.bufOffset + at, caplen));
  }
}

function looksLikeBlock(win: ChunkWindow, pos: number, le: boolean): boolean {
  const got = win.ensure(pos, 12);
  if (got < 12) return got === 0; // the end of the input is fine too
  const o = pos - win.base;
  const type = le ? win.buf.readUInt32LE(o) : win.buf.readUInt32BE(o);
  const len = le ? win.buf.readUInt32LE(o + 4) : win.buf.readUInt32BE(o + 4);
  return (type === PCAPNG_SHB || (type >= 1 && type <= 10) || type === 0x0bad || type === 0x40000bad) && len >= 12 && len % 4 === 0;
}

/** Converts a pcapng 64-bit timestamp in the interface's units to seconds and nanoseconds. */
function setTimestamp(rec: CaptureRecord, iface: PcapngIface, hi: number, lo: number): void {
  if (iface.tsBase === 10 && iface.tsExp <= 9 && hi < 0x200000) {
    // fits in a double exactly (< 2^53)
    const v = hi * 4294967296 + lo;
    const unit = iface.unit;
    const sec = Math.floor(v / unit);
    rec.tsSec = sec + iface.tsOffset;
    rec.tsNsec = (v - sec * unit) * iface.nsPerUnit;
    return;
  }
  const v = (BigInt(hi) << 32n) | BigInt(lo);
  const unit = iface.tsBase === 10 ? 10n ** BigInt(iface.tsExp) : 1n << BigInt(iface.tsExp);
  const sec = v / unit;
  const rem = v - sec * unit;
  rec.tsSec = Number(sec) + iface.tsOffset;
  rec.tsNsec = Number((rem * 1000000000n) / unit);
}

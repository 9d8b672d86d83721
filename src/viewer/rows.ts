/** Packet-list rows, made again from the frame bytes and the index columns. */
import type { CaptureRecord } from '../capture/types.ts';
import { endpoint, optionWords, tcpFlagsText } from '../format/decode.ts';
import { parseMptcpOption, type MptcpOption } from '../wire/mptcp.ts';
import { decodeFrame, TH_ACK, TH_SYN, type DecodedFrame } from '../wire/packet.ts';
import type { Page } from './index.ts';

export interface Row {
  frame: number;
  /** seconds since the first packet */
  time: number;
  /** absolute time, ISO 8601 with microseconds */
  absTime: string;
  connection: number;
  subflow: number;
  src: string;
  dst: string;
  flags: string;
  length: number;
  options: string;
  relDsn: string;
  relAck: string;
  severity: number;
  reinjectionOf: number;
}

/** Row `i` of the index, on its page `p`, as the capture record it was made from. */
export function recordOf(p: Page, i: number): CaptureRecord {
  const c = p.cols;
  const j = i - p.start;
  return { frame: i + 1, dataOffset: c.offset[j], caplen: c.caplen[j], origlen: c.origlen[j], tsSec: c.tsSec[j], tsNsec: c.tsNsec[j], linkType: c.linkType[j], interfaceId: 0 };
}

/** Decodes the frame and its MPTCP options as the tracker saw them (same version for ADD_ADDR / MP_PRIO). */
export function redecode(p: Page, i: number, bytes: Buffer): { frame: DecodedFrame; options: MptcpOption[] } {
  const frame = decodeFrame(recordOf(p, i), bytes);
  const t = frame.tcp;
  const options: MptcpOption[] = [];
  if (t && t.headerLength >= 20) {
    const v = p.cols.version[i - p.start];
    const ctx = { syn: (t.flags & TH_SYN) !== 0, ack: (t.flags & TH_ACK) !== 0, hasData: t.payloadLength > 0, version: v < 0 ? undefined : v };
    for (const ref of t.mptcpOptions) if (ref.length >= 2) options.push(parseMptcpOption(bytes, ref.offset, ref.length, ref.avail, ctx));
  }
  return { frame, options };
}

const fmtNum = (v: number) => (Number.isNaN(v) ? '' : String(v));

/** What a row shows of the packet itself (all a free-text filter searches), without its time. */
type RowCore = Pick<Row, 'frame' | 'connection' | 'subflow' | 'src' | 'dst' | 'flags' | 'length' | 'options' | 'relDsn' | 'relAck' | 'reinjectionOf'>;

function rowCore(p: Page, i: number, bytes: Buffer): RowCore {
  const c = p.cols;
  const { frame, options } = redecode(p, i, bytes);
  const j = i - p.start;
  const t = frame.tcp;
  const syn = t ? (t.flags & TH_SYN) !== 0 : false;
  const ack = t ? (t.flags & TH_ACK) !== 0 : false;
  const relAck = fmtNum(c.relAck[j]);
  const relMap = fmtNum(c.relMapDsn[j]);
  const words = options.map((o) => optionWords(o, { syn, ack, relDataAck: relAck || undefined, relMappingDsn: relMap || undefined })).join('; ');
  return {
    frame: i + 1,
    connection: c.conn[j],
    subflow: c.stream[j],
    src: t ? endpoint(frame.src, t.srcPort) : frame.src || '?',
    dst: t ? endpoint(frame.dst, t.dstPort) : frame.dst || '?',
    flags: t ? tcpFlagsText(t.flags) : '',
    length: t ? t.payloadLength : frame.origlen,
    options: words || (frame.problems[0] ? `!${frame.problems[0]}` : ''),
    relDsn: fmtNum(c.relDsn[j]),
    relAck,
    reinjectionOf: c.reinjOf[j],
  };
}

/** Row `i` (on its page `p`) for the packet list; `severity` is that of its worst finding. */
export function formatRow(p: Page, i: number, bytes: Buffer, firstTime: number, severity: number): Row {
  const c = p.cols;
  const j = i - p.start;
  const ts = c.tsSec[j] + c.tsNsec[j] / 1e9;
  const d = new Date(c.tsSec[j] * 1000);
  return {
    ...rowCore(p, i, bytes),
    time: ts - firstTime,
    absTime: `${d.toISOString().slice(0, 19)}.${String(Math.floor(c.tsNsec[j] / 1000)).padStart(6, '0')}Z`,
    severity,
  };
}

/** The text a free-text filter searches in row `i` (its row's rowText, without making the row). */
export function searchText(p: Page, i: number, bytes: Buffer): string {
  return rowText(rowCore(p, i, bytes));
}

/** The text a free-text filter searches. */
export function rowText(r: RowCore): string {
  return `${r.frame} ${r.src} ${r.dst} ${r.flags} ${r.options} ${r.relDsn} ${r.relAck}`.toLowerCase();
}

/** Packet-list rows, made again from the frame bytes and the index columns. */
import type { CaptureRecord } from '../capture/types.ts';
import { endpoint, optionWords, tcpFlagsText } from '../format/decode.ts';
import { parseMptcpOption, type MptcpOption } from '../wire/mptcp.ts';
import { decodeFrame, TH_ACK, TH_SYN, type DecodedFrame } from '../wire/packet.ts';
import type { PacketIndex } from './index.ts';

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

export function recordOf(index: PacketIndex, i: number): CaptureRecord {
  const c = index.cols;
  return { frame: i + 1, dataOffset: c.offset[i], caplen: c.caplen[i], origlen: c.origlen[i], tsSec: c.tsSec[i], tsNsec: c.tsNsec[i], linkType: c.linkType[i], interfaceId: 0 };
}

/** Decodes the frame and its MPTCP options as the tracker saw them (same version for ADD_ADDR / MP_PRIO). */
export function redecode(index: PacketIndex, i: number, bytes: Buffer): { frame: DecodedFrame; options: MptcpOption[] } {
  const frame = decodeFrame(recordOf(index, i), bytes);
  const t = frame.tcp;
  const options: MptcpOption[] = [];
  if (t && t.headerLength >= 20) {
    const v = index.cols.version[i];
    const ctx = { syn: (t.flags & TH_SYN) !== 0, ack: (t.flags & TH_ACK) !== 0, hasData: t.payloadLength > 0, version: v < 0 ? undefined : v };
    for (const ref of t.mptcpOptions) if (ref.length >= 2) options.push(parseMptcpOption(bytes, ref.offset, ref.length, ref.avail, ctx));
  }
  return { frame, options };
}

const fmtNum = (v: number) => (Number.isNaN(v) ? '' : String(v));

export function formatRow(index: PacketIndex, i: number, bytes: Buffer, firstTime: number): Row {
  const c = index.cols;
  const { frame, options } = redecode(index, i, bytes);
  const t = frame.tcp;
  const syn = t ? (t.flags & TH_SYN) !== 0 : false;
  const ack = t ? (t.flags & TH_ACK) !== 0 : false;
  const relAck = fmtNum(c.relAck[i]);
  const relMap = fmtNum(c.relMapDsn[i]);
  const words = options.map((o) => optionWords(o, { syn, ack, relDataAck: relAck || undefined, relMappingDsn: relMap || undefined })).join('; ');
  const ts = c.tsSec[i] + c.tsNsec[i] / 1e9;
  const d = new Date(c.tsSec[i] * 1000);
  return {
    frame: i + 1,
    time: ts - firstTime,
    absTime: `${d.toISOString().slice(0, 19)}.${String(Math.floor(c.tsNsec[i] / 1000)).padStart(6, '0')}Z`,
    connection: c.conn[i],
    subflow: c.stream[i],
    src: t ? endpoint(frame.src, t.srcPort) : frame.src || '?',
    dst: t ? endpoint(frame.dst, t.dstPort) : frame.dst || '?',
    flags: t ? tcpFlagsText(t.flags) : '',
    length: t ? t.payloadLength : frame.origlen,
    options: words || (frame.problems[0] ? `!${frame.problems[0]}` : ''),
    relDsn: fmtNum(c.relDsn[i]),
    relAck: relAck,
    severity: c.severity[i],
    reinjectionOf: c.reinjOf[i],
  };
}

/** The text a free-text filter searches. */
export function rowText(r: Row): string {
  return `${r.frame} ${r.src} ${r.dst} ${r.flags} ${r.options} ${r.relDsn} ${r.relAck}`.toLowerCase();
}

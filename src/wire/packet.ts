/**
 * From a captured frame to the TCP segment inside it: link layer, IPv4/IPv6 and TCP with its
 * options. Never throws: what the bytes do not hold is left out and said in `problems`.
 */
import type { CaptureRecord } from '../capture/types.ts';
import { ipv4ToString, ipv6ToString } from './address.ts';
import { TCPOPT_MPTCP } from './mptcp.ts';
import { be16, be32, le32 } from './bytes.ts';

// LINKTYPE_* values (tcpdump.org/linktypes.html)
export const LINKTYPE = {
  NULL: 0, // BSD loopback, host byte order family
  ETHERNET: 1,
  PPP: 9,
  RAW_OLD: 12, // DLT_RAW on most BSDs
  RAW_OPENBSD: 14,
  PPP_HDLC: 50,
  RAW: 101,
  LOOP: 108, // OpenBSD loopback, network byte order family
  LINUX_SLL: 113,
  IPV4: 228,
  IPV6: 229,
  LINUX_SLL2: 276,
} as const;

export const LINKTYPE_NAMES: Record<number, string> = {
  0: 'BSD loopback', 1: 'Ethernet', 9: 'PPP', 12: 'raw IP', 14: 'raw IP', 50: 'PPP in HDLC framing', 101: 'raw IP',
  108: 'OpenBSD loopback', 113: 'Linux cooked v1', 228: 'raw IPv4', 229: 'raw IPv6', 276: 'Linux cooked v2',
};

export interface TcpOptionRef {
  kind: number;
  /** offset of the kind byte in the frame */
  offset: number;
  /** the option's length byte (1 for EOL/NOP) */
  length: number;
  /** bytes of it present in the capture */
  avail: number;
}

export interface TcpSegment {
  /** offset of the TCP header in the frame */
  offset: number;
  srcPort: number;
  dstPort: number;
  seq: number;
  ack: number;
  /** the 12 flag bits (NS..FIN), as Wireshark's tcp.flags */
  flags: number;
  window: number;
  headerLength: number;
  /** payload length from the IP header (not from what was captured) */
  payloadLength: number;
  /** offset of the payload in the frame and how much of it was captured */
  payloadOffset: number;
  payloadCaptured: number;
  /** every option, when decoded with `allOptions` (else only the MPTCP ones, in mptcpOptions) */
  options: TcpOptionRef[];
  /** the MPTCP options among them */
  mptcpOptions: TcpOptionRef[];
}

export interface DecodedFrame {
  frame: number;
  tsSec: number;
  tsNsec: number;
  caplen: number;
  origlen: number;
  dataOffset: number;
  linkType: number;
  interfaceId: number;
  ipVersion: 0 | 4 | 6;
  src: string;
  dst: string;
  ipOffset: number;
  /** IPv4 fragment that is not the first: no TCP header in it */
  nonFirstFragment: boolean;
  tcp: TcpSegment | null;
  /** the snaplen cut the frame before the end of what its headers describe */
  truncated: boolean;
  problems: string[];
}

export const TH_FIN = 0x001;
export const TH_SYN = 0x002;
export const TH_RST = 0x004;
export const TH_PUSH = 0x008;
export const TH_ACK = 0x010;
export const TH_URG = 0x020;
export const TH_ECE = 0x040;
export const TH_CWR = 0x080;

export const ETHERTYPE_IPV4 = 0x0800;
export const ETHERTYPE_IPV6 = 0x86dd;

/**
 * Past the VLAN tags (802.1Q, 802.1ad, QinQ) that follow an Ethernet header: `o` is the offset right
 * after its EtherType, `n` the frame's end in `b`. The offset after the tags (the EtherType that
 * counts is the two bytes before it), or -1 when a tag is cut short.
 */
export function pastVlanTags(b: Uint8Array, o: number, n: number): number {
  for (let et = be16(b, o - 2); et === 0x8100 || et === 0x88a8 || et === 0x9100; et = be16(b, o - 2)) {
    if (n < o + 4) return -1;
    o += 4;
  }
  return o;
}

/** Shared by every frame without problems and by segments decoded without all options (never written). */
const NONE: never[] = []; // not frozen: see NO_OPTIONS in the tracker

/**
 * A frame decoded when first needed: the record's fields at once, its headers (decodeFrame, the
 * pipeline's way: without allOptions) when one of them is first read. The analysis pipeline hands
 * the repeat lane's packets that are not quiet to its listeners as these: the checker's rules read
 * the frame number of a new mapping, and decoding its headers was a sixth of `check`. Valid only
 * while the listener is called, as the bytes beside it are: they lie in the reader's buffer.
 */
export class LazyFrame implements DecodedFrame {
  readonly frame: number;
  readonly tsSec: number;
  readonly tsNsec: number;
  readonly caplen: number;
  readonly origlen: number;
  readonly dataOffset: number;
  readonly linkType: number;
  readonly interfaceId: number;
  private full: DecodedFrame | undefined = undefined;

  constructor(rec: CaptureRecord, private readonly bytes: Uint8Array) {
    this.frame = rec.frame;
    this.tsSec = rec.tsSec;
    this.tsNsec = rec.tsNsec;
    this.caplen = rec.caplen;
    this.origlen = rec.origlen;
    this.dataOffset = rec.dataOffset;
    this.linkType = rec.linkType;
    this.interfaceId = rec.interfaceId;
  }

  private get decoded(): DecodedFrame {
    return (this.full ??= decodeFrame(this, this.bytes, false));
  }

  get ipVersion(): 0 | 4 | 6 { return this.decoded.ipVersion; }
  get src(): string { return this.decoded.src; }
  get dst(): string { return this.decoded.dst; }
  get ipOffset(): number { return this.decoded.ipOffset; }
  get nonFirstFragment(): boolean { return this.decoded.nonFirstFragment; }
  get tcp(): TcpSegment | null { return this.decoded.tcp; }
  get truncated(): boolean { return this.decoded.truncated; }
  get problems(): string[] { return this.decoded.problems; }
}

/**
 * Decodes a frame. `allOptions` lists every TCP option in `tcp.options`; the analysis pipeline
 * passes false, as it needs only the MPTCP ones (`tcp.mptcpOptions`), which are always listed.
 */
export function decodeFrame(rec: CaptureRecord, b: Uint8Array, allOptions = true): DecodedFrame {
  const d: DecodedFrame = {
    frame: rec.frame, tsSec: rec.tsSec, tsNsec: rec.tsNsec, caplen: rec.caplen, origlen: rec.origlen,
    dataOffset: rec.dataOffset, linkType: rec.linkType, interfaceId: rec.interfaceId,
    ipVersion: 0, src: '', dst: '', ipOffset: 0, nonFirstFragment: false, tcp: null,
    truncated: rec.caplen < rec.origlen, problems: NONE,
  };
  const n = b.length;
  let o = 0;
  let ethertype = -1; // -1: decide from the IP version nibble
  switch (rec.linkType) {
    case LINKTYPE.ETHERNET: {
      if (n < 14) return fail(d, 'Ethernet header cut short');
      o = pastVlanTags(b, 14, n);
      if (o < 0) return fail(d, '802.1Q tag cut short');
      ethertype = be16(b, o - 2);
      break;
    }
    case LINKTYPE.LINUX_SLL:
      if (n < 16) return fail(d, 'Linux cooked header cut short');
      ethertype = be16(b, 14);
      o = 16;
      break;
    case LINKTYPE.LINUX_SLL2:
      if (n < 20) return fail(d, 'Linux cooked v2 header cut short');
      ethertype = be16(b, 0);
      o = 20;
      break;
    case LINKTYPE.RAW: case LINKTYPE.RAW_OLD: case LINKTYPE.RAW_OPENBSD:
      break;
    case LINKTYPE.IPV4: ethertype = ETHERTYPE_IPV4; break;
    case LINKTYPE.IPV6: ethertype = ETHERTYPE_IPV6; break;
    case LINKTYPE.NULL: case LINKTYPE.LOOP: {
      if (n < 4) return fail(d, 'loopback header cut short');
      // DLT_NULL stores the address family in the capturing host's byte order: accept either.
      let fam = rec.linkType === LINKTYPE.LOOP ? be32(b, 0) : le32(b, 0);
      if (rec.linkType === LINKTYPE.NULL && fam > 0xffff) fam = be32(b, 0);
      ethertype = fam === 2 ? ETHERTYPE_IPV4 : fam === 10 || fam === 24 || fam === 28 || fam === 30 ? ETHERTYPE_IPV6 : 0;
      o = 4;
      break;
    }
    case LINKTYPE.PPP: case LINKTYPE.PPP_HDLC: {
      if (n >= 2 && b[0] === 0xff && b[1] === 0x03) o = 2;
      if (n < o + 1) return fail(d, 'PPP header cut short');
      let proto: number;
      if (b[o] & 1) { proto = b[o]; o += 1; } // compressed protocol field
      else { if (n < o + 2) return fail(d, 'PPP header cut short'); proto = be16(b, o); o += 2; }
      ethertype = proto === 0x0021 ? ETHERTYPE_IPV4 : proto === 0x0057 ? ETHERTYPE_IPV6 : 0;
      break;
    }
    default:
      problem(d, `link type ${rec.linkType} is not supported`);
      return d;
  }
  if (ethertype === -1) {
    if (n <= o) return fail(d, 'IP header missing');
    const v = b[o] >> 4;
    ethertype = v === 4 ? ETHERTYPE_IPV4 : v === 6 ? ETHERTYPE_IPV6 : 0;
  }
  if (ethertype === ETHERTYPE_IPV4) decodeIpv4(d, b, o, allOptions);
  else if (ethertype === ETHERTYPE_IPV6) decodeIpv6(d, b, o, allOptions);
  return d;
}

function problem(d: DecodedFrame, why: string): void {
  if (d.problems === NONE) d.problems = [];
  d.problems.push(why);
}

function fail(d: DecodedFrame, why: string): DecodedFrame {
  problem(d, why);
  d.truncated = true;
  return d;
}

function decodeIpv4(d: DecodedFrame, b: Uint8Array, o: number, allOptions: boolean): void {
  const n = b.length;
  if (n < o + 20) { fail(d, 'IPv4 header cut short'); return; }
  const ihl = (b[o] & 0x0f) * 4;
  if (ihl < 20) { problem(d, `IPv4 header length ${ihl} is below 20`); return; }
  d.ipVersion = 4;
  d.ipOffset = o;
  d.src = ipv4ToString(b, o + 12);
  d.dst = ipv4ToString(b, o + 16);
  const totalLength = be16(b, o + 2);
  const fragOffset = be16(b, o + 6) & 0x1fff;
  const proto = b[o + 9];
  if (fragOffset !== 0) { d.nonFirstFragment = true; return; }
  if (proto !== 6) return;
  if (n < o + ihl) { fail(d, 'IPv4 options cut short'); return; }
  // TSO captures carry a total length of 0: fall back to what the frame holds.
  const ipPayload = totalLength >= ihl ? totalLength - ihl : n - o - ihl;
  decodeTcp(d, b, o + ihl, ipPayload, allOptions);
}

// IPv6 extension headers that chain with (next header, length in 8-octet units minus one)
const V6_EXT = new Set([0, 43, 60, 135, 139, 140]);

function decodeIpv6(d: DecodedFrame, b: Uint8Array, o: number, allOptions: boolean): void {
  const n = b.length;
  if (n < o + 40) { fail(d, 'IPv6 header cut short'); return; }
  d.ipVersion = 6;
  d.ipOffset = o;
  d.src = ipv6ToString(b, o + 8);
  d.dst = ipv6ToString(b, o + 24);
  const payloadLength = be16(b, o + 4);
  let next = b[o + 6];
  let p = o + 40;
  let remaining = payloadLength === 0 ? n - p : payloadLength; // jumbogram or TSO: use what is there
  for (let guard = 0; guard < 16; guard++) {
    if (next === 6) break;
    if (next === 44) { // fragment header
      if (n < p + 8) { fail(d, 'IPv6 fragment header cut short'); return; }
      const fragOffset = be16(b, p + 2) >> 3;
      if (fragOffset !== 0) { d.nonFirstFragment = true; return; }
      next = b[p]; p += 8; remaining -= 8;
      continue;
    }
    if (next === 51) { // AH: length in 4-octet units minus two
      if (n < p + 2) { fail(d, 'IPv6 AH header cut short'); return; }
      const len = (b[p + 1] + 2) * 4;
      next = b[p]; p += len; remaining -= len;
      continue;
    }
    if (V6_EXT.has(next)) {
      if (n < p + 2) { fail(d, 'IPv6 extension header cut short'); return; }
      const len = (b[p + 1] + 1) * 8;
      next = b[p]; p += len; remaining -= len;
      continue;
    }
    return; // not TCP (or ESP, no next header, ...)
  }
  if (next !== 6) return;
  decodeTcp(d, b, p, remaining, allOptions);
}

function decodeTcp(d: DecodedFrame, b: Uint8Array, o: number, ipPayload: number, allOptions: boolean): void {
  const n = b.length;
  if (n < o + 20) { fail(d, 'TCP header cut short'); return; }
  const hl = (b[o + 12] >> 4) * 4;
  const t: TcpSegment = {
    offset: o,
    srcPort: be16(b, o),
    dstPort: be16(b, o + 2),
    seq: be32(b, o + 4),
    ack: be32(b, o + 8),
    flags: be16(b, o + 12) & 0x0fff,
    window: be16(b, o + 14),
    headerLength: hl,
    payloadLength: 0,
    payloadOffset: o + hl,
    payloadCaptured: 0,
    options: allOptions ? [] : NONE,
    mptcpOptions: NONE,
  };
  d.tcp = t;
  if (hl < 20) { problem(d, `TCP header length ${hl} is below 20`); return; }
  t.payloadLength = Math.max(0, ipPayload - hl);
  t.payloadCaptured = Math.max(0, Math.min(t.payloadLength, n - (o + hl)));
  if (n < o + hl + t.payloadLength) d.truncated = true;
  // options (RFC 9293 §3.1)
  const end = Math.min(o + hl, n);
  let p = o + 20;
  while (p < o + hl) {
    if (p >= end) { d.truncated = true; problem(d, 'TCP options cut short by the snaplen'); break; }
    const kind = b[p];
    if (kind === 0) { if (allOptions) t.options.push({ kind, offset: p, length: 1, avail: 1 }); break; }
    if (kind === 1) { if (allOptions) t.options.push({ kind, offset: p, length: 1, avail: 1 }); p++; continue; }
    if (p + 1 >= end) {
      if (p + 1 >= o + hl) problem(d, `TCP option kind ${kind} at offset ${p - o} has no length byte`);
      else { d.truncated = true; problem(d, 'TCP options cut short by the snaplen'); }
      if (allOptions) t.options.push({ kind, offset: p, length: 0, avail: end - p });
      break;
    }
    const len = b[p + 1];
    if (len < 2) {
      problem(d, `TCP option kind ${kind} has impossible length ${len}`);
      addOption(t, { kind, offset: p, length: len, avail: end - p }, allOptions);
      break;
    }
    if (p + len > o + hl) {
      problem(d, `TCP option kind ${kind} length ${len} runs past the TCP header`);
    }
    if (allOptions || kind === TCPOPT_MPTCP) addOption(t, { kind, offset: p, length: len, avail: Math.min(len, end - p, o + hl - p) }, allOptions);
    p += len;
  }
}

/** Lists an option: among all of them when asked for, and among the MPTCP ones if it is one. */
function addOption(t: TcpSegment, ref: TcpOptionRef, allOptions: boolean): void {
  if (allOptions) t.options.push(ref);
  if (ref.kind !== TCPOPT_MPTCP) return;
  if (t.mptcpOptions === NONE) t.mptcpOptions = [ref];
  else t.mptcpOptions.push(ref);
}

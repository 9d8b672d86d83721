/**
 * The MPTCP option (TCP option kind 30): RFC 8684 §3 (v1), RFC 6824 §3 (v0).
 *
 * `parseMptcpOption` reads one option into a typed representation; it never throws. A length
 * that does not fit the subtype, version, flags or direction is kept in `lengthProblem`, and a
 * field the capture cut short is left out and flagged with `truncated`.
 * `mptcpFieldLayout` names each field with its byte position for viewers.
 */
import { ipv4ToString, ipv6ToString } from './address.ts';
import { be16, be32 } from './bytes.ts';
import type { Topic } from '../rfc.ts';

export const TCPOPT_MPTCP = 30;

export const enum Subtype {
  MP_CAPABLE = 0x0,
  MP_JOIN = 0x1,
  DSS = 0x2,
  ADD_ADDR = 0x3,
  REMOVE_ADDR = 0x4,
  MP_PRIO = 0x5,
  MP_FAIL = 0x6,
  MP_FASTCLOSE = 0x7,
  MP_TCPRST = 0x8,
  MP_EXPERIMENTAL = 0xf,
}

export const SUBTYPE_NAMES: Record<number, string> = {
  0: 'MP_CAPABLE', 1: 'MP_JOIN', 2: 'DSS', 3: 'ADD_ADDR', 4: 'REMOVE_ADDR', 5: 'MP_PRIO',
  6: 'MP_FAIL', 7: 'MP_FASTCLOSE', 8: 'MP_TCPRST', 15: 'MP_EXPERIMENTAL',
};

// MP_CAPABLE flags (RFC 8684 §3.1)
export const CAPABLE_A = 0x80; // checksum required
export const CAPABLE_B = 0x40; // extensibility
export const CAPABLE_C = 0x20; // v1: do not open subflows to the source address
export const CAPABLE_H = 0x01; // HMAC-SHA256 (v1) / HMAC-SHA1 (v0)

// DSS flags (RFC 8684 §3.3)
export const DSS_DATA_FIN = 0x10; // F
export const DSS_DSN8 = 0x08; // m
export const DSS_MAPPING = 0x04; // M
export const DSS_ACK8 = 0x02; // a
export const DSS_ACK = 0x01; // A

export const TCPRST_REASONS: Record<number, string> = {
  0: 'unspecified error',
  1: 'MPTCP-specific error',
  2: 'lack of resources',
  3: 'administratively prohibited',
  4: 'too much outstanding data',
  5: 'unacceptable performance',
  6: 'middlebox interference',
};

/** Which segment of a handshake carries the option, from the TCP flags (RFC 8684 §3.1, §3.2). */
export type HandshakeStage = 'syn' | 'synack' | 'ack';

interface OptionBase {
  /** offset of the kind byte within the frame */
  offset: number;
  /** the option's length byte */
  length: number;
  subtype: number;
  /** byte 2 and 3 of the option (Wireshark's "flags" for some subtypes) */
  byte2: number;
  byte3: number;
  /** why the length does not fit, if it does not (RFC 8684 §3.8: such options are ignored) */
  lengthProblem?: string;
  /** the capture cut the option short */
  truncated?: boolean;
}

export interface MpCapable extends OptionBase {
  kind: 'MP_CAPABLE';
  version: number;
  flags: number;
  senderKey?: bigint;
  receiverKey?: bigint;
  dataLevelLength?: number;
  checksum?: number;
}

export interface MpJoin extends OptionBase {
  kind: 'MP_JOIN';
  /** the layout, from the length: 12 SYN, 16 SYN/ACK, 24 third ACK */
  form?: HandshakeStage;
  backup?: boolean;
  addressId?: number;
  token?: number;
  nonce?: number;
  truncatedHmac?: bigint;
  hmac?: Buffer;
}

export interface Dss extends OptionBase {
  kind: 'DSS';
  flags: number;
  dataFin: boolean;
  dataAck?: bigint;
  dataAck8: boolean;
  dsn?: bigint;
  dsn8: boolean;
  subflowSeq?: number;
  dataLevelLength?: number;
  checksum?: number;
}

export interface AddAddr extends OptionBase {
  kind: 'ADD_ADDR';
  /** the layout used: 0 (RFC 6824, IPVer nibble) or 1 (RFC 8684, echo bit and HMAC) */
  layout: 0 | 1;
  echo?: boolean;
  ipVer?: number;
  addressId?: number;
  family?: 4 | 6;
  address?: string;
  addressBytes?: Buffer;
  port?: number;
  hmac?: bigint;
}

export interface RemoveAddr extends OptionBase {
  kind: 'REMOVE_ADDR';
  addressIds: number[];
}

export interface MpPrio extends OptionBase {
  kind: 'MP_PRIO';
  backup: boolean;
  addressId?: number;
}

export interface MpFail extends OptionBase {
  kind: 'MP_FAIL';
  dsn?: bigint;
}

export interface MpFastclose extends OptionBase {
  kind: 'MP_FASTCLOSE';
  receiverKey?: bigint;
}

export interface MpTcpRst extends OptionBase {
  kind: 'MP_TCPRST';
  flags: number;
  reason?: number;
}

export interface MpOther extends OptionBase {
  kind: 'UNKNOWN' | 'MP_EXPERIMENTAL';
}

export type MptcpOption = MpCapable | MpJoin | Dss | AddAddr | RemoveAddr | MpPrio | MpFail | MpFastclose | MpTcpRst | MpOther;

/** Context the option's meaning depends on. */
export interface OptionContext {
  /** TCP SYN and ACK flags of the segment */
  syn: boolean;
  ack: boolean;
  /** whether the segment carries payload */
  hasData: boolean;
  /** negotiated MPTCP version of the connection, when known (ADD_ADDR and MP_PRIO depend on it) */
  version?: number;
}

/** The expected DSS length for a flags byte, without checksum (RFC 8684 §3.3). */
export function dssLength(flags: number): number {
  let n = 4;
  if (flags & DSS_ACK) n += flags & DSS_ACK8 ? 8 : 4;
  if (flags & DSS_MAPPING) n += (flags & DSS_DSN8 ? 8 : 4) + 4 + 2;
  return n;
}

// 64-bit fields: the two 32-bit halves written into an 8-byte scratch DataView and read back as one
// BigInt (one BigInt made, not four BigInt operations). Reading through a DataView over the bytes'
// own ArrayBuffer asked for `b.buffer` on every call: about 25 ns a read against 11 alone, and some
// 100 ns a read in the bulk capture's check, 173 k 64-bit Data ACKs and DSNs.
const scratch64 = new DataView(new ArrayBuffer(8));
function rd64(b: Uint8Array, o: number): bigint {
  scratch64.setUint32(0, be32(b, o));
  scratch64.setUint32(4, be32(b, o + 4));
  return scratch64.getBigUint64(0);
}

/**
 * Parses the MPTCP option at `off` in `b`. `avail` is how many option bytes are in the capture
 * (may be less than the length byte when the snaplen cut the frame).
 */
export function parseMptcpOption(b: Uint8Array, off: number, length: number, avail: number, ctx: OptionContext): MptcpOption {
  // the hot path of every capture: no closures, no spreads, fixed object shapes
  const lim = length < avail ? length : avail;
  const byte2 = avail > 2 && length > 2 ? b[off + 2] : 0;
  const byte3 = avail > 3 && length > 3 ? b[off + 3] : 0;
  const subtype = byte2 >> 4;
  const truncated = avail < length ? true : undefined;

  if (length < 3) {
    return { offset: off, length, subtype, byte2, byte3, truncated, kind: 'UNKNOWN', lengthProblem: `length ${length} is shorter than the 3 bytes every MPTCP option has` };
  }

  switch (subtype) {
    case Subtype.MP_CAPABLE: {
      const version = byte2 & 0x0f;
      const o: MpCapable = { offset: off, length, subtype, byte2, byte3, truncated, kind: 'MP_CAPABLE', version, flags: byte3 };
      // v1: SYN 4, SYN/ACK 12, ACK 20, first data 22 (24 with checksum); v0: 12/12/20 (§3.1)
      const allowed = version === 0 ? (ctx.syn ? [12] : [20]) : ctx.syn ? (ctx.ack ? [12] : [4]) : [20, 22, 24];
      if (!allowed.includes(length)) {
        const where = ctx.syn ? (ctx.ack ? 'a SYN/ACK' : 'a SYN') : 'a non-SYN segment';
        o.lengthProblem = `MP_CAPABLE v${version} length ${length} in ${where}; expected ${allowed.join(' or ')}`;
      }
      if (length >= 12 && (4) + 8 <= lim) o.senderKey = rd64(b, off + 4);
      if (length >= 20 && (12) + 8 <= lim) o.receiverKey = rd64(b, off + 12);
      if (length >= 22 && (20) + 2 <= lim) o.dataLevelLength = be16(b, off + 20);
      if (length >= 24 && (22) + 2 <= lim) o.checksum = be16(b, off + 22);
      return o;
    }
    case Subtype.MP_JOIN: {
      const o: MpJoin = { offset: off, length, subtype, byte2, byte3, truncated, kind: 'MP_JOIN' };
      const expected = ctx.syn ? (ctx.ack ? 16 : 12) : 24;
      if (length === 12) {
        o.form = 'syn';
        o.backup = (byte2 & 0x01) !== 0;
        if ((3) + 1 <= lim) o.addressId = byte3;
        if ((4) + 4 <= lim) o.token = be32(b, off + 4);
        if ((8) + 4 <= lim) o.nonce = be32(b, off + 8);
      } else if (length === 16) {
        o.form = 'synack';
        o.backup = (byte2 & 0x01) !== 0;
        if ((3) + 1 <= lim) o.addressId = byte3;
        if ((4) + 8 <= lim) o.truncatedHmac = rd64(b, off + 4);
        if ((12) + 4 <= lim) o.nonce = be32(b, off + 12);
      } else if (length === 24) {
        o.form = 'ack';
        if ((4) + 20 <= lim) o.hmac = Buffer.from(b.subarray(off + 4, off + 24));
      }
      if (length !== expected) {
        const where = ctx.syn ? (ctx.ack ? 'a SYN/ACK' : 'a SYN') : 'a third ACK';
        o.lengthProblem = `MP_JOIN length ${length} in ${where}; expected ${expected}`;
      }
      return o;
    }
    case Subtype.DSS:
      return parseDss(b, off, length, avail);
    case Subtype.ADD_ADDR: {
      const layout: 0 | 1 = ctx.version === 0 ? 0 : 1;
      const o: AddAddr = { offset: off, length, subtype, byte2, byte3, truncated, kind: 'ADD_ADDR', layout };
      if ((3) + 1 <= lim) o.addressId = byte3;
      let v6: boolean;
      if (layout === 0) {
        // RFC 6824 §3.4.1: IPVer nibble; lengths 8/10 (IPv4) and 20/22 (IPv6)
        o.ipVer = byte2 & 0x0f;
        v6 = o.ipVer === 6;
        const ok = o.ipVer === 4 ? [8, 10] : o.ipVer === 6 ? [20, 22] : [];
        if (!ok.includes(length)) {
          o.lengthProblem = ok.length
            ? `ADD_ADDR (v0) for IPv${o.ipVer} has length ${length}; expected ${ok.join(' or ')}`
            : `ADD_ADDR (v0) has IPVer ${o.ipVer}, neither 4 nor 6`;
        }
      } else {
        // RFC 8684 §3.4.1: E bit; lengths IPv4 8/10 echo, 16/18 with HMAC; IPv6 20/22, 28/30
        o.echo = (byte2 & 0x01) !== 0;
        v6 = length >= 20;
        const ok = o.echo ? (v6 ? [20, 22] : [8, 10]) : v6 ? [28, 30] : [16, 18];
        if (!ok.includes(length)) {
          o.lengthProblem = `ADD_ADDR ${o.echo ? 'echo' : 'with HMAC'} has length ${length}; expected ${o.echo ? '8, 10, 20 or 22' : '16, 18, 28 or 30'}`;
        }
      }
      const alen = v6 ? 16 : 4;
      o.family = v6 ? 6 : 4;
      if ((4) + alen <= lim) {
        o.addressBytes = Buffer.from(b.subarray(off + 4, off + 4 + alen));
        o.address = v6 ? ipv6ToString(b, off + 4) : ipv4ToString(b, off + 4);
      }
      const afterAddr = 4 + alen;
      const rest = length - afterAddr;
      const hasPort = layout === 0 ? rest === 2 : rest === 2 || rest === 10;
      if (hasPort && (afterAddr) + 2 <= lim) o.port = be16(b, off + afterAddr);
      if (layout === 1 && !o.echo && (rest === 8 || rest === 10)) {
        const h = afterAddr + (hasPort ? 2 : 0);
        if ((h) + 8 <= lim) o.hmac = rd64(b, off + h);
      }
      return o;
    }
    case Subtype.REMOVE_ADDR: {
      const o: RemoveAddr = { offset: off, length, subtype, byte2, byte3, truncated, kind: 'REMOVE_ADDR', addressIds: [] };
      for (let p = 3; p < length && p < avail; p++) o.addressIds.push(b[off + p]);
      if (length < 4) o.lengthProblem = `REMOVE_ADDR length ${length} names no address ID`;
      return o;
    }
    case Subtype.MP_PRIO: {
      const o: MpPrio = { offset: off, length, subtype, byte2, byte3, truncated, kind: 'MP_PRIO', backup: (byte2 & 0x01) !== 0 };
      // v1: length 3; v0: 3, or 4 with an address ID (RFC 6824 §3.3.8)
      if (length === 4 && (3) + 1 <= lim) o.addressId = byte3;
      const ok = ctx.version === 0 ? [3, 4] : [3];
      if (!ok.includes(length) && !(ctx.version === undefined && length === 4)) {
        o.lengthProblem = `MP_PRIO length ${length}; expected ${ok.join(' or ')}`;
      }
      return o;
    }
    case Subtype.MP_FAIL: {
      const o: MpFail = { offset: off, length, subtype, byte2, byte3, truncated, kind: 'MP_FAIL' };
      if (length !== 12) o.lengthProblem = `MP_FAIL length ${length}; expected 12`;
      else if ((4) + 8 <= lim) o.dsn = rd64(b, off + 4);
      return o;
    }
    case Subtype.MP_FASTCLOSE: {
      const o: MpFastclose = { offset: off, length, subtype, byte2, byte3, truncated, kind: 'MP_FASTCLOSE' };
      if (length !== 12) o.lengthProblem = `MP_FASTCLOSE length ${length}; expected 12`;
      else if ((4) + 8 <= lim) o.receiverKey = rd64(b, off + 4);
      return o;
    }
    case Subtype.MP_TCPRST: {
      const o: MpTcpRst = { offset: off, length, subtype, byte2, byte3, truncated, kind: 'MP_TCPRST', flags: byte2 & 0x0f };
      if (length !== 4) o.lengthProblem = `MP_TCPRST length ${length}; expected 4`;
      if ((3) + 1 <= lim) o.reason = byte3;
      return o;
    }
    case Subtype.MP_EXPERIMENTAL:
      return { offset: off, length, subtype, byte2, byte3, truncated, kind: 'MP_EXPERIMENTAL' };
    default:
      return { offset: off, length, subtype, byte2, byte3, truncated, kind: 'UNKNOWN' };
  }
}

/**
 * A DSS option (RFC 8684 §3.3.1) at `off`, `avail` of its `length` bytes captured: what
 * parseMptcpOption gives for one (a DSS does not depend on the OptionContext). `base`: where the
 * frame starts in `b` (its offset is the frame's).
 */
export function parseDss(b: Uint8Array, off: number, length: number, avail: number, base = 0): Dss {
  const lim = length < avail ? length : avail;
  const byte2 = avail > 2 && length > 2 ? b[off + 2] : 0;
  const byte3 = avail > 3 && length > 3 ? b[off + 3] : 0;
  const subtype = byte2 >> 4;
  const truncated = avail < length ? true : undefined;
  const flags = byte3 & 0x1f;
  // every field present (undefined when absent): one hidden class for all DSS options
  const o: Dss = {
    offset: off - base, length, subtype, byte2, byte3, truncated, kind: 'DSS', flags, dataFin: (flags & DSS_DATA_FIN) !== 0,
    dataAck8: (flags & DSS_ACK8) !== 0, dsn8: (flags & DSS_DSN8) !== 0, lengthProblem: undefined,
    dataAck: undefined, dsn: undefined, subflowSeq: undefined, dataLevelLength: undefined, checksum: undefined,
  };
  if (length < 4) {
    o.lengthProblem = `DSS length ${length} is shorter than its 4-byte header`;
    return o;
  }
  const need = dssLength(flags);
  const withChecksum = (flags & DSS_MAPPING) !== 0 && length === need + 2;
  if (length !== need && !withChecksum) {
    o.lengthProblem = `DSS length ${length} does not fit its flags 0x${flags.toString(16).padStart(2, '0')} (expected ${need}${flags & DSS_MAPPING ? ` or ${need + 2} with checksum` : ''})`;
  }
  let p = 4;
  if (flags & DSS_ACK) {
    const n = flags & DSS_ACK8 ? 8 : 4;
    if ((p) + n <= lim) o.dataAck = n === 8 ? rd64(b, off + p) : BigInt(be32(b, off + p));
    p += n;
  }
  if (flags & DSS_MAPPING) {
    const n = flags & DSS_DSN8 ? 8 : 4;
    if ((p) + n <= lim) o.dsn = n === 8 ? rd64(b, off + p) : BigInt(be32(b, off + p));
    p += n;
    if ((p) + 4 <= lim) o.subflowSeq = be32(b, off + p);
    p += 4;
    if ((p) + 2 <= lim) o.dataLevelLength = be16(b, off + p);
    p += 2;
    if (withChecksum && (p) + 2 <= lim) o.checksum = be16(b, off + p);
  }
  return o;
}

/** One named field of an option, where it sits in the frame, and the section defining it. */
export interface FieldLayout {
  name: string;
  /** Wireshark's field name, where it has one */
  wireshark?: string;
  offset: number;
  length: number;
  /** the value as text: hex for keys, HMACs and flags, decimal for counters */
  value: string;
  topic: Topic;
  /** what the field means, for tooltips */
  help: string;
}

const hex = (v: bigint | number, digits: number) => `0x${v.toString(16).padStart(digits, '0')}`;

/** The fields of an option with their byte positions (for the viewer's field tree and hex view). */
export function mptcpFieldLayout(o: MptcpOption): FieldLayout[] {
  const f: FieldLayout[] = [];
  const at = (rel: number) => o.offset + rel;
  const topicOf: Record<string, Topic> = {
    MP_CAPABLE: 'capable', MP_JOIN: 'join', DSS: 'dss', ADD_ADDR: 'addAddr', REMOVE_ADDR: 'removeAddr',
    MP_PRIO: 'prio', MP_FAIL: 'fallback', MP_FASTCLOSE: 'fastclose', MP_TCPRST: 'tcprst', UNKNOWN: 'option', MP_EXPERIMENTAL: 'iana',
  };
  const topic = topicOf[o.kind];
  f.push({ name: 'Kind', offset: at(0), length: 1, value: '30 (Multipath TCP)', topic: 'option', help: 'TCP option kind 30 is Multipath TCP.' });
  f.push({ name: 'Length', offset: at(1), length: 1, value: String(o.length), topic: 'option', help: 'Length of the whole option in bytes.' + (o.lengthProblem ? ` Problem: ${o.lengthProblem}.` : '') });
  f.push({ name: 'Subtype', wireshark: 'tcp.options.mptcp.subtype', offset: at(2), length: 1, value: `${o.subtype} (${SUBTYPE_NAMES[o.subtype] ?? 'unknown'})`, topic: o.kind === 'UNKNOWN' ? 'iana' : topic, help: 'High nibble of byte 2: which MPTCP option this is.' });
  switch (o.kind) {
    case 'MP_CAPABLE': {
      f.push({ name: 'Version', wireshark: 'tcp.options.mptcp.version', offset: at(2), length: 1, value: String(o.version), topic, help: 'MPTCP version: 0 is RFC 6824, 1 is RFC 8684.' });
      const names = [o.flags & CAPABLE_A ? 'A (checksum required)' : '', o.flags & CAPABLE_B ? 'B (extensibility)' : '', o.version >= 1 && o.flags & CAPABLE_C ? 'C (no subflows to this address)' : '', o.flags & CAPABLE_H ? `H (HMAC-${o.version === 0 ? 'SHA1' : 'SHA256'})` : ''].filter(Boolean);
      f.push({ name: 'Flags', wireshark: 'tcp.options.mptcp.flags', offset: at(3), length: 1, value: `${hex(o.flags, 2)}${names.length ? ` ${names.join(', ')}` : ''}`, topic, help: 'A: DSS checksums required. B: extensibility. C (v1): do not open subflows to this source address. D-H: crypto algorithm; H is HMAC-SHA256 in v1 (HMAC-SHA1 in v0).' });
      if (o.senderKey !== undefined) f.push({ name: "Sender's key", wireshark: 'tcp.options.mptcp.sendkey', offset: at(4), length: 8, value: hex(o.senderKey, 16), topic, help: "The sender's 64-bit key. Its hash gives the token (most significant 32 bits) and the IDSN (least significant 64 bits)." });
      if (o.receiverKey !== undefined) f.push({ name: "Receiver's key", wireshark: 'tcp.options.mptcp.recvkey', offset: at(12), length: 8, value: hex(o.receiverKey, 16), topic, help: "The peer's key echoed back in the third ACK; it must equal the key the peer sent in its SYN/ACK (v1) or SYN/ACK (v0)." });
      if (o.dataLevelLength !== undefined) f.push({ name: 'Data-level length', wireshark: 'tcp.options.mptcp.datalvllen', offset: at(20), length: 2, value: String(o.dataLevelLength), topic, help: 'v1: the first data segment carries an implicit mapping from IDSN+1 of this many bytes.' });
      if (o.checksum !== undefined) f.push({ name: 'Checksum', wireshark: 'tcp.options.mptcp.checksum', offset: at(22), length: 2, value: hex(o.checksum, 4), topic: 'mapping', help: 'DSS checksum of the implicit mapping, when checksums were negotiated.' });
      break;
    }
    case 'MP_JOIN': {
      if (o.form === 'syn' || o.form === 'synack') {
        f.push({ name: 'Backup', wireshark: 'tcp.options.mptcp.backup.flag', offset: at(2), length: 1, value: o.backup ? '1' : '0', topic, help: 'B: the sender wants this subflow used only as a backup.' });
        if (o.addressId !== undefined) f.push({ name: 'Address ID', wireshark: 'tcp.options.mptcp.addrid', offset: at(3), length: 1, value: String(o.addressId), topic, help: "The ID of the sender's source address for this subflow." });
      }
      if (o.form === 'syn') {
        if (o.token !== undefined) f.push({ name: "Receiver's token", wireshark: 'tcp.options.mptcp.recvtok', offset: at(4), length: 4, value: hex(o.token, 8), topic, help: "Identifies the MPTCP connection: the token derived from the receiver's key." });
        if (o.nonce !== undefined) f.push({ name: "Sender's random number", wireshark: 'tcp.options.mptcp.sendrand', offset: at(8), length: 4, value: hex(o.nonce, 8), topic, help: 'Nonce R-A, an input of both join HMACs.' });
      } else if (o.form === 'synack') {
        if (o.truncatedHmac !== undefined) f.push({ name: "Sender's truncated HMAC", wireshark: 'tcp.options.mptcp.sendtrunchmac', offset: at(4), length: 8, value: hex(o.truncatedHmac, 16), topic, help: 'Leftmost 64 bits of HMAC(Key-B‖Key-A, R-B‖R-A).' });
        if (o.nonce !== undefined) f.push({ name: "Sender's random number", wireshark: 'tcp.options.mptcp.sendrand', offset: at(12), length: 4, value: hex(o.nonce, 8), topic, help: 'Nonce R-B, an input of both join HMACs.' });
      } else if (o.form === 'ack' && o.hmac) {
        f.push({ name: "Sender's HMAC", wireshark: 'tcp.options.mptcp.sendhmac', offset: at(4), length: 20, value: o.hmac.toString('hex'), topic, help: 'Leftmost 160 bits of HMAC(Key-A‖Key-B, R-A‖R-B).' });
      }
      break;
    }
    case 'DSS': {
      const fl = [o.flags & DSS_DATA_FIN ? 'F' : '', o.flags & DSS_DSN8 ? 'm' : '', o.flags & DSS_MAPPING ? 'M' : '', o.flags & DSS_ACK8 ? 'a' : '', o.flags & DSS_ACK ? 'A' : ''].filter(Boolean).join(' ');
      f.push({ name: 'Flags', wireshark: 'tcp.options.mptcp.flags', offset: at(3), length: 1, value: `${hex(o.flags, 2)}${fl ? ` ${fl}` : ''}`, topic, help: 'F: DATA_FIN. m: DSN is 8 bytes. M: mapping present. a: Data ACK is 8 bytes. A: Data ACK present.' });
      let p = 4;
      if (o.flags & DSS_ACK) {
        const n = o.dataAck8 ? 8 : 4;
        if (o.dataAck !== undefined) f.push({ name: 'Data ACK', wireshark: 'tcp.options.mptcp.rawdataack', offset: at(p), length: n, value: String(o.dataAck), topic: 'dataAck', help: 'Cumulative acknowledgment at the data level: the next data sequence number expected.' });
        p += n;
      }
      if (o.flags & DSS_MAPPING) {
        const n = o.dsn8 ? 8 : 4;
        if (o.dsn !== undefined) f.push({ name: 'Data sequence number', wireshark: 'tcp.options.mptcp.rawdataseqno', offset: at(p), length: n, value: String(o.dsn), topic: 'mapping', help: 'Start of the mapping at the data level.' });
        p += n;
        if (o.subflowSeq !== undefined) f.push({ name: 'Subflow sequence number', wireshark: 'tcp.options.mptcp.subflowseqno', offset: at(p), length: 4, value: String(o.subflowSeq), topic: 'mapping', help: "Start of the mapping in the subflow, relative to the subflow's initial sequence number." });
        p += 4;
        if (o.dataLevelLength !== undefined) f.push({ name: 'Data-level length', wireshark: 'tcp.options.mptcp.datalvllen', offset: at(p), length: 2, value: String(o.dataLevelLength), topic: 'mapping', help: 'Bytes the mapping covers; 0 with a DSN is an infinite mapping (fallback).' });
        p += 2;
        if (o.checksum !== undefined) f.push({ name: 'Checksum', wireshark: 'tcp.options.mptcp.checksum', offset: at(p), length: 2, value: hex(o.checksum, 4), topic: 'mapping', help: "Ones'-complement checksum over a pseudo-header (DSN, subflow sequence number, length) and the mapped data." });
      }
      break;
    }
    case 'ADD_ADDR': {
      if (o.layout === 0) f.push({ name: 'IP version', wireshark: 'tcp.options.mptcp.ipver', offset: at(2), length: 1, value: String(o.ipVer), topic, help: 'v0: IP version of the advertised address.' });
      else f.push({ name: 'Echo', wireshark: 'tcp.options.mptcp.echo', offset: at(2), length: 1, value: o.echo ? '1' : '0', topic, help: 'E: this option echoes an address the peer announced (no HMAC).' });
      if (o.addressId !== undefined) f.push({ name: 'Address ID', wireshark: 'tcp.options.mptcp.addrid', offset: at(3), length: 1, value: String(o.addressId), topic, help: 'Identifies the address within the connection, for REMOVE_ADDR and MP_JOIN.' });
      if (o.address !== undefined) f.push({ name: 'Address', wireshark: o.family === 6 ? 'tcp.options.mptcp.ipv6' : 'tcp.options.mptcp.ipv4', offset: at(4), length: o.family === 6 ? 16 : 4, value: o.address, topic, help: 'The advertised address.' });
      const alen = o.family === 6 ? 16 : 4;
      if (o.port !== undefined) f.push({ name: 'Port', wireshark: 'tcp.options.mptcp.port', offset: at(4 + alen), length: 2, value: String(o.port), topic, help: 'The port on the advertised address.' });
      if (o.hmac !== undefined) f.push({ name: 'Truncated HMAC', wireshark: 'tcp.options.mptcp.addaddrtrunchmac', offset: at(4 + alen + (o.port !== undefined ? 2 : 0)), length: 8, value: hex(o.hmac, 16), topic, help: "Rightmost 64 bits of HMAC-SHA256 keyed with the sender's key‖receiver's key over address ID‖address‖port." });
      break;
    }
    case 'REMOVE_ADDR':
      o.addressIds.forEach((id, i) => f.push({ name: 'Address ID', wireshark: 'tcp.options.mptcp.addrid', offset: at(3 + i), length: 1, value: String(id), topic, help: 'An address ID being withdrawn.' }));
      break;
    case 'MP_PRIO':
      f.push({ name: 'Backup', wireshark: 'tcp.options.mptcp.backup.flag', offset: at(2), length: 1, value: o.backup ? '1' : '0', topic, help: 'B: use this subflow only as a backup (1) or as a regular subflow (0).' });
      if (o.addressId !== undefined) f.push({ name: 'Address ID', wireshark: 'tcp.options.mptcp.addrid', offset: at(3), length: 1, value: String(o.addressId), topic, help: 'v0: the address whose subflows change priority.' });
      break;
    case 'MP_FAIL':
      if (o.dsn !== undefined) f.push({ name: 'Data sequence number', wireshark: 'tcp.options.mptcp.rawdataseqno', offset: at(4), length: 8, value: String(o.dsn), topic, help: 'The DSN at which a checksum failure occurred.' });
      break;
    case 'MP_FASTCLOSE':
      if (o.receiverKey !== undefined) f.push({ name: "Receiver's key", wireshark: 'tcp.options.mptcp.recvkey', offset: at(4), length: 8, value: hex(o.receiverKey, 16), topic, help: "The receiver's key, proving the sender knows the connection." });
      break;
    case 'MP_TCPRST': {
      const fl = [o.flags & 8 ? 'U' : '', o.flags & 4 ? 'V' : '', o.flags & 2 ? 'W' : '', o.flags & 1 ? 'T (transient)' : ''].filter(Boolean).join(' ');
      f.push({ name: 'Flags', wireshark: 'tcp.options.mptcp.flags', offset: at(2), length: 1, value: `${hex(o.flags, 1)}${fl ? ` ${fl}` : ''}`, topic, help: 'T: the error is transient; U, V, W: reserved.' });
      if (o.reason !== undefined) f.push({ name: 'Reason', wireshark: 'tcp.options.mptcp.rst_reason', offset: at(3), length: 1, value: `${o.reason} (${TCPRST_REASONS[o.reason] ?? 'unassigned'})`, topic, help: 'Why the subflow was reset.' });
      break;
    }
    default:
      break;
  }
  return f;
}

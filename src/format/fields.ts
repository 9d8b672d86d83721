/**
 * `mptcp-lens fields`: the output of
 *   tshark -r FILE -T fields -E occurrence=a -E aggregator=, -e FIELD ...
 * one line per frame, tab-separated, with tshark 4.0's value formatting, so that users can diff
 * the two. Where tshark 4.0 is wrong we follow the RFC; WIRESHARK_DIFFERENCES lists each case.
 */
import { deriveFromKey } from '../mptcp/crypto.ts';
import type { PacketFacts } from '../mptcp/model.ts';
import { dssLength, type MptcpOption } from '../wire/mptcp.ts';
import type { DecodedFrame } from '../wire/packet.ts';

const P = 'tcp.options.mptcp.';

export const SUPPORTED_FIELDS: readonly string[] = [
  'frame.number', 'frame.time_epoch', 'frame.len', 'frame.cap_len', 'ip.src', 'ip.dst', 'ipv6.src', 'ipv6.dst',
  'tcp.srcport', 'tcp.dstport', 'tcp.stream', 'tcp.flags', 'tcp.seq_raw', 'tcp.ack_raw', 'tcp.len', 'tcp.hdr_len',
  'mptcp.stream', 'mptcp.expected_token', 'mptcp.expected_idsn',
  ...['subtype', 'version', 'flags', 'checksumreq.flags', 'extensibility.flag', 'nomoresubflows.flag', 'sha1.flag',
    'sha256.flag', 'backup.flag', 'datafin.flag', 'dseqn8.flag', 'dseqnpresent.flag', 'dataack8.flag',
    'dataackpresent.flag', 'sendkey', 'recvkey', 'recvtok', 'sendrand', 'sendtrunchmac', 'sendhmac', 'addrid',
    'rawdataack', 'rawdataseqno', 'subflowseqno', 'datalvllen', 'checksum', 'ipver', 'echo', 'ipv4', 'ipv6', 'port',
    'addaddrtrunchmac', 'rst_reason', 'flag_U.flag', 'flag_V.flag', 'flag_W.flag', 'flag_T.flag'].map((f) => P + f),
];

/**
 * Where we deliberately print something else than tshark 4.0 (shared/RFC-MAP.md lists its defects).
 * The differential test applies exactly these exemptions and nothing else.
 */
export const WIRESHARK_DIFFERENCES = [
  {
    field: `${P}checksum`,
    what: 'tshark 4.0 shows no DSS checksum (it tests optlen >= consumed + 4 instead of + 2); we show every DSS checksum on the wire.',
  },
] as const;

const hex = (v: number, digits: number) => `0x${v.toString(16).padStart(digits, '0')}`;
const bit = (v: number, mask: number) => ((v & mask) !== 0 ? '1' : '0');

type Out = Map<string, string[]>;

function put(out: Out, name: string, value: string): void {
  const l = out.get(name);
  if (l) l.push(value);
  else out.set(name, [value]);
}

/**
 * Whether tshark 4.0's dissector reads past this option (its length too short for what the
 * subtype and flags say, or the capture cut it): tshark then stops dissecting the TCP header there,
 * so nothing after it is shown, not even mptcp.stream.
 */
function wiresharkThrows(o: MptcpOption): boolean {
  if (o.truncated) return true;
  switch (o.kind) {
    case 'MP_CAPABLE': case 'MP_TCPRST': return o.length < 4;
    case 'DSS': return o.length < 4 || o.length < dssLength(o.flags);
    case 'MP_FAIL': case 'MP_FASTCLOSE': return o.length < 12;
    default: return false;
  }
}

/** Adds the values tshark 4.0 shows for one MPTCP option, in its order. */
function optionFields(out: Out, o: MptcpOption, connVersion: number | undefined): void {
  put(out, P + 'subtype', String(o.subtype));
  switch (o.kind) {
    case 'MP_CAPABLE': {
      put(out, P + 'version', String(o.version));
      put(out, P + 'flags', hex(o.flags, 2));
      put(out, P + 'checksumreq.flags', bit(o.flags, 0x80));
      put(out, P + 'extensibility.flag', bit(o.flags, 0x40));
      if (o.version === 0) put(out, P + 'sha1.flag', bit(o.flags, 0x01));
      else {
        put(out, P + 'nomoresubflows.flag', bit(o.flags, 0x20));
        put(out, P + 'sha256.flag', bit(o.flags, 0x01));
      }
      if (o.senderKey !== undefined && [12, 20, 22, 24].includes(o.length)) {
        put(out, P + 'sendkey', o.senderKey.toString());
        const d = deriveFromKey(o.senderKey, o.version);
        put(out, 'mptcp.expected_token', String(d.token));
        put(out, 'mptcp.expected_idsn', d.idsn.toString());
        if (o.receiverKey !== undefined) put(out, P + 'recvkey', o.receiverKey.toString());
        if (o.dataLevelLength !== undefined) put(out, P + 'datalvllen', String(o.dataLevelLength));
        if (o.checksum !== undefined) put(out, P + 'checksum', hex(o.checksum, 4));
      }
      return;
    }
    case 'MP_JOIN':
      if (o.length === 12 || o.length === 16) {
        put(out, P + 'flags', hex(o.byte2, 2));
        put(out, P + 'backup.flag', o.backup ? '1' : '0');
        if (o.addressId !== undefined) put(out, P + 'addrid', String(o.addressId));
        if (o.token !== undefined) put(out, P + 'recvtok', String(o.token));
        if (o.truncatedHmac !== undefined) put(out, P + 'sendtrunchmac', o.truncatedHmac.toString());
        if (o.nonce !== undefined) put(out, P + 'sendrand', String(o.nonce));
      } else if (o.length === 24 && o.hmac) {
        put(out, P + 'sendhmac', o.hmac.toString('hex'));
      }
      return;
    case 'DSS': {
      if (o.length < 4) return;
      put(out, P + 'flags', hex(o.byte3, 2));
      put(out, P + 'datafin.flag', bit(o.flags, 0x10));
      put(out, P + 'dseqn8.flag', bit(o.flags, 0x08));
      put(out, P + 'dseqnpresent.flag', bit(o.flags, 0x04));
      put(out, P + 'dataack8.flag', bit(o.flags, 0x02));
      put(out, P + 'dataackpresent.flag', bit(o.flags, 0x01));
      if (o.dataAck !== undefined) put(out, P + 'rawdataack', o.dataAck.toString());
      if (o.dsn !== undefined) put(out, P + 'rawdataseqno', o.dsn.toString());
      if (o.subflowSeq !== undefined) put(out, P + 'subflowseqno', String(o.subflowSeq));
      if (o.dataLevelLength !== undefined) put(out, P + 'datalvllen', String(o.dataLevelLength));
      // RFC 8684 §3.3: the checksum follows the length when negotiated (tshark 4.0 omits it).
      if (o.checksum !== undefined && o.length === dssLength(o.flags) + 2) put(out, P + 'checksum', hex(o.checksum, 4));
      return;
    }
    case 'ADD_ADDR':
      if (connVersion === 0) put(out, P + 'ipver', String(o.byte2 & 0x0f));
      else put(out, P + 'echo', bit(o.byte2, 0x01));
      if (o.addressId !== undefined) put(out, P + 'addrid', String(o.addressId));
      if (o.address !== undefined) put(out, o.family === 6 ? P + 'ipv6' : P + 'ipv4', o.address);
      if (o.port !== undefined) put(out, P + 'port', String(o.port));
      if (o.hmac !== undefined) put(out, P + 'addaddrtrunchmac', o.hmac.toString());
      return;
    case 'REMOVE_ADDR':
      for (const id of o.addressIds) put(out, P + 'addrid', String(id));
      return;
    case 'MP_PRIO':
      put(out, P + 'flags', hex(o.byte2, 2));
      put(out, P + 'backup.flag', o.backup ? '1' : '0');
      if (o.addressId !== undefined) put(out, P + 'addrid', String(o.addressId));
      return;
    case 'MP_FAIL':
      if (o.dsn !== undefined) put(out, P + 'rawdataseqno', o.dsn.toString());
      return;
    case 'MP_FASTCLOSE':
      if (o.receiverKey !== undefined) put(out, P + 'recvkey', o.receiverKey.toString());
      return;
    case 'MP_TCPRST':
      put(out, P + 'flags', hex(o.byte2, 2));
      put(out, P + 'flag_U.flag', bit(o.flags, 8));
      put(out, P + 'flag_V.flag', bit(o.flags, 4));
      put(out, P + 'flag_W.flag', bit(o.flags, 2));
      put(out, P + 'flag_T.flag', bit(o.flags, 1));
      if (o.reason !== undefined) put(out, P + 'rst_reason', hex(o.reason, 2));
      return;
    default:
      return;
  }
}

/** Builds one output line for the frame. */
export function fieldsLine(fields: readonly string[], f: DecodedFrame, facts: PacketFacts): string {
  const out: Out = new Map();
  put(out, 'frame.number', String(f.frame));
  put(out, 'frame.time_epoch', `${f.tsSec}.${String(f.tsNsec).padStart(9, '0')}`);
  put(out, 'frame.len', String(f.origlen));
  put(out, 'frame.cap_len', String(f.caplen));
  if (f.ipVersion === 4) { put(out, 'ip.src', f.src); put(out, 'ip.dst', f.dst); }
  else if (f.ipVersion === 6) { put(out, 'ipv6.src', f.src); put(out, 'ipv6.dst', f.dst); }
  const t = f.tcp;
  if (t) {
    put(out, 'tcp.srcport', String(t.srcPort));
    put(out, 'tcp.dstport', String(t.dstPort));
    if (facts.stream) put(out, 'tcp.stream', String(facts.stream.id));
    put(out, 'tcp.seq_raw', String(t.seq));
    put(out, 'tcp.ack_raw', String(t.ack));
    put(out, 'tcp.hdr_len', String(t.headerLength));
    put(out, 'tcp.flags', hex(t.flags, 4));
    if (t.headerLength >= 20) put(out, 'tcp.len', String(t.payloadLength));
    const version = facts.stream?.conn?.version;
    let aborted = false;
    for (const o of facts.options) {
      optionFields(out, o, version);
      if (wiresharkThrows(o)) { aborted = true; break; }
    }
    // tshark shows the MPTCP analysis only on segments that carry an MPTCP option.
    if (!aborted && facts.options.length > 0 && facts.stream?.conn) put(out, 'mptcp.stream', String(facts.stream.conn.id));
  }
  return fields.map((name) => out.get(name)?.join(',') ?? '').join('\t');
}

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

/** The option fields' names, made once (a name concatenated at each use is a new string to hash). */
const F: Record<string, string> = Object.fromEntries(SUPPORTED_FIELDS.filter((f) => f.startsWith(P)).map((f) => [f.slice(P.length), f]));

const hex = (v: number, digits: number) => `0x${v.toString(16).padStart(digits, '0')}`;
const bit = (v: number, mask: number) => ((v & mask) !== 0 ? '1' : '0');

/** A line's values: only the fields asked for are kept (a frame has some 25 of them). */
interface Out {
  /** field name -> its column */
  wanted: Map<string, number>;
  values: Array<string[] | undefined>;
}

function put(out: Out, name: string, value: string): void {
  const i = out.wanted.get(name);
  if (i === undefined) return;
  const l = out.values[i];
  if (l) l.push(value);
  else out.values[i] = [value];
}

/** the columns of each field list used (a command uses one list for every frame) */
const columnsOf = new WeakMap<readonly string[], Map<string, number>>();

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
  put(out, F['subtype'], String(o.subtype));
  switch (o.kind) {
    case 'MP_CAPABLE': {
      put(out, F['version'], String(o.version));
      put(out, F['flags'], hex(o.flags, 2));
      put(out, F['checksumreq.flags'], bit(o.flags, 0x80));
      put(out, F['extensibility.flag'], bit(o.flags, 0x40));
      if (o.version === 0) put(out, F['sha1.flag'], bit(o.flags, 0x01));
      else {
        put(out, F['nomoresubflows.flag'], bit(o.flags, 0x20));
        put(out, F['sha256.flag'], bit(o.flags, 0x01));
      }
      if (o.senderKey !== undefined && [12, 20, 22, 24].includes(o.length)) {
        put(out, F['sendkey'], o.senderKey.toString());
        const d = deriveFromKey(o.senderKey, o.version);
        put(out, 'mptcp.expected_token', String(d.token));
        put(out, 'mptcp.expected_idsn', d.idsn.toString());
        if (o.receiverKey !== undefined) put(out, F['recvkey'], o.receiverKey.toString());
        if (o.dataLevelLength !== undefined) put(out, F['datalvllen'], String(o.dataLevelLength));
        if (o.checksum !== undefined) put(out, F['checksum'], hex(o.checksum, 4));
      }
      return;
    }
    case 'MP_JOIN':
      if (o.length === 12 || o.length === 16) {
        put(out, F['flags'], hex(o.byte2, 2));
        put(out, F['backup.flag'], o.backup ? '1' : '0');
        if (o.addressId !== undefined) put(out, F['addrid'], String(o.addressId));
        if (o.token !== undefined) put(out, F['recvtok'], String(o.token));
        if (o.truncatedHmac !== undefined) put(out, F['sendtrunchmac'], o.truncatedHmac.toString());
        if (o.nonce !== undefined) put(out, F['sendrand'], String(o.nonce));
      } else if (o.length === 24 && o.hmac) {
        put(out, F['sendhmac'], o.hmac.toString('hex'));
      }
      return;
    case 'DSS': {
      if (o.length < 4) return;
      put(out, F['flags'], hex(o.byte3, 2));
      put(out, F['datafin.flag'], bit(o.flags, 0x10));
      put(out, F['dseqn8.flag'], bit(o.flags, 0x08));
      put(out, F['dseqnpresent.flag'], bit(o.flags, 0x04));
      put(out, F['dataack8.flag'], bit(o.flags, 0x02));
      put(out, F['dataackpresent.flag'], bit(o.flags, 0x01));
      if (o.dataAck !== undefined) put(out, F['rawdataack'], o.dataAck.toString());
      if (o.dsn !== undefined) put(out, F['rawdataseqno'], o.dsn.toString());
      if (o.subflowSeq !== undefined) put(out, F['subflowseqno'], String(o.subflowSeq));
      if (o.dataLevelLength !== undefined) put(out, F['datalvllen'], String(o.dataLevelLength));
      // RFC 8684 §3.3: the checksum follows the length when negotiated (tshark 4.0 omits it).
      if (o.checksum !== undefined && o.length === dssLength(o.flags) + 2) put(out, F['checksum'], hex(o.checksum, 4));
      return;
    }
    case 'ADD_ADDR':
      if (connVersion === 0) put(out, F['ipver'], String(o.byte2 & 0x0f));
      else put(out, F['echo'], bit(o.byte2, 0x01));
      if (o.addressId !== undefined) put(out, F['addrid'], String(o.addressId));
      if (o.address !== undefined) put(out, o.family === 6 ? F['ipv6'] : F['ipv4'], o.address);
      if (o.port !== undefined) put(out, F['port'], String(o.port));
      if (o.hmac !== undefined) put(out, F['addaddrtrunchmac'], o.hmac.toString());
      return;
    case 'REMOVE_ADDR':
      for (const id of o.addressIds) put(out, F['addrid'], String(id));
      return;
    case 'MP_PRIO':
      put(out, F['flags'], hex(o.byte2, 2));
      put(out, F['backup.flag'], o.backup ? '1' : '0');
      if (o.addressId !== undefined) put(out, F['addrid'], String(o.addressId));
      return;
    case 'MP_FAIL':
      if (o.dsn !== undefined) put(out, F['rawdataseqno'], o.dsn.toString());
      return;
    case 'MP_FASTCLOSE':
      if (o.receiverKey !== undefined) put(out, F['recvkey'], o.receiverKey.toString());
      return;
    case 'MP_TCPRST':
      put(out, F['flags'], hex(o.byte2, 2));
      put(out, F['flag_U.flag'], bit(o.flags, 8));
      put(out, F['flag_V.flag'], bit(o.flags, 4));
      put(out, F['flag_W.flag'], bit(o.flags, 2));
      put(out, F['flag_T.flag'], bit(o.flags, 1));
      if (o.reason !== undefined) put(out, F['rst_reason'], hex(o.reason, 2));
      return;
    default:
      return;
  }
}

/** Builds one output line for the frame. */
export function fieldsLine(fields: readonly string[], f: DecodedFrame, facts: PacketFacts): string {
  let wanted = columnsOf.get(fields);
  if (!wanted) {
    wanted = new Map();
    // a field asked for twice shows in both columns
    for (const name of fields) if (!wanted.has(name)) wanted.set(name, wanted.size);
    columnsOf.set(fields, wanted);
  }
  const out: Out = { wanted, values: new Array(wanted.size).fill(undefined) };
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
  return fields.map((name) => out.values[wanted.get(name)!]?.join(',') ?? '').join('\t');
}

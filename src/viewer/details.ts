/** One packet's field tree: link, IP, TCP and each MPTCP option, with derived values and findings. */
import type { Finding } from '../check/types.ts';
import { addAddrHmac, deriveFromKey, joinHmacAck, joinHmacSynAck } from '../mptcp/crypto.ts';
import { rfcRef, type Topic } from '../rfc.ts';
import { mptcpFieldLayout, SUBTYPE_NAMES, type MptcpOption } from '../wire/mptcp.ts';
import { LINKTYPE_NAMES, type DecodedFrame } from '../wire/packet.ts';
import { tcpFlagsText } from '../format/decode.ts';
import type { ConnectionInfo, DetailNode } from './protocol.ts';

const TCP_OPTION_NAMES: Record<number, string> = { 0: 'End of options', 1: 'NOP', 2: 'MSS', 3: 'Window scale', 4: 'SACK permitted', 5: 'SACK', 8: 'Timestamps', 30: 'Multipath TCP', 34: 'TCP Fast Open' };

const RULE_TOPIC_OPTION: Record<string, string> = {
  'capable-key-mismatch': 'MP_CAPABLE', 'capable-key-changed': 'MP_CAPABLE', 'capable-version-mismatch': 'MP_CAPABLE', 'capable-algorithm': 'MP_CAPABLE',
  'join-hmac-synack': 'MP_JOIN', 'join-hmac-ack': 'MP_JOIN', 'join-unknown-token': 'MP_JOIN', 'join-incomplete': 'MP_JOIN', 'address-id-conflict': 'MP_JOIN', 'c-flag-violated': 'MP_JOIN',
  'dss-checksum': 'DSS', 'checksum-missing': 'DSS', 'mapping-conflict': 'DSS', 'data-ack-regression': 'DSS', 'data-ack-unsent': 'DSS', 'data-after-data-fin': 'DSS', 'infinite-mapping': 'DSS',
  'add-addr-hmac': 'ADD_ADDR', 'add-addr-hmac-legacy': 'ADD_ADDR', 'add-addr-not-echoed': 'ADD_ADDR', 'add-addr-echo-unmatched': 'ADD_ADDR',
  'remove-addr-unknown': 'REMOVE_ADDR', 'fastclose-key': 'MP_FASTCLOSE', 'mp-fail': 'MP_FAIL', 'tcprst': 'MP_TCPRST', 'join-rejected': 'MP_TCPRST',
};

const big = (s: string | null | undefined) => (s ? BigInt(s) : undefined);
const h64 = (v: bigint) => `0x${BigInt.asUintN(64, v).toString(16).padStart(16, '0')}`;

export interface DetailsInput {
  frame: DecodedFrame;
  options: MptcpOption[];
  conn: ConnectionInfo | undefined;
  /** which side sent this packet (0 client, 1 server, -1 unknown) */
  side: number;
  subflow: number;
  relDsn?: string;
  relAck?: string;
  findings: Finding[];
}

export function buildDetails(d: DetailsInput): DetailNode[] {
  const f = d.frame;
  const version = d.conn?.version ?? undefined;
  const nodes: DetailNode[] = [];
  const frameNode: DetailNode = {
    label: `Frame ${f.frame}`, value: `${f.caplen} bytes captured, ${f.origlen} on the wire${f.truncated ? ' (cut by the snaplen)' : ''}`, offset: 0, length: f.caplen,
    children: [
      { label: 'Arrival time', value: `${new Date(f.tsSec * 1000).toISOString().slice(0, 19)}.${String(f.tsNsec).padStart(9, '0')}Z` },
      { label: 'Epoch time', value: `${f.tsSec}.${String(f.tsNsec).padStart(9, '0')}` },
      { label: 'Link type', value: `${LINKTYPE_NAMES[f.linkType] ?? 'unknown'} (${f.linkType})`, offset: 0, length: f.ipOffset },
    ],
  };
  nodes.push(frameNode);
  if (f.ipVersion) {
    nodes.push({
      label: `Internet Protocol version ${f.ipVersion}`, value: `${f.src} → ${f.dst}`, offset: f.ipOffset, length: (f.tcp?.offset ?? f.caplen) - f.ipOffset,
      children: [
        { label: 'Source address', value: f.src, offset: f.ipOffset + (f.ipVersion === 4 ? 12 : 8), length: f.ipVersion === 4 ? 4 : 16 },
        { label: 'Destination address', value: f.dst, offset: f.ipOffset + (f.ipVersion === 4 ? 16 : 24), length: f.ipVersion === 4 ? 4 : 16 },
      ],
    });
  }
  const t = f.tcp;
  const optionNodes: Array<{ o: MptcpOption; node: DetailNode }> = [];
  if (t) {
    const tcp: DetailNode = {
      label: 'Transmission Control Protocol', value: `${t.srcPort} → ${t.dstPort} [${tcpFlagsText(t.flags)}] len ${t.payloadLength}`, offset: t.offset, length: t.headerLength,
      children: [
        { label: 'Source port', value: String(t.srcPort), offset: t.offset, length: 2 },
        { label: 'Destination port', value: String(t.dstPort), offset: t.offset + 2, length: 2 },
        { label: 'Sequence number (raw)', value: String(t.seq), offset: t.offset + 4, length: 4 },
        { label: 'Acknowledgment number (raw)', value: String(t.ack), offset: t.offset + 8, length: 4 },
        { label: 'Header length', value: `${t.headerLength} bytes`, offset: t.offset + 12, length: 1 },
        { label: 'Flags', value: `0x${t.flags.toString(16).padStart(3, '0')} (${tcpFlagsText(t.flags)})`, offset: t.offset + 12, length: 2 },
        { label: 'Window', value: String(t.window), offset: t.offset + 14, length: 2 },
        { label: 'TCP stream (subflow)', value: String(d.subflow), derived: true },
      ],
    };
    const optsNode: DetailNode = { label: 'Options', value: `${t.headerLength - 20} bytes`, offset: t.offset + 20, length: t.headerLength - 20, children: [] };
    let mi = 0;
    for (const ref of t.options) {
      if (ref.kind === 30 && ref.length >= 2) {
        const o = d.options[mi++];
        if (!o) continue;
        const node = mptcpNode(o, d, version);
        optionNodes.push({ o, node });
        optsNode.children!.push(node);
      } else {
        optsNode.children!.push({ label: TCP_OPTION_NAMES[ref.kind] ?? `Kind ${ref.kind}`, value: ref.length > 1 ? `${ref.length} bytes` : undefined, offset: ref.offset, length: Math.max(1, ref.avail) });
      }
    }
    tcp.children!.push(optsNode);
    nodes.push(tcp);
    if (t.payloadLength > 0) {
      const data: DetailNode = { label: 'Payload', value: `${t.payloadLength} bytes${t.payloadCaptured < t.payloadLength ? ` (${t.payloadCaptured} captured)` : ''}`, offset: t.payloadOffset, length: t.payloadCaptured, children: [] };
      if (d.relDsn) data.children!.push({ label: 'Data sequence number (relative)', value: d.relDsn, derived: true, rfc: rfcRef('mapping', version), help: 'The DSN of the first payload byte, from the mapping that covers it, relative to the sender\'s IDSN.' });
      nodes.push(data);
    }
  }
  // findings: on the option they concern, else on the frame
  for (const fd of d.findings) {
    const want = RULE_TOPIC_OPTION[fd.rule];
    const target = optionNodes.find((x) => x.o.kind === want)?.node ?? frameNode;
    (target.children ??= []).unshift({ label: `${fd.severity}: ${fd.rule}`, value: fd.message, rfc: fd.rfc, finding: { severity: fd.severity, rule: fd.rule, message: fd.message, rfc: fd.rfc } });
    if (!target.finding) target.finding = { severity: fd.severity, rule: fd.rule, message: fd.message, rfc: fd.rfc };
  }
  return nodes;
}

function mptcpNode(o: MptcpOption, d: DetailsInput, version: number | undefined): DetailNode {
  const topicOf: Record<string, Topic> = { MP_CAPABLE: 'capable', MP_JOIN: 'join', DSS: 'dss', ADD_ADDR: 'addAddr', REMOVE_ADDR: 'removeAddr', MP_PRIO: 'prio', MP_FAIL: 'fallback', MP_FASTCLOSE: 'fastclose', MP_TCPRST: 'tcprst' };
  const topic = topicOf[o.kind] ?? 'option';
  const v = o.kind === 'MP_CAPABLE' ? o.version : version;
  const node: DetailNode = {
    label: `MPTCP ${SUBTYPE_NAMES[o.subtype] ?? `subtype ${o.subtype}`}`, value: o.lengthProblem ? `length ${o.length}: ${o.lengthProblem}` : `${o.length} bytes`,
    offset: o.offset, length: o.length, rfc: rfcRef(topic, v), children: [],
  };
  const conn = d.conn;
  const keys = [big(conn?.client.key), big(conn?.server.key)];
  for (const fl of mptcpFieldLayout(o)) {
    const child: DetailNode = { label: fl.name, value: fl.value, offset: fl.offset, length: fl.length, help: fl.help, rfc: rfcRef(fl.topic, v) };
    node.children!.push(child);
    // derived values
    if (o.kind === 'MP_CAPABLE' && fl.name === "Sender's key" && o.senderKey !== undefined) {
      const k = deriveFromKey(o.senderKey, o.version);
      child.children = [
        { label: 'Token (derived)', value: `0x${k.token.toString(16).padStart(8, '0')}`, derived: true, help: 'Most significant 32 bits of the key\'s hash: names the connection in MP_JOIN.' },
        { label: 'IDSN (derived)', value: h64(k.idsn), derived: true, help: 'Least significant 64 bits of the key\'s hash: the initial data sequence number.' },
      ];
    }
    if (o.kind === 'MP_CAPABLE' && fl.name === "Receiver's key" && o.receiverKey !== undefined && d.side >= 0) {
      const expected = keys[1 - d.side];
      if (expected !== undefined) {
        child.check = expected === o.receiverKey ? 'ok' : 'bad';
        child.children = [{ label: 'Key the peer sent', value: h64(expected), derived: true }];
      }
    }
    if (o.kind === 'MP_JOIN' && (fl.name === "Sender's truncated HMAC" || fl.name === "Sender's HMAC") && conn) {
      const sf = conn.subflows.find((s) => s.tcpStream === d.subflow);
      const j = sf?.join;
      const ka = j?.initiatorSide != null ? keys[j.initiatorSide] : undefined;
      const kb = j?.initiatorSide != null ? keys[1 - j.initiatorSide] : undefined;
      if (j && ka !== undefined && kb !== undefined && j.nonceA != null && j.nonceB != null && conn.version !== null) {
        if (o.truncatedHmac !== undefined) {
          const e = joinHmacSynAck(conn.version, ka, kb, j.nonceA, j.nonceB);
          child.check = e === o.truncatedHmac ? 'ok' : 'bad';
          child.children = [{ label: 'Expected HMAC', value: h64(e), derived: true, help: 'HMAC(Key-B‖Key-A, R-B‖R-A), leftmost 64 bits.' }];
        } else if (o.hmac) {
          const e = joinHmacAck(conn.version, ka, kb, j.nonceA, j.nonceB);
          child.check = e.equals(o.hmac) ? 'ok' : 'bad';
          child.children = [{ label: 'Expected HMAC', value: e.toString('hex'), derived: true, help: 'HMAC(Key-A‖Key-B, R-A‖R-B), leftmost 160 bits.' }];
        }
      }
    }
    if (o.kind === 'ADD_ADDR' && fl.name === 'Truncated HMAC' && o.hmac !== undefined && o.addressBytes && o.addressId !== undefined && d.side >= 0) {
      const s = keys[d.side];
      const r = keys[1 - d.side];
      if (s !== undefined && r !== undefined) {
        const h = addAddrHmac(s, r, o.addressId, o.addressBytes, o.port);
        child.check = h.rightmost === o.hmac ? 'ok' : 'bad';
        child.children = [{ label: 'Expected HMAC (rightmost 64 bits)', value: h64(h.rightmost), derived: true }, { label: 'Early-Linux form (leftmost 64 bits)', value: h64(h.leftmost), derived: true }];
      }
    }
    if (o.kind === 'DSS' && fl.name === 'Data ACK' && d.relAck) child.children = [{ label: 'Relative Data ACK', value: d.relAck, derived: true }];
  }
  return node;
}

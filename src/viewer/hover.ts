/**
 * Hover text for the decoded trace: what the option or field under the cursor means, its value,
 * derived values, the findings on that line, and the RFC section.
 */
import { deriveFromKey } from '../mptcp/crypto.ts';
import { formatRef, rfcRef, type RfcRef, type Topic } from '../rfc.ts';

export interface TraceHover {
  /** start and end character of the token in the line */
  start: number;
  end: number;
  title: string;
  lines: string[];
  rfc: RfcRef;
  findings: string[];
}

const OPTIONS: Record<string, { topic: Topic; text: string }> = {
  MP_CAPABLE: { topic: 'capable', text: 'Multipath Capable: starts an MPTCP connection and exchanges the 64-bit keys from which tokens, IDSNs and HMAC keys derive.' },
  MP_JOIN: { topic: 'join', text: 'Join Connection: adds a subflow to an existing connection, named by the receiver\'s token and authenticated by HMACs over the nonces.' },
  DSS: { topic: 'dss', text: 'Data Sequence Signal: Data ACK and the mapping of subflow bytes to data sequence numbers (and DATA_FIN).' },
  ADD_ADDR: { topic: 'addAddr', text: 'Add Address: announces an address (and port) of the sender, authenticated by an HMAC in v1; the peer echoes it.' },
  REMOVE_ADDR: { topic: 'removeAddr', text: 'Remove Address: withdraws address IDs; subflows using them are closed.' },
  MP_PRIO: { topic: 'prio', text: 'Change Subflow Priority: marks the subflow as backup (used only when others fail) or regular.' },
  MP_FAIL: { topic: 'fallback', text: 'Fallback: a checksum failed at this data sequence number; the sender falls back or closes the subflow.' },
  MP_FASTCLOSE: { topic: 'fastclose', text: 'Fast Close: aborts the whole connection; carries the receiver\'s key as proof.' },
  MP_TCPRST: { topic: 'tcprst', text: 'Subflow Reset: why this subflow was reset.' },
  DATA_FIN: { topic: 'dataFin', text: 'DATA_FIN: the sender has no more data; it occupies the last octet of the mapping.' },
};

const FIELDS: Record<string, { topic: Topic; text: string }> = {
  key: { topic: 'capable', text: "The sender's 64-bit key." },
  'peer-key': { topic: 'capable', text: "The peer's key, echoed back in the third ACK: it must equal the key the peer sent." },
  token: { topic: 'capable', text: 'Token: most significant 32 bits of the key\'s hash; an MP_JOIN SYN names the connection by the receiver\'s token.' },
  idsn: { topic: 'capable', text: 'Initial data sequence number: least significant 64 bits of the key\'s hash.' },
  flags: { topic: 'capable', text: 'MP_CAPABLE flags: A checksum required, B extensibility, C no new subflows to this address (v1), H HMAC-SHA256 (v1) / HMAC-SHA1 (v0).' },
  nonce: { topic: 'join', text: 'The sender\'s random number, an input of the join HMACs.' },
  hmac: { topic: 'join', text: 'An HMAC: MP_JOIN SYN/ACK (64 bits) and third ACK (160 bits), or ADD_ADDR (64 bits).' },
  id: { topic: 'addAddr', text: 'Address ID: names an address of the sender within the connection.' },
  ids: { topic: 'removeAddr', text: 'The address IDs withdrawn.' },
  ack: { topic: 'dataAck', text: 'Data ACK: the next data sequence number expected, relative to the peer\'s IDSN when known (/32: only 32 bits on the wire).' },
  dsn: { topic: 'mapping', text: 'Data sequence number where the mapping starts, relative to the sender\'s IDSN when known.' },
  ssn: { topic: 'mapping', text: 'Subflow sequence number where the mapping starts, relative to the subflow\'s initial sequence number.' },
  len: { topic: 'mapping', text: 'Data-level length: how many bytes the mapping covers (0 is an infinite mapping).' },
  csum: { topic: 'mapping', text: 'DSS checksum over the pseudo-header and the mapped data.' },
  reason: { topic: 'tcprst', text: 'MP_TCPRST reason code.' },
};

/** The hover for `character` in `line`, or undefined when nothing there has a meaning to show. */
export function traceHover(line: string, character: number, version: number | undefined): TraceHover | undefined {
  const marker = line.indexOf('  ‼ ');
  const findings = marker >= 0 ? line.slice(marker + 4).split('  ‼ ') : [];
  const re = /(MP_[A-Z_]+|DSS|ADD_ADDR|REMOVE_ADDR|DATA_FIN)|([a-z-]+)=([^\s]+)|‼ (error|warning|info) ([a-z-]+)/g;
  let m: RegExpExecArray | null;
  const v = /MP_CAPABLE v0/.test(line) ? 0 : version;
  while ((m = re.exec(line))) {
    const start = m.index;
    const end = start + m[0].length;
    if (character < start || character > end) continue;
    if (m[1] && OPTIONS[m[1]]) {
      const o = OPTIONS[m[1]];
      const rfc = rfcRef(o.topic, v);
      return { start, end, title: m[1], lines: [o.text], rfc, findings };
    }
    if (m[2] && FIELDS[m[2]]) {
      const f = FIELDS[m[2]];
      const lines = [f.text, `Value: \`${m[3]}\``];
      if ((m[2] === 'key' || m[2] === 'peer-key') && /^0x[0-9a-f]{16}$/.test(m[3])) {
        const d = deriveFromKey(BigInt(m[3]), v ?? 1);
        lines.push(`Token: \`0x${d.token.toString(16).padStart(8, '0')}\`, IDSN: \`0x${d.idsn.toString(16).padStart(16, '0')}\` (${v === 0 ? 'SHA-1' : 'SHA-256'})`);
      }
      return { start, end, title: m[2], lines, rfc: rfcRef(f.topic, v), findings };
    }
    if (m[4]) {
      const sectionMatch = /\[(RFC \d+) §([\d.]+)\]/.exec(line.slice(start));
      const rfc: RfcRef = sectionMatch
        ? { doc: sectionMatch[1] as RfcRef['doc'], section: sectionMatch[2], url: `https://www.rfc-editor.org/rfc/${sectionMatch[1].replace(' ', '').toLowerCase()}#section-${sectionMatch[2]}` }
        : rfcRef('option', v);
      return { start, end, title: `${m[4]} ${m[5]}`, lines: [`Finding \`${m[5]}\` (${m[4]}).`], rfc, findings };
    }
  }
  return undefined;
}

export function hoverMarkdown(h: TraceHover): string {
  const parts = [`**${h.title}**`, '', ...h.lines.map((l) => `${l}  `)];
  if (h.findings.length) parts.push('', ...h.findings.map((f) => `$(warning) ${f}  `));
  parts.push('', `[${formatRef(h.rfc)}](${h.rfc.url})`);
  return parts.join('\n');
}

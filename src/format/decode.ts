/**
 * `mptcp-lens decode`: one line per packet in words (and the same as JSON), the text the
 * extension's decoded-trace view shows. Line N of the text is frame N.
 */
import { deriveFromKey } from '../mptcp/crypto.ts';
import type { PacketFacts } from '../mptcp/model.ts';
import { CAPABLE_A, CAPABLE_B, CAPABLE_C, CAPABLE_H, SUBTYPE_NAMES, TCPRST_REASONS, type MptcpOption } from '../wire/mptcp.ts';
import { TH_ACK, TH_CWR, TH_ECE, TH_FIN, TH_PUSH, TH_RST, TH_SYN, TH_URG, type DecodedFrame } from '../wire/packet.ts';

const h64 = (v: bigint) => `0x${BigInt.asUintN(64, v).toString(16).padStart(16, '0')}`;
const h32 = (v: number) => `0x${(v >>> 0).toString(16).padStart(8, '0')}`;
const h16 = (v: number) => `0x${v.toString(16).padStart(4, '0')}`;

export function tcpFlagsText(flags: number): string {
  let s = '';
  if (flags & TH_SYN) s += 'S';
  if (flags & TH_FIN) s += 'F';
  if (flags & TH_RST) s += 'R';
  if (flags & TH_PUSH) s += 'P';
  if (flags & TH_URG) s += 'U';
  if (flags & TH_ECE) s += 'E';
  if (flags & TH_CWR) s += 'W';
  if (flags & TH_ACK) s += '.';
  return s || 'none';
}

export function endpoint(addr: string, port: number): string {
  return addr.includes(':') ? `[${addr}]:${port}` : `${addr}:${port}`;
}

function capableFlags(o: { flags: number; version: number }): string {
  const names = [o.flags & CAPABLE_A ? 'A' : '', o.flags & CAPABLE_B ? 'B' : '', o.version >= 1 && o.flags & CAPABLE_C ? 'C' : '', o.flags & CAPABLE_H ? 'H' : ''].filter(Boolean).join('');
  return `flags=0x${o.flags.toString(16).padStart(2, '0')}${names ? `[${names}]` : ''}`;
}

/** Relative value of a 64-bit DSN or Data ACK against a base, when the base is known. */
function rel(v: bigint, base: bigint | undefined): string {
  return base === undefined ? String(v) : String(BigInt.asUintN(64, v - base));
}

/** What an option's words depend on beyond its bytes. */
export interface OptionWordsContext {
  syn: boolean;
  ack: boolean;
  /** the Data ACK relative to the peer's IDSN, when known */
  relDataAck?: string;
  /** the mapping's DSN relative to the sender's IDSN, when known */
  relMappingDsn?: string;
}

/** The option in words, e.g. `MP_CAPABLE v1 SYN/ACK key=0x… token=0x…`. */
export function optionWords(o: MptcpOption, ctx: OptionWordsContext): string {
  const { syn, ack } = ctx;
  const bad = o.lengthProblem ? ` !length=${o.length}` : '';
  const cut = o.truncated ? ' !truncated' : '';
  switch (o.kind) {
    case 'MP_CAPABLE': {
      const stage = syn ? (ack ? 'SYN/ACK' : 'SYN') : o.length >= 22 ? 'ACK+data' : 'ACK';
      const parts = [`MP_CAPABLE v${o.version} ${stage}`, capableFlags(o)];
      if (o.senderKey !== undefined) {
        const d = deriveFromKey(o.senderKey, o.version);
        parts.push(`key=${h64(o.senderKey)}`, `token=${h32(d.token)}`, `idsn=${h64(d.idsn)}`);
      }
      if (o.receiverKey !== undefined) parts.push(`peer-key=${h64(o.receiverKey)}`);
      if (o.dataLevelLength !== undefined) parts.push(`len=${o.dataLevelLength}`);
      if (o.checksum !== undefined) parts.push(`csum=${h16(o.checksum)}`);
      return parts.join(' ') + bad + cut;
    }
    case 'MP_JOIN': {
      const parts = [`MP_JOIN ${o.form === 'syn' ? 'SYN' : o.form === 'synack' ? 'SYN/ACK' : o.form === 'ack' ? 'ACK' : '?'}`];
      if (o.token !== undefined) parts.push(`token=${h32(o.token)}`);
      if (o.addressId !== undefined) parts.push(`id=${o.addressId}`);
      if (o.nonce !== undefined) parts.push(`nonce=${h32(o.nonce)}`);
      if (o.truncatedHmac !== undefined) parts.push(`hmac=${h64(o.truncatedHmac)}`);
      if (o.hmac) parts.push(`hmac=${o.hmac.toString('hex')}`);
      if (o.backup) parts.push('backup');
      return parts.join(' ') + bad + cut;
    }
    case 'DSS': {
      const parts = ['DSS'];
      if (o.dataAck !== undefined) parts.push(ctx.relDataAck !== undefined ? `ack=${ctx.relDataAck}` : `ack=${o.dataAck}${o.dataAck8 ? '' : '/32'}`);
      if (o.dsn !== undefined) {
        parts.push(ctx.relMappingDsn !== undefined ? `dsn=${ctx.relMappingDsn}` : `dsn=${o.dsn}${o.dsn8 ? '' : '/32'}`);
        if (o.subflowSeq !== undefined) parts.push(`ssn=${o.subflowSeq}`);
        if (o.dataLevelLength !== undefined) parts.push(`len=${o.dataLevelLength}`);
        if (o.checksum !== undefined) parts.push(`csum=${h16(o.checksum)}`);
      }
      if (o.dataFin) parts.push('DATA_FIN');
      return parts.join(' ') + bad + cut;
    }
    case 'ADD_ADDR': {
      const parts = [o.layout === 1 && o.echo ? 'ADD_ADDR echo' : 'ADD_ADDR'];
      if (o.addressId !== undefined) parts.push(`id=${o.addressId}`);
      if (o.address !== undefined) parts.push(o.port !== undefined ? endpoint(o.address, o.port) : o.address);
      if (o.hmac !== undefined) parts.push(`hmac=${h64(o.hmac)}`);
      return parts.join(' ') + bad + cut;
    }
    case 'REMOVE_ADDR':
      return `REMOVE_ADDR ids=${o.addressIds.join(',')}` + bad + cut;
    case 'MP_PRIO':
      return `MP_PRIO ${o.backup ? 'backup' : 'regular'}${o.addressId !== undefined ? ` id=${o.addressId}` : ''}` + bad + cut;
    case 'MP_FAIL':
      return `MP_FAIL dsn=${o.dsn ?? '?'}` + bad + cut;
    case 'MP_FASTCLOSE':
      return `MP_FASTCLOSE key=${o.receiverKey !== undefined ? h64(o.receiverKey) : '?'}` + bad + cut;
    case 'MP_TCPRST':
      return `MP_TCPRST reason=${o.reason ?? '?'}${o.reason !== undefined ? ` (${TCPRST_REASONS[o.reason] ?? 'unassigned'})` : ''}${o.flags & 1 ? ' transient' : ''}` + bad + cut;
    default:
      return `${SUBTYPE_NAMES[o.subtype] ?? `MPTCP subtype ${o.subtype}`}${bad}${cut}`;
  }
}

/** The relative Data ACK and mapping DSN of a packet, as text, when the IDSNs are known. */
export function relativeValues(facts: PacketFacts): { relDataAck?: string; relMappingDsn?: string; relDsn?: string } {
  const c = facts.conn;
  const side = facts.side;
  if (!c || side === undefined) return {};
  const own = c.idsns[side];
  const peer = c.idsns[(1 - side) as 0 | 1];
  return {
    relDataAck: facts.dataAck !== undefined && peer !== undefined ? rel(facts.dataAck, peer) : undefined,
    relMappingDsn: facts.mappingDsn !== undefined && own !== undefined ? rel(facts.mappingDsn, own) : undefined,
    relDsn: facts.dsn !== undefined && own !== undefined ? rel(facts.dsn, own) : undefined,
  };
}

/** Findings appended to a packet's decoded line: `  ‼ error rule: message [RFC 8684 §3.1]` (the trace's hover reads this form). */
export function findingsSuffix(findings: ReadonlyArray<{ severity: string; rule: string; message: string; rfc: { doc: string; section: string } }> | undefined): string {
  return findings ? findings.map((x) => `  ‼ ${x.severity} ${x.rule}: ${x.message} [${x.rfc.doc} §${x.rfc.section}]`).join('') : '';
}

export interface DecodeTimeBase { first?: number }

/** `   12  0.000123  10.0.2.1:43413 → 10.0.2.2:5201  [S]  len=0  mptcp 0 sf 1  MP_JOIN SYN …` */
export function decodeLine(f: DecodedFrame, facts: PacketFacts, tb: DecodeTimeBase): string {
  const time = f.tsSec + f.tsNsec / 1e9;
  tb.first ??= time;
  const head = `${String(f.frame).padStart(6)}  ${(time - tb.first).toFixed(6).padStart(11)}`;
  const t = f.tcp;
  if (!t) {
    const what = f.nonFirstFragment ? 'IP fragment (not the first)' : f.ipVersion ? `IPv${f.ipVersion} ${f.src} → ${f.dst}, not TCP` : 'not IP';
    return `${head}  ${what}${f.problems.length ? `  !${f.problems[0]}` : ''}`;
  }
  const parts = [head, `${endpoint(f.src, t.srcPort)} → ${endpoint(f.dst, t.dstPort)}`, `[${tcpFlagsText(t.flags)}]`, `len=${t.payloadLength}`];
  const s = facts.stream;
  if (s) parts.push(facts.conn ? `mptcp ${facts.conn.id} sf ${s.id}` : `tcp ${s.id}`);
  // relative values once per packet, for every option and the data position
  const rv = relativeValues(facts);
  const ctx = { syn: (t.flags & TH_SYN) !== 0, ack: (t.flags & TH_ACK) !== 0, ...rv };
  for (const o of facts.options) parts.push(optionWords(o, ctx));
  if (facts.dsn !== undefined && facts.conn && facts.side !== undefined && t.payloadLength > 0 && !facts.options.some((o) => o.kind === 'DSS' && o.dsn !== undefined)) {
    parts.push(`data@${rv.relDsn ?? facts.dsn}`);
  }
  if (facts.reinjectionOf !== undefined) parts.push(`reinjection of frame ${facts.reinjectionOf}`);
  if (f.truncated && t.payloadCaptured < t.payloadLength) parts.push('(cut by snaplen)');
  for (const p of f.problems) parts.push(`!${p}`);
  return parts.join('  ');
}

/** The same packet as a JSON-ready object (bigints as decimal strings, keys as hex). */
export function decodeJson(f: DecodedFrame, facts: PacketFacts): Record<string, unknown> {
  const t = f.tcp;
  const conn = facts.conn;
  const o: Record<string, unknown> = {
    frame: f.frame,
    time: `${f.tsSec}.${String(f.tsNsec).padStart(9, '0')}`,
    caplen: f.caplen,
    len: f.origlen,
  };
  if (f.ipVersion) { o.ip = f.ipVersion; o.src = f.src; o.dst = f.dst; }
  if (t) {
    Object.assign(o, { srcPort: t.srcPort, dstPort: t.dstPort, seq: t.seq, ack: t.ack, flags: tcpFlagsText(t.flags), payload: t.payloadLength });
    if (facts.stream) o.tcpStream = facts.stream.id;
    if (conn) { o.connection = conn.id; if (facts.side !== undefined) o.sender = facts.side === 0 ? 'client' : 'server'; }
    o.options = facts.options.map((x) => optionJson(x));
    if (facts.dsn !== undefined) o.dsn = facts.dsn.toString();
    if (facts.dataAck !== undefined) o.dataAck = facts.dataAck.toString();
    if (facts.reinjectionOf !== undefined) o.reinjectionOf = facts.reinjectionOf;
  }
  if (f.truncated) o.truncated = true;
  if (f.problems.length) o.problems = f.problems;
  return o;
}

export function optionJson(x: MptcpOption): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(x)) {
    if (v === undefined || k === 'byte2' || k === 'byte3') continue;
    if (typeof v === 'bigint') out[k] = h64(v);
    else if (Buffer.isBuffer(v)) out[k] = v.toString('hex');
    else out[k] = v;
  }
  return out;
}

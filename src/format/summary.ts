/**
 * `mptcp-lens summary`: per connection, version, keys, tokens, IDSNs, subflows, address
 * signalling and how it ended; as text and as JSON.
 */
import type { Analysis } from '../analyze.ts';
import type { MptcpConnection, TcpStream } from '../mptcp/model.ts';
import { endpoint } from './decode.ts';
import { LazyArray } from './jsonStream.ts';

const ms = (seconds: number) => Math.round(seconds * 1e6) / 1000;

/** Data-level bytes one side delivered: what the peer acknowledged past the IDSN (less a DATA_FIN). */
function delivered(c: MptcpConnection, side: 0 | 1): number | null {
  const idsn = c.idsns[side];
  const acked = c.stats.maxDataAck[(1 - side) as 0 | 1];
  if (idsn === undefined || acked === undefined) return null;
  let n = Number(BigInt.asUintN(64, acked - idsn - 1n));
  if (c.dataFin[side] && acked > c.dataFin[side]!.dsn) n -= 1;
  return n < 0 || n > 2 ** 50 ? null : n;
}

function stats(c: MptcpConnection) {
  const duration = c.lastTime - c.firstTime;
  const packets = c.subflows.reduce((n, s) => n + s.packets[0] + s.packets[1], 0);
  const bytes = c.subflows.reduce((n, s) => n + s.bytes[0] + s.bytes[1], 0);
  const dir = (side: 0 | 1) => {
    const d = delivered(c, side);
    return { deliveredBytes: d, goodputBytesPerSecond: d !== null && duration > 0 ? Math.round(d / duration) : null, outOfOrderSegments: c.stats.outOfOrder[side], duplicateDataAcks: c.stats.duplicateDataAcks[side] };
  };
  return { packets, bytes, duration, reinjectedBytes: c.reinjectedBytes, clientToServer: dir(0), serverToClient: dir(1) };
}

const h64 = (v: bigint | undefined) => (v === undefined ? null : `0x${BigInt.asUintN(64, v).toString(16).padStart(16, '0')}`);
const h32 = (v: number | undefined) => (v === undefined ? null : `0x${(v >>> 0).toString(16).padStart(8, '0')}`);

function ending(c: MptcpConnection): string {
  if (c.fastcloseFrame !== undefined) return `fast close (MP_FASTCLOSE, frame ${c.fastcloseFrame})`;
  if (c.fallback) return `fell back to TCP at frame ${c.fallback.frame}: ${c.fallback.how}`;
  const fins = c.dataFin.filter(Boolean).length;
  if (fins === 2) return `closed: DATA_FIN from both sides (frames ${c.dataFin[0]!.frame}, ${c.dataFin[1]!.frame})`;
  if (fins === 1) return `half closed: DATA_FIN from the ${c.dataFin[0] ? 'client' : 'server'} only`;
  if (c.subflows.length && c.subflows.every((s) => s.rstFrame !== undefined)) return 'every subflow reset';
  return 'still open at the end of the capture';
}

function subflowJson(s: TcpStream, c: MptcpConnection) {
  const sideA = s.sideOfA;
  const client = sideA === 1 ? s.b : s.a;
  const server = sideA === 1 ? s.a : s.b;
  const j = s.join;
  return {
    tcpStream: s.id,
    kind: s === c.initial ? 'initial' : s.role === 'join' ? 'join' : 'unknown',
    client: endpoint(client.addr, client.port),
    server: endpoint(server.addr, server.port),
    addressIds: j ? { initiator: j.addressIdA ?? null, responder: j.addressIdB ?? null } : s === c.initial ? { initiator: 0, responder: 0 } : null,
    joinToken: j?.token !== undefined ? h32(j.token) : null,
    backup: s.backup,
    firstFrame: s.firstFrame,
    lastFrame: s.lastFrame,
    firstTime: s.firstTime,
    lastTime: s.lastTime,
    packets: s.packets[0] + s.packets[1],
    bytes: s.bytes[0] + s.bytes[1],
    duration: s.lastTime - s.firstTime,
    goodputBytesPerSecond: s.lastTime > s.firstTime ? Math.round((s.bytes[0] + s.bytes[1] - (s.reinjectedBytes ?? 0)) / (s.lastTime - s.firstTime)) : null,
    reinjectedBytes: s.reinjectedBytes ?? 0,
    rtt: s.rtt && s.rtt.samples ? { samples: s.rtt.samples, minMs: ms(s.rtt.min), meanMs: ms(s.rtt.sum / s.rtt.samples), maxMs: ms(s.rtt.max) } : null,
    ended: s.rstFrame !== undefined ? `reset (frame ${s.rstFrame})` : s.finFrame[0] !== undefined && s.finFrame[1] !== undefined ? 'FIN both ways' : 'open',
  };
}

/**
 * One connection of the summary and of check's JSON report (a retired connection's, kept as text
 * when it was let go, read back).
 */
export function connectionJson(c: MptcpConnection): ReturnType<typeof makeConnectionJson> {
  return c.retired !== undefined ? JSON.parse(c.retired.batch.text(c.retired.index)) : makeConnectionJson(c);
}

function makeConnectionJson(c: MptcpConnection) {
  return {
    id: c.id,
    version: c.version ?? null,
    partial: c.partial,
    checksums: c.checksumRequired,
    client: { key: h64(c.keys[0]), token: h32(c.tokens[0]), idsn: h64(c.idsns[0]), address: c.initialAddr[0] ?? null },
    server: { key: h64(c.keys[1]), token: h32(c.tokens[1]), idsn: h64(c.idsns[1]), address: c.initialAddr[1] ?? null },
    firstFrame: c.firstFrame,
    lastFrame: c.lastFrame,
    duration: c.lastTime - c.firstTime,
    subflows: c.subflows.map((s) => subflowJson(s, c)),
    addresses: c.announcements.map((x) => ({ frame: x.frame, by: x.side === 0 ? 'client' : 'server', id: x.id, address: x.address, port: x.port ?? null, hmac: h64(x.hmac), echoFrame: x.echoFrame ?? null })),
    removed: c.events.filter((e) => e.option.kind === 'REMOVE_ADDR').map((e) => ({ frame: e.frame, by: e.side === 0 ? 'client' : 'server', ids: e.option.kind === 'REMOVE_ADDR' ? e.option.addressIds : [] })),
    priorities: c.events.filter((e) => e.option.kind === 'MP_PRIO').map((e) => ({ frame: e.frame, tcpStream: e.stream, backup: e.option.kind === 'MP_PRIO' && e.option.backup })),
    reinjectedBytes: c.reinjectedBytes,
    stats: stats(c),
    ended: ending(c),
  };
}

/**
 * The summary as JSON. `lazy`: its connections as a LazyArray, made one at a time when the summary
 * is written with writeJson (a busy capture has tens of thousands).
 */
export function summaryJson(a: Analysis): ReturnType<typeof summaryDoc> & { connections: Array<ReturnType<typeof connectionJson>> };
export function summaryJson(a: Analysis, lazy: true): ReturnType<typeof summaryDoc> & { connections: LazyArray<MptcpConnection, ReturnType<typeof connectionJson>> };
export function summaryJson(a: Analysis, lazy = false) {
  const t = a.tracker;
  const doc = summaryDoc(a);
  // the keys in the order they are written
  return {
    file: doc.file, format: doc.format, packets: doc.packets, tcpStreams: doc.tcpStreams, nonFirstFragments: doc.nonFirstFragments, problems: doc.problems,
    connections: lazy ? new LazyArray(t.connections, connectionJson) : t.connections.map(connectionJson),
    fallbacks: doc.fallbacks,
  };
}

function summaryDoc(a: Analysis) {
  const t = a.tracker;
  return {
    file: a.file,
    format: a.scan.format,
    packets: a.scan.packets,
    tcpStreams: t.streams.length,
    /** IPv4/IPv6 fragments after the first: they hold no TCP header, so they are skipped */
    nonFirstFragments: t.nonFirstFragments,
    problems: a.scan.problems,
    fallbacks: t.streams.filter((s) => s.fallbackAtSynAck !== undefined && !s.conn).map((s) => ({ tcpStream: s.id, frame: s.fallbackAtSynAck, client: endpoint(s.a.addr, s.a.port), server: endpoint(s.b.addr, s.b.port) })),
  };
}

export function summaryText(a: Analysis): string {
  return [...summaryLines(a)].join('\n');
}

/**
 * The summary's lines, a connection at a time as they are asked for: a busy capture's connections,
 * retired when memory ran short and read back from their text, may not fit again all at once, nor
 * may their text.
 */
export function* summaryLines(a: Analysis): Generator<string> {
  const j = summaryJson(a, true);
  const count = j.connections.source.length;
  yield `${j.file}: ${j.packets} packets (${j.format}), ${j.tcpStreams} TCP streams, ${count} MPTCP connection${count === 1 ? '' : 's'}`;
  for (const p of j.problems) yield `  ! ${p.message} (byte offset ${p.offset})`;
  if (j.nonFirstFragments) yield `  ${j.nonFirstFragments} IP fragment${j.nonFirstFragments > 1 ? 's' : ''} after the first skipped (no TCP header in them)`;
  for (const conn of j.connections.source) {
    const c = j.connections.make(conn);
    yield '';
    yield `MPTCP connection ${c.id}: ${c.version === null ? 'version unknown' : `v${c.version} (${c.version === 0 ? 'RFC 6824' : 'RFC 8684'})`}${c.partial ? ', partial (handshake not captured)' : ''}${c.checksums ? ', DSS checksums' : ''}`;
    yield `  client ${c.client.address ?? '?'}  key ${c.client.key ?? '?'}  token ${c.client.token ?? '?'}  IDSN ${c.client.idsn ?? '?'}`;
    yield `  server ${c.server.address ?? '?'}  key ${c.server.key ?? '?'}  token ${c.server.token ?? '?'}  IDSN ${c.server.idsn ?? '?'}`;
    yield `  frames ${c.firstFrame}-${c.lastFrame}, ${c.duration.toFixed(6)} s; ${c.ended}`;
    for (const s of c.subflows) {
      const ids = s.addressIds ? ` ids ${s.addressIds.initiator ?? '?'}/${s.addressIds.responder ?? '?'}` : '';
      const rtt = s.rtt ? `  RTT ${s.rtt.minMs}/${s.rtt.meanMs}/${s.rtt.maxMs} ms (${s.rtt.samples})` : '';
      yield `  subflow ${s.tcpStream} ${s.kind.padEnd(7)} ${s.client} → ${s.server}${ids}${s.backup ? ' backup' : ''}  ${s.packets} pkts ${s.bytes} bytes  frames ${s.firstFrame}-${s.lastFrame}  ${s.ended}${rtt}`;
    }
    const st = c.stats;
    const gp = (x: typeof st.clientToServer) => (x.goodputBytesPerSecond !== null ? `${(x.goodputBytesPerSecond * 8 / 1e6).toFixed(2)} Mbit/s (${x.deliveredBytes} bytes)` : '?');
    yield `  goodput client→server ${gp(st.clientToServer)}, server→client ${gp(st.serverToClient)}; out of order ${st.clientToServer.outOfOrderSegments}/${st.serverToClient.outOfOrderSegments}, duplicate Data ACKs ${st.clientToServer.duplicateDataAcks}/${st.serverToClient.duplicateDataAcks}`;
    for (const x of c.addresses) yield `  ADD_ADDR frame ${x.frame}: ${x.by} announces id ${x.id} ${x.address}${x.port !== null ? `:${x.port}` : ''}${x.echoFrame !== null ? `, echoed in frame ${x.echoFrame}` : ', not echoed'}`;
    for (const x of c.removed) yield `  REMOVE_ADDR frame ${x.frame}: ${x.by} removes id ${x.ids.join(',')}`;
    for (const x of c.priorities) yield `  MP_PRIO frame ${x.frame}: subflow ${x.tcpStream} ${x.backup ? 'backup' : 'regular'}`;
    if (c.reinjectedBytes) yield `  reinjected ${c.reinjectedBytes} bytes`;
  }
  for (const f of j.fallbacks) yield `\nTCP stream ${f.tcpStream} ${f.client} → ${f.server}: MP_CAPABLE offered, the SYN/ACK (frame ${f.frame}) refused it; plain TCP`;
}

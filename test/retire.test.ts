// Retirement: when memory runs short, finished connections are checked at once, their summaries kept
// as text and their state let go, so that a busy capture is tracked whole in a heap that could not
// hold all its connections. Without memory pressure nothing changes (the other tests); under it, the
// report must be the one made without it, but for the tracking-limit finding that says so.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { checkCapture, processLimits, type AnalyzeOptions } from '../src/analyze.ts';
import { connectionJson, summaryJson } from '../src/format/summary.ts';
import type { HeapBudget } from '../src/mptcp/tracker.ts';
import { PackedTexts } from '../src/format/packed.ts';
import { captureFixtures, fixture } from './fixtures.ts';
import { frameOffsets } from './helpers.ts';

/**
 * A heap budget spent from its `from`-th reading on (one each `every` new streams), never halting:
 * every reading from then on retires what is finished (and, once some was, never refuses a stream).
 */
function spent(every: number, from: number): HeapBudget {
  let readings = 0;
  return { limit: 2 ** 20, stopAt: 0, haltAt: Infinity, used: () => (++readings >= from ? 1 : 0), probeEvery: every };
}
const pressed = (every: number, from: number, quiet = { packets: 0, seconds: 0 }): AnalyzeOptions => ({ limits: { maxStreams: 200_000, heap: spent(every, from) }, retireAfter: quiet });

/**
 * A classic pcap and, after its records, the first SYN of its first stream again from another source
 * port: a new stream once every packet of the capture has been seen, where a probe of the heap
 * (the only place retirement runs) finds every closed connection finished.
 */
async function withLateSyn(file: string): Promise<Buffer | undefined> {
  const src = fs.readFileSync(file);
  const magic = src.readUInt32LE(0);
  if (![0xa1b2c3d4, 0xa1b23c4d, 0xd4c3b2a1, 0x4d3cb2a1].includes(magic)) return undefined;
  const frames = [...(await frameOffsets(src)).values()];
  const syn = frames.find(({ frame }) => frame.tcp && (frame.tcp.flags & 0x12) === 0x02);
  if (!syn) return undefined;
  const rec = Buffer.from(src.subarray(syn.offset - 16, syn.offset + syn.frame.caplen));
  rec.writeUInt16BE(1, 16 + syn.frame.tcp!.offset); // source port 1: no stream of the capture has it
  // ten seconds after the capture's last packet
  const last = Math.max(...frames.map(({ frame }) => frame.tsSec));
  if (magic === 0xa1b2c3d4 || magic === 0xa1b23c4d) rec.writeUInt32LE(last + 10, 0); else rec.writeUInt32BE(last + 10, 0);
  return Buffer.concat([src, rec]);
}

/** Every record's time moved `seconds` later (a little-endian classic pcap). */
async function later(bytes: Buffer, seconds: number): Promise<Buffer> {
  const out = Buffer.from(bytes);
  for (const { offset } of (await frameOffsets(out)).values()) out.writeUInt32LE(out.readUInt32LE(offset - 16) + seconds, offset - 16);
  return out;
}

const report = (r: Awaited<ReturnType<typeof checkCapture>>) => ({
  connections: JSON.stringify(r.tracker.connections.map(connectionJson)),
  findings: r.findings.filter((f) => f.rule !== 'tracking-limit'),
  summary: JSON.stringify(summaryJson(r)),
});

test('every fixture with a late new stream: its closed connections retired, the report the same as without retirement', async () => {
  let retired = 0;
  let withFindings = 0;
  const names: string[] = [];
  for (const file of [...captureFixtures(), path.join(__dirname, '..', 'samples', 'key-mismatch.pcap')]) {
    const bytes = await withLateSyn(file);
    if (!bytes) continue;
    const name = path.basename(file);
    const plain = await checkCapture({ bytes, name });
    // the heap read at the first stream and, spent, at the late SYN's (the last) alone
    const r = await checkCapture({ bytes, name }, {}, pressed(plain.tracker.streams.length - 1, 2));
    const n = r.tracker.retired?.connections ?? 0;
    if (n === 0) continue;
    names.push(name);
    retired += n;
    assert.equal(r.tracker.connections.filter((c) => c.retired !== undefined).length, n);
    assert.deepEqual(report(r), report(plain), `${name}: the same connections, findings and summary`);
    if (plain.findings.length) withFindings++;
    // said once, where it began
    const lim = r.findings.filter((f) => f.rule === 'tracking-limit');
    assert.equal(lim.length, 1, name);
    assert.equal(lim[0].frame, plain.scan.packets, `${name}: retired at the late SYN's new stream`);
  }
  // the captures whose connections all close: the count is what makes this test able to fail
  assert.equal(names.length, 23, `captures that retired connections: ${names.join(', ')}`);
  assert.equal(withFindings, 7, 'of them with findings');
  assert.equal(retired, 64, 'connections retired');
});

test('many-40: connections retired as the capture goes, each summary and finding as without retirement; the finding says how many', async () => {
  const file = fixture('fresh', 'many-40.pcap');
  const plain = await checkCapture({ file });
  // the heap read every 4 new streams, spent from the 9th reading (32 streams) on; a stream is
  // finished 50 packets after both FINs
  const r = await checkCapture({ file }, {}, pressed(4, 9, { packets: 50, seconds: 0 }));
  assert.deepEqual(report(r), report(plain));
  const t = r.tracker;
  assert.deepEqual({ ...t.retired }, { firstFrame: 383, connections: 34, streams: 96, packets: 0, heap: { used: 1, limit: 2 ** 20 } });
  assert.equal(t.untracked, undefined, 'no stream left out');
  assert.deepEqual(t.connections.map((c) => (c.retired === undefined ? c.id : -1)).filter((id) => id >= 0), [34, 35, 36, 37, 38, 39]);
  // a retired connection keeps its summary as text, deflated with the others of its retirement,
  // and lets go of its state
  const c = t.connections[0];
  assert.equal(c.retired!.batch.text(c.retired!.index), JSON.stringify(connectionJson(plain.tracker.connections[0])));
  const batches = new Set(t.connections.flatMap((x) => (x.retired ? [x.retired.batch as PackedTexts] : [])));
  const kept = [...batches].reduce((n, b) => n + b.size, 0);
  const text = t.connections.reduce((n, x) => n + (x.retired ? JSON.stringify(connectionJson(x)).length : 0), 0);
  // two connections a batch here (a busy capture retires a hundred at a time: a seventh)
  assert.ok(kept * 3 < text, `${kept} bytes kept for ${text} bytes of summaries in ${batches.size} batches`);
  assert.equal(c.events.length + c.announcements.length + c.keyObservations.length, 0);
  assert.ok(c.subflows.every((s) => s.retired === true && s.mappings[0].length === 0 && s.capable.length === 0));
  assert.deepEqual(r.findings.map((f) => [f.rule, f.frame, f.message]), [['tracking-limit', 383,
    "memory ran short at this frame (JavaScript heap 0 of its 1 MiB): 34 finished MPTCP connections and 96 TCP streams in all were checked early and let go; node's --max-old-space-size raises the limit"]]);
});

test('a packet of a retired stream that comes later: counted, not tracked, and no stream made for it', async () => {
  const file = fixture('fresh', 'many-40.pcap');
  const withSyn = (await withLateSyn(file))!;
  // frame 2 (the first connection's SYN/ACK) once more, after the late SYN
  const src = fs.readFileSync(file);
  const second = (await frameOffsets(src)).get(2)!;
  const again = Buffer.from(src.subarray(second.offset - 16, second.offset + second.frame.caplen));
  again.writeUInt32LE(withSyn.readUInt32LE(withSyn.length - again.length) + 1, 0);
  const bytes = Buffer.concat([withSyn, again]);
  const plain = await checkCapture({ bytes, name: 'late' });
  const r = await checkCapture({ bytes, name: 'late' }, {}, pressed(plain.tracker.streams.length - 1, 2));
  const t = r.tracker;
  assert.deepEqual({ ...t.retired }, { firstFrame: 1609, connections: 40, streams: 114, packets: 1, heap: { used: 1, limit: 2 ** 20 } });
  assert.equal(t.streams.length, plain.tracker.streams.length, 'the late packet of a retired stream opens no new one');
  assert.deepEqual(report(r).findings, []);
  const lim = r.findings.find((f) => f.rule === 'tracking-limit')!;
  assert.equal(lim.message, "memory ran short at this frame (JavaScript heap 0 of its 1 MiB): 40 finished MPTCP connections and 114 TCP streams in all were checked early and let go (1 later packet of theirs counted, not tracked); node's --max-old-space-size raises the limit");
  // without retirement the SYN/ACK counts on its subflow
  const sub = (x: typeof r) => (JSON.parse(JSON.stringify(x.tracker.connections.map(connectionJson)))[0].subflows[0].packets as number);
  assert.equal(sub(plain), sub(r) + 1);
});

test('a 4-tuple used again by a new connection after its stream was retired: the new one is tracked', async () => {
  const src = fs.readFileSync(fixture('kernel', 'basic.pcap'));
  // basic.pcap again, every SYN with another sequence number: the same 4-tuples, new streams
  const again = Buffer.from(src);
  for (const { offset, frame } of (await frameOffsets(again)).values()) {
    const tcp = frame.tcp!;
    if ((tcp.flags & 0x12) === 0x02) again.writeUInt32BE((tcp.seq + 1000) >>> 0, offset + tcp.offset + 4);
  }
  const bytes = Buffer.concat([src, (await later(again, 10)).subarray(24)]);
  const plain = await checkCapture({ bytes, name: 'twice' });
  // the heap read at every new stream, spent from the second copy's first SYN (the 4th stream) on
  const r = await checkCapture({ bytes, name: 'twice' }, {}, pressed(1, 4));
  const t = r.tracker;
  assert.equal(t.retired!.connections, 1, 'the first copy, closed, let go at the second copy\'s first SYN');
  assert.equal(t.retired!.firstFrame, 61);
  // the second copy's initial subflow, on the same 4-tuple, is a new stream and connection, tracked
  assert.equal(t.connections.length, 2);
  const second = t.connections[1];
  assert.equal(second.retired, undefined);
  assert.equal(second.initial!.firstFrame, 61);
  assert.deepEqual(connectionJson(second).client, connectionJson(plain.tracker.connections[1]).client);
  // its joins name the token of the first copy's connection (the copy has the same keys): joins to a
  // connection let go are counted, not tracked (12 packets each)
  assert.equal(t.retired!.packets, 24);
  assert.equal(t.retired!.streams, 3 + 2);
  assert.equal(t.streams.length, plain.tracker.streams.length);
});

test('a join to a connection let go, closed by its own SYN: counted once, not again at the next retirement', async () => {
  const src = fs.readFileSync(fixture('kernel', 'basic.pcap'));
  // basic.pcap again as above, and each join's SYN with RST set too (a damaged capture): the join
  // stream, retired at its SYN, is closed, quiet and has no connection when the next join's SYN
  // makes the tracker retire what is finished
  const again = Buffer.from(src);
  let syns = 0;
  for (const { offset, frame } of (await frameOffsets(again)).values()) {
    const tcp = frame.tcp!;
    if ((tcp.flags & 0x12) !== 0x02) continue;
    again.writeUInt32BE((tcp.seq + 1000) >>> 0, offset + tcp.offset + 4);
    if (syns++ > 0) again[offset + tcp.offset + 13] |= 0x04;
  }
  assert.equal(syns, 3);
  const bytes = Buffer.concat([src, (await later(again, 10)).subarray(24)]);
  const t = (await checkCapture({ bytes, name: 'twice' }, {}, pressed(1, 4))).tracker;
  assert.equal(t.retired!.connections, 1);
  // the first copy's three streams and the two joins, each once (a join was counted twice before)
  assert.equal(t.retired!.streams, 3 + 2);
  assert.equal(t.retired!.packets, 24);
  assert.equal(t.streams.filter((x) => x.retired === true).length, 3 + 2);
});

test('connections below keepConnections are never retired (the viewer draws their diagrams)', async () => {
  const file = fixture('fresh', 'many-40.pcap');
  const r = await checkCapture({ file }, {}, { ...pressed(4, 9, { packets: 50, seconds: 0 }), keepConnections: 4 });
  const kept = r.tracker.connections.filter((c) => c.retired === undefined).map((c) => c.id);
  assert.deepEqual(kept, [0, 1, 2, 3, 34, 35, 36, 37, 38, 39]);
  assert.equal(r.tracker.retired!.connections, 30);
  assert.deepEqual(report(r), report(await checkCapture({ file })));
});

test('the heap is read again after a collection before new streams are refused: what retirement let go is not counted', async () => {
  const file = fixture('fresh', 'many-40.pcap');
  // in use: past the stop until a collection; 60 % of the way to the halt, so that without the
  // collection no new stream would be tracked once nothing is finished
  let collected = 0;
  let high = true;
  let probes = 0;
  // below the stop for the first ten readings (40 streams)
  const heap: HeapBudget = { limit: 2 ** 20, stopAt: 100, haltAt: 1000, used: () => (probes++ < 10 || !high ? 50 : 600), probeEvery: 4, collect: () => { collected++; high = false; } };
  const r = await checkCapture({ file }, {}, { limits: { maxStreams: 200_000, heap }, retireAfter: { packets: 50, seconds: 0 } });
  assert.equal(collected, 1);
  assert.equal(r.tracker.untracked, undefined, 'every stream tracked');
  assert.ok(r.tracker.retired!.connections > 0);
  // the same budget without a collection refuses new streams once nothing is finished
  high = true;
  probes = 0;
  const without = await checkCapture({ file }, {}, { limits: { maxStreams: 200_000, heap: { ...heap, collect: undefined } }, retireAfter: { packets: 50, seconds: 0 } });
  assert.ok(without.tracker.untracked, 'streams left out without the collection');
  // the process's own budget: collect() is V8's gc(), made available when first needed
  const own = processLimits().heap!;
  let garbage: unknown[] | null = Array.from({ length: 200_000 }, (_, i) => ({ i }));
  const before = own.used();
  garbage = null;
  own.collect!();
  assert.equal(garbage, null);
  assert.ok(own.used() < before - 4 * 2 ** 20, `in use ${before} → ${own.used()} bytes`);
});

test('packed texts: deflated together, read back in any order, exactly', () => {
  const texts = Array.from({ length: 300 }, (_, i) => JSON.stringify({ id: i, key: `0x${(i * 2654435761).toString(16)}`, note: 'é→✓', subflows: [{ tcpStream: i, bytes: i * 1448 }] }));
  const batches = [0, 100, 200].map((from) => new PackedTexts(texts.slice(from, from + 100)));
  assert.ok(batches.every((b) => b.count === 100 && b.size < 0.3 * texts.slice(0, 100).join('').length));
  // twelve batches read round-robin (more than are kept inflated), every text as it was
  const more = Array.from({ length: 12 }, (_, k) => new PackedTexts(texts.slice(k * 25, k * 25 + 25)));
  for (let i = 0; i < 25; i++) for (let k = 0; k < 12; k++) assert.equal(more[k].text(i), texts[k * 25 + i]);
  for (let i = 299; i >= 0; i--) assert.equal(batches[Math.floor(i / 100)].text(i % 100), texts[i]);
  assert.throws(() => new PackedTexts(['a\nb']), /line end/);
});

test('at the stream limit (streams tracked at once), finished connections are retired to make room', async () => {
  const file = fixture('fresh', 'many-40.pcap');
  const plain = await checkCapture({ file });
  // 114 streams in all, never more than 24 at once once the finished ones go
  const r = await checkCapture({ file }, {}, { limits: { maxStreams: 24 }, retireAfter: { packets: 50, seconds: 0 } });
  const t = r.tracker;
  assert.equal(t.untracked, undefined, 'no stream refused');
  assert.equal(t.streams.length, 114);
  assert.deepEqual({ ...t.retired }, { firstFrame: 284, connections: 32, streams: 90, packets: 0, streamLimit: 24 });
  assert.deepEqual(report(r), report(plain));
  const lim = r.findings.filter((f) => f.rule === 'tracking-limit');
  assert.equal(lim.length, 1);
  assert.equal(lim[0].frame, t.retired!.firstFrame);
  assert.equal(lim[0].message, `more than 24 TCP streams at once at this frame: ${t.retired!.connections} finished MPTCP connections and ${t.retired!.streams} TCP streams in all were checked early and let go`);
  // too low a limit for the connections open at once: retirement makes what room it can, then new streams are refused
  const low = await checkCapture({ file }, {}, { limits: { maxStreams: 4 }, retireAfter: { packets: 50, seconds: 0 } });
  assert.deepEqual({ ...low.tracker.untracked }, { limit: 4, firstFrame: 23, packets: 1442, streams: 108 });
  assert.deepEqual({ ...low.tracker.retired }, { firstFrame: 140, connections: 12, streams: 14, packets: 0, streamLimit: 4 });
  assert.equal(low.findings.find((f) => f.rule === 'tracking-limit')!.message,
    'the capture holds more than 4 TCP streams: from frame 140 on, 12 finished MPTCP connections and 14 TCP streams in all were checked early and let go; 108 more (1,442 packets, the first at this frame) were decoded but not tracked or checked');
});

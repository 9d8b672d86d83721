// The connection tracker on real captures: stream and connection numbering, subflows tied by
// token, partial connections, DSN widening, the implicit first mapping, reinjection.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as os from 'node:os';
import { spawnSync } from 'node:child_process';
import * as zlib from 'node:zlib';
import { setFlagsFromString } from 'node:v8';
import { widen32 } from '../src/mptcp/tracker.ts';
import { IF_COUNT, type Mapping } from '../src/mptcp/model.ts';
import { analyzeBytes, analyzeFile, checkCapture } from '../src/analyze.ts';
import { fixture } from './fixtures.ts';
import { cliDeopts, copiesOf, dropFrames, duplicateFrame, packetsOf, check, optionOffset, rewriteFrame } from './helpers.ts';

test('multi.pcap: three connections, each with its own subflows joined by token', async () => {
  const { analysis } = await packetsOf(fixture('kernel', 'multi.pcap'));
  const t = analysis.tracker;
  assert.equal(t.connections.length, 3);
  for (const c of t.connections) {
    assert.equal(c.partial, false);
    assert.equal(c.initial!.role, 'initial');
    const joins = c.subflows.filter((s) => s.role === 'join');
    assert.ok(joins.length >= 1);
    for (const s of joins) assert.equal(s.join!.token, c.tokens[1], 'each join names its server token');
  }
  assert.equal(new Set(t.streams.map((s) => s.id)).size, t.streams.length);
});

test('32-bit DSNs and Data ACKs are widened against the IDSN (v0 capture)', async () => {
  const { packets, analysis } = await packetsOf(fixture('tcpdump', 'mptcp-v0.pcap'));
  const c = analysis.tracker.connections[0];
  const p4 = packets[3];
  assert.equal(p4.facts.mappingDsn, c.idsns[1]! + 1n, 'the server\'s first data byte is IDSN + 1');
  const p5 = packets[4];
  assert.equal(p5.facts.dataAck! >> 32n, c.idsns[1]! >> 32n);
  assert.equal(widen32(0x00000010, 0x00000001fffffff0n), 0x0000000200000010n);
  assert.equal(widen32(0xfffffff0, 0x0000000200000010n), 0x00000001fffffff0n);
});

test('widen32: the 64-bit value with these low 32 bits closest to the reference (RFC 8684 §3.3.1), modulo 2^64', () => {
  // what it must be, worked out the plain way in BigInts
  const expected = (v: bigint, ref: bigint): bigint => {
    const low = v & 0xffffffffn;
    let c = (ref & ~0xffffffffn & ((1n << 64n) - 1n)) | low;
    if (c - ref > 1n << 31n) c -= 1n << 32n;
    else if (c - ref < -(1n << 31n)) c += 1n << 32n;
    return c & ((1n << 64n) - 1n);
  };
  let seed = 12345;
  const rand32 = () => { seed = (Math.imul(seed, 1103515245) + 12345) >>> 0; return seed; };
  const refs = [0n, 1n, 0x7fffffffn, 0x80000000n, 0xffffffffn, 0x100000000n, 0xffffffffffffffffn, 0xffffffff00000000n, 0x00000001fffffff0n];
  for (let i = 0; i < 200; i++) refs.push((BigInt(rand32()) << 32n) | BigInt(rand32()));
  let n = 0;
  for (const ref of refs) {
    const refLow = Number(ref & 0xffffffffn);
    // near the reference's low half (both ways, across the ±2^31 edges), and anywhere
    const lows = [refLow, refLow + 1, refLow - 1, refLow + 0x7fffffff, refLow + 0x80000000, refLow + 0x80000001, refLow - 0x7fffffff, refLow - 0x80000000, refLow - 0x80000001, 0, 0xffffffff, rand32(), rand32()];
    for (const l of lows) {
      const low = ((l % 0x100000000) + 0x100000000) % 0x100000000;
      // as a Number (a v0 option's 32-bit field) and as a BigInt (as the parser gives it); two
      // references in turn, as two call sites do
      assert.equal(widen32(low, ref), expected(BigInt(low), ref), `widen32(${low}, ${ref})`);
      assert.equal(widen32(BigInt(low), 0x00000001fffffff0n), expected(BigInt(low), 0x00000001fffffff0n));
      assert.equal(widen32(BigInt(low), ref), expected(BigInt(low), ref), `widen32(${low}n, ${ref})`);
      // only the low 32 bits of the value count
      assert.equal(widen32((0x5n << 32n) | BigInt(low), ref), expected(BigInt(low), ref));
      assert.equal(widen32(0x100000000 + low, ref), expected(BigInt(low), ref));
      n += 5;
    }
  }
  assert.equal(n, 5 * 13 * refs.length);
});

test('the loss capture: data sent again on another subflow is recognised', async () => {
  const { packets, analysis } = await packetsOf(fixture('fresh', 'loss-any.pcap'));
  const re = packets.filter((p) => p.facts.reinjectionOf !== undefined);
  assert.deepEqual(re.map((p) => [p.frame.frame, p.facts.reinjectionOf]), [[80, 77]]);
  assert.equal(analysis.tracker.connections[0].reinjectedBytes, 16384);
});

test('a capture that starts after the handshake: partial connections, kept and numbered', async () => {
  const r = await check('x', await dropFrames(fixture('kernel', 'basic.pcap'), [1, 2, 3, 4, 12, 16]));
  const t = r.tracker;
  assert.ok(t.connections.length >= 1);
  assert.ok(t.connections.every((c) => c.partial));
  // every TCP packet is still in a stream; nothing was dropped
  assert.equal(t.tcpPackets, 54);
});

test('pathological traffic: linear, bounded, and the stream limit reported', async () => {
  const { repeatFrame, check: run } = await import('./helpers.ts');
  // ten thousand MP_JOIN SYNs to one connection
  const joins = await run('joins', Buffer.concat([
    fs.readFileSync(fixture('kernel', 'basic.pcap')),
    (await repeatFrame(fixture('kernel', 'basic.pcap'), 12, 10_000)).subarray(24),
  ]));
  assert.equal(joins.tracker.connections.length, 1, 'all join the connection their token names');
  assert.equal(joins.tracker.connections[0].subflows.length, 3 + 10_000);
  const incomplete = joins.findings.filter((f) => f.rule === 'join-incomplete');
  assert.equal(incomplete.length, 200, 'findings of one rule on one connection are capped');
  assert.ok(joins.suppressed.get('join-incomplete')! >= 9_800, 'and the rest counted');
  // more streams than the tracker keeps: decoded, not tracked, and said
  const many = await repeatFrame(fixture('kernel', 'basic.pcap'), 2, 5_000);
  const { checkCapture } = await import('../src/analyze.ts');
  const r = await checkCapture({ bytes: many, name: 'many' }, {}, { limits: { maxStreams: 1_000 } });
  assert.equal(r.scan.packets, 5_000);
  assert.equal(r.tracker.streams.length, 1_000);
  const lim = r.findings.find((f) => f.rule === 'tracking-limit')!;
  assert.equal(lim.frame, 1_001);
  assert.match(lim.message, /more than 1,000 TCP streams: 4,000 more \(4,000 packets, the first at this frame\) were decoded but not tracked or checked/);
});

test('the heap budget: past stopAt no new stream is tracked, past haltAt no packet, and the finding says where', async () => {
  const { repeatFrame } = await import('./helpers.ts');
  // 20,000 MP_CAPABLE SYNs, each a stream of its own; a heap that "grows" 1 KiB per packet
  const bytes = await repeatFrame(fixture('kernel', 'basic.pcap'), 1, 20_000);
  let seen = 0;
  const heap = { limit: 64 * 2 ** 20, stopAt: 1_000 * 1024, haltAt: 10_000 * 1024, used: () => seen * 1024 };
  const r = await checkCapture({ bytes, name: 'syns' }, {}, { limits: { maxStreams: 200_000, heap }, onPacket: () => { seen++; } });
  assert.equal(r.scan.packets, 20_000);
  // read every 256 new streams: 1,024 streams × 1 KiB is the first reading past 1,000 KiB
  assert.equal(r.tracker.streams.length, 1_024);
  const u = r.tracker.untracked!;
  assert.deepEqual({ ...u }, {
    limit: 1_024, firstFrame: 1_025, packets: 16_384 - 1_024, streams: 10_000, streamsAtLeast: true,
    heap: { used: 1_024 * 1024, limit: 64 * 2 ** 20 },
    // read at the reader's progress reports, every 16,384 records: 16,384 packets × 1 KiB is past
    // 10,000 KiB, so frame 16,385 is the first not tracked at all
    halted: { frame: 16_385, packets: 20_000 - 16_384, used: 16_384 * 1024 },
  });
  const lim = r.findings.filter((f) => f.rule === 'tracking-limit');
  assert.equal(lim.length, 1);
  assert.equal(lim[0].frame, 1_025);
  assert.deepEqual(lim[0].relatedFrames, [16_385]);
  assert.equal(lim[0].message, "memory ran short after 1,024 TCP streams (JavaScript heap 1 of its 64 MiB): at least 10,000 more (15,360 packets, the first at this frame) were decoded but not tracked or checked; from frame 16,385 on (heap 16 MiB) no stream was tracked: 3,616 TCP packets were decoded only; node's --max-old-space-size raises the limit");
  // without a budget of its own, a pass reads the process's heap (its limit less the young generation's reserve)
  const { processLimits } = await import('../src/analyze.ts');
  const own = processLimits().heap!;
  assert.ok(own.limit > 0 && own.stopAt < own.haltAt && own.haltAt < own.limit && own.used() > 0);
});

test('the heap budget collects before it halts: garbage past haltAt halts nothing, a heap live near haltAt halts', async () => {
  const { repeatFrame } = await import('./helpers.ts');
  const bytes = await repeatFrame(fixture('kernel', 'basic.pcap'), 1, 20_000);
  // read at the reader's progress reports (every 16,384 records): 1 KiB of garbage a packet until
  // collected, on top of what is live
  const run = async (liveBytesAPacket: number) => {
    let seen = 0, collectedAt = 0, collections = 0;
    const heap = {
      limit: 64 * 2 ** 20, stopAt: Infinity, haltAt: 10_000 * 1024,
      used: () => seen * liveBytesAPacket + (seen - collectedAt) * 1024,
      collect: () => { collections++; collectedAt = seen; },
    };
    const r = await checkCapture({ bytes, name: 'syns' }, {}, { limits: { maxStreams: 200_000, heap }, onPacket: () => { seen++; } });
    return { r, collections };
  };
  // 16,384 packets: 4 MiB live and 16 MiB of garbage, collected; tracking goes on to the end
  const light = await run(256);
  assert.equal(light.collections, 1);
  assert.equal(light.r.tracker.untracked, undefined);
  assert.equal(light.r.tracker.streams.length, 20_000);
  assert.equal(light.r.findings.filter((f) => f.rule === 'tracking-limit').length, 0);
  // 16,384 × 600 bytes live (9,600 KiB): under haltAt, but over HALT_AFTER_COLLECT (0.9) of it, where
  // every reading would collect again: halted, with what was live
  const heavy = await run(600);
  assert.equal(heavy.collections, 1);
  assert.deepEqual({ ...heavy.r.tracker.untracked!.halted }, { frame: 16_385, packets: 20_000 - 16_384, used: 16_384 * 600 });
  assert.equal(heavy.r.tracker.streams.length, 16_384);
});

test('at the stream limit, a 4-tuple reused by a new connection is not tracked, and its old stream takes none of its packets', async () => {
  const { frameOffsets } = await import('./helpers.ts');
  const src = fs.readFileSync(fixture('kernel', 'basic.pcap'));
  // basic.pcap again, every SYN with another sequence number: the same 4-tuples, new streams
  const again = Buffer.from(src);
  let syns = 0;
  for (const { offset, frame } of (await frameOffsets(again)).values()) {
    const t = frame.tcp!;
    if ((t.flags & 0x12) === 0x02) { again.writeUInt32BE((t.seq + 1000) >>> 0, offset + t.offset + 4); syns++; }
  }
  const alone = await checkCapture({ bytes: src, name: 'basic' });
  const n = alone.tracker.streams.length;
  assert.equal(syns, n);
  const r = await checkCapture({ bytes: Buffer.concat([src, again.subarray(24)]), name: 'twice' }, {}, { limits: { maxStreams: n } });
  assert.equal(r.scan.packets, 2 * alone.scan.packets);
  assert.equal(r.tracker.streams.length, n);
  assert.deepEqual(r.tracker.streams.map((s) => [...s.packets]), alone.tracker.streams.map((s) => [...s.packets]), 'the old streams took none of the new packets');
  assert.deepEqual(r.findings.filter((f) => f.rule !== 'tracking-limit'), alone.findings);
  const lim = r.findings.find((f) => f.rule === 'tracking-limit')!;
  assert.equal(lim.frame, alone.scan.packets + 1);
  assert.equal(lim.message, `the capture holds more than ${n} TCP streams: ${n} more (${alone.scan.packets} packets, the first at this frame) were decoded but not tracked or checked`);
});

test('IP fragments after the first are skipped and counted', async () => {
  const { rewriteFrame } = await import('./helpers.ts');
  const { summaryJson, summaryText } = await import('../src/format/summary.ts');
  // frame 5 of basic.pcap made a non-first fragment (fragment offset 185 × 8 bytes)
  const bytes = await rewriteFrame(fixture('kernel', 'basic.pcap'), 5, (b, f) => { b.writeUInt16BE(185, f.ipOffset + 6); });
  const r = await check('frag', bytes);
  assert.equal(r.tracker.nonFirstFragments, 1);
  assert.equal(r.tracker.tcpPackets, 59);
  assert.equal(summaryJson(r).nonFirstFragments, 1);
  assert.match(summaryText(r), /1 IP fragment after the first skipped \(no TCP header in them\)/);
});

test('a 4-tuple reused the other way round starts a new stream, and later packets find it', async () => {
  const { frameOffsets } = await import('./helpers.ts');
  const file = fixture('kernel', 'multi.pcap');
  const bytes = fs.readFileSync(file);
  const frames = await frameOffsets(bytes);
  const { packets } = await packetsOf(file);
  const record = (n: number) => { const x = frames.get(n)!; return Buffer.from(bytes.subarray(x.offset - 16, x.offset + x.frame.caplen)); };
  // the MP_CAPABLE SYN of the first connection, sent back the other way with another ISN
  const syn = packets.find((p) => p.frame.tcp && (p.frame.tcp.flags & 0x12) === 0x02)!;
  const rev = record(syn.frame.frame);
  const ip = 16 + syn.frame.ipOffset;
  const tcp = 16 + syn.frame.tcp!.offset;
  const src = Buffer.from(rev.subarray(ip + 12, ip + 16));
  rev.copy(rev, ip + 12, ip + 16, ip + 20);
  src.copy(rev, ip + 16);
  const sport = rev.readUInt16BE(tcp);
  rev.writeUInt16BE(rev.readUInt16BE(tcp + 2), tcp);
  rev.writeUInt16BE(sport, tcp + 2);
  rev.writeUInt32BE((rev.readUInt32BE(tcp + 4) + 12345) >>> 0, tcp + 4);
  // then packets of two other streams (so the last-streams cache holds neither), then an ACK of
  // the original direction of that 4-tuple: it belongs to the new stream, in its direction 1
  const others = packets.filter((p) => p.facts.stream && p.facts.stream.id !== syn.facts.stream!.id);
  const y = others[others.length - 1];
  const z = [...others].reverse().find((p) => p.facts.stream!.id !== y.facts.stream!.id)!;
  const ack = packets.find((p) => p.facts.stream?.id === syn.facts.stream!.id && p.facts.dir === 0 && !(p.frame.tcp!.flags & 0x02))!;
  const extended = Buffer.concat([bytes, rev, record(z.frame.frame), record(y.frame.frame), record(ack.frame.frame)]);
  const after = await packetsOf(fixture('kernel', 'multi.pcap'), extended);
  const n = packets.length;
  const newSyn = after.packets[n];
  const lastAck = after.packets[n + 3];
  assert.equal(newSyn.facts.stream!.id, after.analysis.tracker.streams.length - 1, 'the reversed SYN opens a new stream');
  assert.notEqual(newSyn.facts.stream!.id, syn.facts.stream!.id);
  assert.equal(lastAck.facts.stream!.id, newSyn.facts.stream!.id, 'the ACK finds the new stream, not the old one');
  assert.equal(lastAck.facts.dir, 1);
});

test('IntervalSet: merged ranges equal a byte-by-byte model, in order and out of order', async () => {
  const { IntervalSet } = await import('../src/mptcp/intervals.ts');
  let seed = 12345;
  const rnd = (n: number) => { seed = (seed * 1103515245 + 12345) & 0x7fffffff; return seed % n; };
  for (const inOrder of [true, false]) {
    const set = new IntervalSet();
    const model = new Uint8Array(40000);
    let at = 0;
    for (let i = 0; i < 400; i++) {
      // in order: mostly right after (or overlapping) the previous range; else anywhere
      const start = inOrder ? Math.max(0, at - rnd(20) + (rnd(4) === 0 ? rnd(30) : 0)) : rnd(39000);
      const end = start + 1 + rnd(40);
      at = end;
      set.add(BigInt(start) + (1n << 60n), BigInt(end) + (1n << 60n));
      model.fill(1, start, Math.min(end, model.length));
    }
    const expected: Array<[bigint, bigint]> = [];
    for (let i = 0; i < model.length; i++) {
      if (!model[i]) continue;
      let j = i;
      while (j < model.length && model[j]) j++;
      expected.push([BigInt(i) + (1n << 60n), BigInt(j) + (1n << 60n)]);
      i = j;
    }
    assert.deepEqual(set.ranges, expected, inOrder ? 'in order' : 'out of order');
  }
});

test('appendTight: a new list of exactly its size while short, then the same list pushed onto; the lists the tracker keeps are built so', async () => {
  const { appendTight } = await import('../src/mptcp/lists.ts');
  let list: Array<[number]> = [];
  const seen: Array<Array<[number]>> = [];
  for (let i = 0; i < 12; i++) {
    const before = list;
    list = appendTight(list, [i]); // an array item is added whole, not spread
    if (i < 8) assert.notEqual(list, before, `addition ${i + 1} makes a new list`);
    else assert.equal(list, before, `addition ${i + 1} pushes onto the list`);
    seen.push(list);
  }
  assert.deepEqual(list, Array.from({ length: 12 }, (_, i) => [i]));
  assert.deepEqual(seen.slice(0, 7).map((l) => l.length), [1, 2, 3, 4, 5, 6, 7], 'earlier lists are left as they were');
  assert.equal(seen[7], list, 'the eighth list is the one pushed onto after');
  // a connection's lists as the tracker leaves them, the same as when they were pushed onto
  // (multi.pcap: 3 subflows, an ADD_ADDR and its echo, 5 keys seen, 9 ranges of data sent one way)
  const c = (await analyzeFile(fixture('kernel', 'multi.pcap'))).tracker.connections[0];
  assert.deepEqual([c.subflows.length, c.announcements.length, c.echoes.length, c.keyObservations.length, c.sentRanges[0].length / 4, c.sentRanges[1].length / 4], [3, 1, 1, 5, 9, 1]);
  assert.deepEqual(c.subflows.map((s) => [s.capable.length, s.mappings[0].length, s.mappings[1].length]), [[4, 6, 1], [0, 2, 0], [0, 1, 0]]);
});

test('the lists the tracker starts empty are of the kind V8 gives lists of objects, and the flat lists of numbers stay plain numbers: one hidden class at each hot site', async () => {
  // V8's own verdicts, through its natives syntax (turned on for this process only)
  setFlagsFromString('--allow-natives-syntax');
  const objects = new Function('x', 'return %HasObjectElements(x) && !%HasHoleyElements(x)') as (x: unknown[]) => boolean;
  // small integers or doubles, unboxed either way (which one depends on what this process made
  // before: V8 starts new lists as the kind earlier ones at the same place became)
  const numbers = new Function('x', 'return (%HasSmiElements(x) || %HasDoubleElements(x)) && !%HasHoleyElements(x)') as (x: unknown[]) => boolean;
  const doubles = new Function('x', 'return %HasDoubleElements(x) && !%HasHoleyElements(x)') as (x: unknown[]) => boolean;
  const { emptyObjects, appendTight4 } = await import('../src/mptcp/lists.ts');
  const { IntervalSet } = await import('../src/mptcp/intervals.ts');
  assert.ok(!objects([]), '[] is a list of small integers to V8');
  assert.ok(objects(emptyObjects()) && emptyObjects().length === 0);
  assert.ok(objects(new IntervalSet().ranges));
  assert.ok(numbers(appendTight4([], 1, 2, 3, 4)) && numbers(appendTight4(appendTight4([], 1, 2, 3, 4), 5, 6, 7, 8)));
  assert.ok(doubles(appendTight4([1, 2, 3, 4], 2 ** 40, 2, 3, 4)));
  // what the tracker made of real captures: a direction without mappings, a side's sent ranges, the
  // packets without MPTCP options (fallback.pcap: 29 after its connection fell back to TCP)
  const a = await analyzeFile(fixture('kernel', 'multi.pcap'));
  const s = a.tracker.streams.find((x) => x.mappings[1].length === 0)!;
  assert.ok(objects(s.mappings[1]), 'an empty mapping list');
  assert.ok(numbers(a.tracker.connections[0].sentRanges[0]), 'a side\'s sent ranges');
  const plain: Array<readonly unknown[]> = [];
  await analyzeFile(fixture('kernel', 'fallback.pcap'), { onPacket: (_f, facts) => { if (facts.options.length === 0) plain.push(facts.options); } });
  assert.equal(plain.length, 29);
  assert.ok(plain.every((x) => objects(x as unknown[])), 'the options of a packet without MPTCP options');
});

test('the fields of a packet\'s facts have their final representation from the start: code optimized on them is not thrown away when one first gets a value of another kind mid-capture', () => {
  // in a process of its own (test/probes/facts-fields.ts), as the CLI's: V8 remembers what this one made before
  const r = spawnSync(process.execPath, ['--allow-natives-syntax', '--import', 'tsx', path.join(__dirname, 'probes', 'facts-fields.ts')], { encoding: 'utf8', cwd: path.join(__dirname, '..') });
  assert.equal(r.status, 0, r.stderr);
  const results = JSON.parse(r.stdout) as Array<{ field: string; candidates: number; before: boolean; after: boolean }>;
  assert.deepEqual(results.map((x) => x.field), ['reinjectionOf', 'dataAckBelow', 'side', 'mappingFrame']);
  for (const x of results) {
    assert.ok(x.candidates >= 3, `${x.field}: facts that never held another kind`);
    assert.ok(x.before, `${x.field}: a reader is optimized`);
    assert.ok(x.after, `${x.field}: the reader is still optimized after the field is first written so`);
  }
});

test('the repeat lane is not thrown away when a connection closes mid-capture: reading a stream\'s second FIN frame for the first time made V8 deoptimize it', () => {
  // V8 compiling on the main thread (no timing: the lane is optimized long before this capture's
  // connection closes); a fresh process, as the CLI's. The capture's DATA_FIN and FINs come after
  // 5,000 packets of its transfer.
  const deopts = cliDeopts(fixture('fresh', 'basic-3500k-snap128.pcap.gz'));
  // first-time paths elsewhere are V8's way (the rules', the tracker's for a new mapping)
  assert.deepEqual(deopts.filter((d) => d.fn === 'repeatLane' || d.fn === 'take'), [], 'the lane was deoptimized');
});

test('RTT at the capture point: the oldest segment in flight to the ACK that covers it; a retransmission gives no sample', async () => {
  // one TCP segment a packet: at most 12 in flight one way. The samples are those the 64-entry ring
  // of earlier versions gave on this capture (17 samples, 3.8 / 862.4 / 109 µs).
  const file = fixture('fresh', 'basic-nooffload-snap128.pcap');
  let most = 0;
  const analysis = await analyzeFile(file, {
    onPacket: (_f, facts) => { const v = facts.stream?.inflight?.v; if (v) most = Math.max(most, v[IF_COUNT], v[4 + IF_COUNT]); },
  });
  assert.equal(most, 12);
  const rtt = analysis.tracker.streams[0].rtt!;
  assert.equal(rtt.samples, 17);
  assert.equal(Math.round(rtt.min * 1e7), 38);
  assert.equal(Math.round(rtt.sum * 1e7), 8624);
  assert.equal(Math.round(rtt.max * 1e6), 109);
  // frame 5 sent again at once (Karn's rule): what was in flight gives no sample; frame 6 is the
  // oldest afterwards, so the first sample is frame 11's ACK (4273) of it, not frame 9's of frame 4
  const again = await analyzeBytes('retransmitted', await duplicateFrame(file, 5, () => {}));
  const r = again.tracker.streams[0].rtt!;
  assert.equal(r.samples, 17);
  assert.equal(Math.round(r.sum * 1e7), 8633); // 0.9 µs more: frame 11 − frame 6 in place of frame 9 − frame 4
});

test('closed subflows let go of their repeated-DSS cache and in-flight record, and check the same', async () => {
  // 40 short connections, four at a time (a busy server's capture in small): a stream closed by
  // both FINs or a RST keeps neither, though most had both while open
  const file = fixture('fresh', 'many-40.pcap');
  const hadCache = new Set<number>();
  const hadRing = new Set<number>();
  const r = await checkCapture({ file }, {}, {
    onPacket: (_f, facts) => {
      if (facts.stream?.dssCache) hadCache.add(facts.stream.id);
      if (facts.stream?.inflight) hadRing.add(facts.stream.id);
    },
  });
  const t = r.tracker;
  assert.equal(t.connections.length, 40);
  assert.equal(t.streams.length, 114);
  const closed = t.streams.filter((s) => s.rstFrame !== undefined || (s.finFrame[0] !== undefined && s.finFrame[1] !== undefined));
  assert.equal(closed.length, 114);
  assert.ok(hadCache.size >= 40 && hadRing.size >= 40, `${hadCache.size} streams had a DSS cache, ${hadRing.size} a ring`);
  assert.deepEqual(closed.filter((s) => s.dssCache !== undefined || s.inflight !== undefined).map((s) => s.id), []);
  // the quiet path and every rule on every packet agree (check), and nothing is found here
  assert.deepEqual((await check('many-40', fs.readFileSync(file))).findings, []);
  const rtts = t.streams.filter((s) => s.rtt);
  assert.equal(rtts.length, 40);
  assert.equal(rtts.reduce((n, s) => n + s.rtt!.samples, 0), 80);
});

test('a DSS is the direction\'s last one again only when every byte is: any byte changed, in its words or its short tail, makes it new', async () => {
  const basic = fixture('kernel', 'basic.pcap');
  const repeatedAt = async (bytes: Buffer, frame: number) => {
    let repeated: boolean | undefined;
    await analyzeBytes('x', bytes, { onPacket: (f, facts) => { if (f.frame === frame) repeated = facts.repeatedDss !== undefined; } });
    return repeated;
  };
  // frame 8 repeats frame 6's mapping DSS (22 bytes: five words and two bytes), frame 9 frame 7's
  // Data-ACK-only DSS (12 bytes: three words)
  const original = fs.readFileSync(basic);
  const lengths: number[] = [];
  for (const frame of [8, 9]) {
    assert.equal(await repeatedAt(original, frame), true, `frame ${frame} as captured`);
    let length = 0;
    await rewriteFrame(basic, frame, (b, f) => { length = b[optionOffset(f, b, 2) + 1]; });
    lengths.push(length);
    for (let k = 0; k < length; k++) {
      const changed = await rewriteFrame(basic, frame, (b, f) => { b[optionOffset(f, b, 2) + k] ^= 0x01; });
      assert.equal(await repeatedAt(changed, frame), false, `frame ${frame}, byte ${k} of its DSS changed`);
    }
  }
  assert.deepEqual(lengths, [22, 12]);
});

test('a direction keeps its last 64 mappings: data of the oldest of them is mapped, of the one before it not', async () => {
  // 3.5 MB in 16 KiB mappings on one subflow, one segment a packet (snaplen 128)
  const bytes = zlib.gunzipSync(fs.readFileSync(fixture('fresh', 'basic-3500k-snap128.pcap.gz')));
  // every mapping of stream 0's client-to-server direction in order, and the frame each packet found
  const added: Mapping[] = [];
  const found = new Map<number, number | undefined>();
  const a = await analyzeBytes('x', bytes, {
    onPacket: (f, facts) => {
      if (facts.stream?.id !== 0 || facts.dir !== 0 || !f.tcp?.payloadLength) return;
      if (facts.mapping && !added.includes(facts.mapping)) added.push(facts.mapping);
      found.set(f.frame, facts.mapping?.frame);
    },
  });
  const s = a.tracker.streams[0];
  assert.ok(added.length > 2 * 64, `${added.length} mappings`);
  // the list holds the last 64 and at most 63 older ones (dropped together)
  assert.ok(s.mappings[0].length >= 64 && s.mappings[0].length < 128, `${s.mappings[0].length} kept`);
  assert.deepEqual(s.mappings[0].slice(-64), added.slice(-64));
  // a late segment made to carry data from 64 and from 65 mappings back (its sequence number
  // rewritten; its DSS repeats the mapping before it, so it adds none)
  const frames = [...found.keys()];
  const late = frames[frames.length - 40];
  const at = added.findIndex((m) => m.frame === found.get(late));
  assert.ok(at >= 130, `frame ${late} in mapping ${at}`);
  const isn = s.isn[0]!;
  const mappedAt = async (ssn: number) => {
    const changed = await rewriteFrame(bytes, late, (b, f) => b.writeUInt32BE((isn + ssn) >>> 0, f.tcp!.offset + 4));
    let frame: number | undefined = -1;
    await analyzeBytes('x', changed, { onPacket: (f, facts) => { if (f.frame === late) frame = facts.mapping?.frame; } });
    return frame;
  };
  assert.equal(await mappedAt(added[at - 63].ssn), added[at - 63].frame);
  assert.equal(await mappedAt(added[at - 64].ssn), undefined);
});

test('copies of a real capture as new connections (the benchmark\'s longest decoding input): each copy its own ports, keys and tokens, its joins tied', async () => {
  const file = fixture('fresh', 'basic-nooffload-snap128.pcap');
  const copies = Buffer.concat([...copiesOf(file, 3 * 339 + 100, 10)]);
  const a = await analyzeBytes('copies', copies);
  assert.equal(a.scan.packets, 3 * 339 + 100);
  // three whole copies and the first 100 packets of a fourth (its handshake and joins)
  const conns = a.tracker.connections;
  assert.equal(conns.length, 4);
  assert.deepEqual(conns.map((c) => c.subflows.length), [3, 3, 3, 3]);
  assert.equal(new Set(conns.map((c) => c.tokens[1])).size, 4, 'a token of its own each');
  assert.deepEqual(conns.map((c) => c.subflows[0].b.port), [5201, 5202, 5203, 5204]);
  // copy k's first frame k × 10 s after the first's
  assert.deepEqual(conns.map((c) => Math.round(a.tracker.streams[c.subflows[0].id].firstTime! - a.tracker.streams[conns[0].subflows[0].id].firstTime!)), [0, 10, 20, 30]);
  assert.equal(conns[1].keys[0], conns[0].keys[0]! ^ (1n << 32n));
});

test('the first Data ACK below its subflow\'s mark, mid-capture, does not throw the compiled code away (the flag written at every Data ACK, not first at that one)', async () => {
  // a real transfer with one of its late Data ACKs (frame 4,504, the server's, 8 bytes) lowered by
  // 100,000: the first one below the mark, 4.5 k packets in, long after V8 compiled the code it runs
  const src = zlib.gunzipSync(fs.readFileSync(fixture('fresh', 'basic-3500k-snap128.pcap.gz')));
  const bytes = await rewriteFrame(src, 4504, (b, f) => {
    const o = optionOffset(f, b, 2);
    assert.equal(b[o + 3] & 3, 3, 'an 8-byte Data ACK');
    b.writeBigUInt64BE(b.readBigUInt64BE(o + 4) - 100000n, o + 4);
  });
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lens-test-'));
  try {
    const file = path.join(dir, 'below.pcap');
    fs.writeFileSync(file, bytes);
    const found = (await checkCapture({ file })).findings.filter((x) => x.rule === 'data-ack-regression');
    assert.deepEqual(found.map((x) => x.frame), [4504]);
    const deopts = cliDeopts(file);
    assert.deepEqual(deopts.filter((d) => ['ackAgain', 'dataAckHighWater', 'repeatLane', 'take'].includes(d.fn)), []);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

// The connection tracker on real captures: stream and connection numbering, subflows tied by
// token, partial connections, DSN widening, the implicit first mapping, reinjection.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as fs from 'node:fs';
import { widen32 } from '../src/mptcp/tracker.ts';
import { fixture } from './fixtures.ts';
import { dropFrames, packetsOf, check } from './helpers.ts';

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

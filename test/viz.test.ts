// The diagrams' models against the packets behind them: ladder labels, timeline bars, plot series,
// and the statistics of summary --json.
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { test } from 'node:test';
import { analyzeFile } from '../src/analyze.ts';
import { summaryJson } from '../src/format/summary.ts';
import { dsnPlot } from '../src/viz/series.ts';
import { fixture } from './fixtures.ts';
import { viewerSession } from './helpers.ts';

const SAMPLE = path.join(__dirname, '..', 'samples', 'key-mismatch.pcap');

test('ladder: lifelines per address, every MP_CAPABLE, MP_JOIN and ADD_ADDR arrow, the failed check in the error colour', async () => {
  const v = (await viewerSession(SAMPLE)).viz(0)!;
  assert.deepEqual(v.ladder.lifelines.map((l) => l.label), ['client 10.0.1.1', 'client 10.0.2.1', 'server 10.0.1.2', 'server 10.0.2.2']);
  assert.deepEqual(v.ladder.arrows.map((a) => `${a.frame} ${a.from}>${a.to} ${a.label}`), [
    '1 10.0.1.1>10.0.1.2 MP_CAPABLE SYN', '2 10.0.1.2>10.0.1.1 MP_CAPABLE SYN/ACK', '3 10.0.1.1>10.0.1.2 MP_CAPABLE ACK',
    '4 10.0.1.1>10.0.1.2 MP_CAPABLE ACK+data', '10 10.0.1.2>10.0.1.1 ADD_ADDR', '11 10.0.1.1>10.0.1.2 ADD_ADDR echo',
    '12 10.0.2.1>10.0.2.2 MP_JOIN SYN', '13 10.0.2.2>10.0.2.1 MP_JOIN SYN/ACK', '14 10.0.2.1>10.0.2.2 MP_JOIN ACK',
    '16 10.0.2.1>10.0.1.2 MP_JOIN SYN', '17 10.0.1.2>10.0.2.1 MP_JOIN SYN/ACK', '18 10.0.2.1>10.0.1.2 MP_JOIN ACK',
  ]);
  const a2 = v.ladder.arrows[1];
  assert.equal(a2.detail, 'v1, key 0x8c08…6fbd, token 0xaa792fcf');
  const a3 = v.ladder.arrows[2];
  assert.equal(a3.severity, 'error');
  assert.match(a3.finding!, /capable-key-mismatch: the echoed server key in the third ACK is 0x8c08771553a46fbc, but the server sent 0x8c08771553a46fbd/);
  assert.equal(v.ladder.arrows[12 - 6].detail, 'token 0xaa792fcf, R-A 0x05f91a50, id 2');
  assert.equal(v.ladder.arrows.filter((a) => a.severity).length, 1);
});

test('timeline: one bar per subflow, backup periods from MP_PRIO, events marked, bytes carried', async () => {
  const v = (await viewerSession(fixture('kernel', 'backup.pcap'))).viz(0)!;
  assert.equal(v.timeline.bars.length, 3);
  const [b0, b1] = v.timeline.bars;
  assert.equal(b0.bytes, 213001);
  assert.equal(b1.backup.length, 1, 'the client marks subflow 1 backup');
  assert.equal(b1.events[0].frame, 30);
  assert.equal(b1.events[0].label, 'MP_PRIO');
  assert.ok(Math.abs(b1.backup[0][0] - b1.events[0].time) < 1e-9);
  assert.ok(Math.abs(b1.backup[0][1] - b1.end) < 1e-9, 'backup until the subflow ends');
});

test('data-sequence plot: a series per subflow, reinjections marked, the Data ACK line', async () => {
  const s = await viewerSession(fixture('fresh', 'loss-any.pcap'));
  const p = s.viz(0)!.plot;
  assert.equal(p.direction, 'client → server');
  assert.deepEqual(p.subflows.map((x) => [x.subflow, x.xs.length]), [[0, 21], [1, 11]]);
  // the reinjected segment is frame 80, at relative DSN 278529
  assert.deepEqual(p.reinjections.ys, [278529]);
  const at = (i: number) => s.index.get('tsSec', i) + s.index.get('tsNsec', i) / 1e9;
  assert.equal(p.reinjections.xs[0], at(79) - at(0));
  assert.equal(p.dataAck.xs.length, 45);
  assert.equal(Math.max(...p.dataAck.ys), 409602, 'the last Data ACK covers 409600 bytes and the DATA_FIN');
  // every point is a data segment of the capture
  const data = [...Array(s.index.count).keys()].filter((i) => s.index.get('conn', i) === 0 && s.index.get('side', i) === 0 && s.index.get('payload', i) > 0);
  assert.equal(p.subflows.reduce((n, x) => n + x.xs.length, 0), data.length);
  assert.equal(p.points, data.length + 45);

  // a plot of more points than it draws keeps the first, the last and evenly spaced ones between,
  // collected as the index is read (a capture of millions of packets never holds all its points)
  const thin = (xs: number[], max: number) => {
    if (xs.length <= max) return xs;
    const out: number[] = [];
    for (let i = 0; i < max; i++) out.push(xs[Math.floor(i * (xs.length / max))]);
    return [...out, xs[xs.length - 1]];
  };
  const small = dsnPlot(s.index, 0, 7);
  assert.equal(small.points, p.points);
  assert.deepEqual(small.subflows.map((x) => x.xs), p.subflows.map((x) => thin(x.xs, 7)));
  assert.deepEqual(small.subflows.map((x) => x.ys), p.subflows.map((x) => thin(x.ys, 7)));
  assert.deepEqual(small.subflows.map((x) => x.ys.length), [8, 8]);
  assert.deepEqual(small.dataAck.ys, thin(p.dataAck.ys, 7));
  assert.deepEqual(small.reinjections.ys, [278529]);
});

test('statistics: packets, bytes, goodput, reinjected bytes, RTT per subflow, out of order, duplicate Data ACKs', async () => {
  const j = summaryJson(await analyzeFile(fixture('fresh', 'loss-any.pcap')));
  const c = j.connections[0];
  assert.equal(c.stats.packets, 101);
  assert.equal(c.stats.reinjectedBytes, 16384);
  assert.equal(c.stats.clientToServer.deliveredBytes, 409600);
  assert.equal(c.stats.clientToServer.outOfOrderSegments, 1);
  assert.equal(c.stats.serverToClient.deliveredBytes, 9, 'the server answers "ok 409600"');
  assert.ok(c.stats.clientToServer.goodputBytesPerSecond! > 0);
  assert.ok(c.stats.clientToServer.duplicateDataAcks >= 0);
  const sf0 = c.subflows[0];
  assert.ok(sf0.rtt && sf0.rtt.samples > 5 && sf0.rtt.minMs > 0 && sf0.rtt.minMs <= sf0.rtt.meanMs && sf0.rtt.meanMs <= sf0.rtt.maxMs);
  assert.equal(c.subflows[2].rtt, null, 'no data, no RTT sample');
  // per subflow: the reinjected segment travelled on subflow 0 (frame 80)
  assert.deepEqual(c.subflows.map((s) => s.reinjectedBytes), [16384, 0, 0]);
  assert.ok(c.subflows[1].goodputBytesPerSecond! > 0 && c.subflows[1].duration > 0);
  assert.equal(c.subflows[1].bytes, 131072);
});

test('multi.pcap: a ladder, a timeline and a plot for each of the three connections', async () => {
  const s = await viewerSession(fixture('kernel', 'multi.pcap'));
  assert.equal(s.diagrams.length, 3);
  for (const c of [0, 1, 2]) {
    const v = s.viz(c)!;
    assert.equal(v.ladder.connection, c);
    const capable = v.ladder.arrows.filter((a) => a.label.startsWith('MP_CAPABLE'));
    assert.deepEqual(capable.map((a) => a.label), ['MP_CAPABLE SYN', 'MP_CAPABLE SYN/ACK', 'MP_CAPABLE ACK', 'MP_CAPABLE ACK+data']);
    // the ladder's keys are the connection's
    const info = s.connections.get(c)!;
    assert.ok(capable[1].detail.includes(`token ${info.server.token}`));
    assert.equal(v.timeline.bars.length, info.subflows.length);
    const data = [...Array(s.index.count).keys()].filter((i) => s.index.get('conn', i) === c && s.index.get('side', i) === 0 && s.index.get('payload', i) > 0);
    assert.equal(v.plot.subflows.reduce((n, x) => n + x.xs.length, 0), data.length);
  }
});

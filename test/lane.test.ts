// The tracker's repeat lane (Tracker.repeatLane): packets that bring nothing new, worked out from
// their bytes without decoding them. On every real capture, a tracker that lets the lane take what
// it can must end in the same state, and give every packet the same facts, as one that decodes every
// packet; every packet the lane takes must be one the checker calls quiet; and the checker's
// findings must not change.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as fs from 'node:fs';
import * as zlib from 'node:zlib';
import { BufferSource } from '../src/capture/source.ts';
import { scanCapture } from '../src/capture/reader.ts';
import { checkCapture } from '../src/analyze.ts';
import { isQuiet, quietFacts } from '../src/check/checker.ts';
import { DEFAULT_LIMITS, Tracker } from '../src/mptcp/tracker.ts';
import type { PacketFacts, TcpStream } from '../src/mptcp/model.ts';
import { connectionJson } from '../src/format/summary.ts';
import { decodeFrame, LazyFrame, type DecodedFrame } from '../src/wire/packet.ts';
import type { CaptureRecord } from '../src/capture/types.ts';
import { captureFixtures, fixture } from './fixtures.ts';
import { rewriteFrame } from './helpers.ts';

const bytesOf = (file: string): Buffer => (file.endsWith('.gz') ? zlib.gunzipSync(fs.readFileSync(file)) : fs.readFileSync(file));

/** what a packet's facts say, as plain values (the options by kind, the mapping by its frame) */
function factsView(x: PacketFacts) {
  return {
    stream: x.stream?.id, dir: x.dir, conn: x.conn?.id, side: x.side, options: x.options.map((o) => o.kind),
    checksums: x.checksumResults.length, mapping: x.mapping?.frame, offset: x.mappingOffset, mappingFrame: x.mappingFrame,
    dataAck: x.dataAck, mappingDsn: x.mappingDsn, dsn: x.dsn, reinjectionOf: x.reinjectionOf, repeated: x.repeatedDss?.option.offset,
    checksumCut: x.checksumCut?.frame, handshake: x.handshake, dataAckBelow: x.dataAckBelow,
  };
}

/** what a tracker ends with: its counts, every stream's state and every connection's summary */
function trackerView(t: Tracker) {
  const stream = (s: TcpStream) => ({
    id: s.id, packets: s.packets, bytes: s.bytes, lastFrame: s.lastFrame, lastTime: s.lastTime, lastMptcpFrame: s.lastMptcpFrame,
    rtt: s.rtt, inflight: s.inflight && [...s.inflight.v], dataAckMax: s.dataAckMax, dataAckMaxSeen: s.dataAckMaxSeen,
    reinjectedBytes: s.reinjectedBytes, mappings: s.mappings.map((l) => l.map((m) => [m.frame, m.covered, m.verified?.ok])),
    dssSeen: s.dssSeen, dssCache: s.dssCache?.map((x) => x && [x.offset, x.length, [...x.words], x.dataAck, x.mappingDsn, x.ackRises, x.ackBelow]),
  });
  return {
    packets: t.packets, tcp: t.tcpPackets, streams: t.streams.map(stream),
    connections: t.connections.map((c) => ({ json: JSON.stringify(connectionJson(c)), lastFrame: c.lastFrame, sentRanges: c.sentRanges, sentHigh: c.sentHigh })),
  };
}

interface Taken { frame: number; data: boolean; quiet: boolean; repeated: boolean; dir: number }

/**
 * Both trackers over one capture, side by side; the packets the lane took. `inPlace`: the lane
 * reads a classic pcap's records where they lie in the reader's buffer (ScanOptions.take), as the
 * analysis does; else from each record's own view (other formats, standard input).
 */
function sideBySide(name: string, bytes: Buffer, inPlace = true): Taken[] {
  const lane = new Tracker(DEFAULT_LIMITS);
  const plain = new Tracker(DEFAULT_LIMITS);
  const took: Taken[] = [];
  const both = (rec: CaptureRecord, data: Uint8Array, buffer: Uint8Array, at: number) => {
    const f = decodeFrame(rec, data, false);
    const expected = plain.process(f, data);
    const repeated = lane.repeatLane(rec, buffer, at, at + rec.caplen);
    const got = repeated ?? lane.process(decodeFrame(rec, data, false), data);
    assert.deepEqual(factsView(got), factsView(expected), `${name}: frame ${rec.frame}'s facts differ`);
    if (repeated) {
      const quiet = quietFacts(repeated);
      took.push({ frame: rec.frame, data: f.tcp!.payloadLength > 0, quiet, repeated: repeated.repeatedDss !== undefined, dir: repeated.dir });
      // its facts alone tell whether the checker, from the decoded frame, finds it quiet
      assert.equal(quiet, isQuiet(f, expected), `${name}: frame ${rec.frame} of the lane is ${quiet ? '' : 'not '}quiet by its facts, and the other way by its frame`);
    }
  };
  const take = (rec: CaptureRecord, buffer: Uint8Array, at: number) => {
    both(rec, new Uint8Array(buffer.buffer, buffer.byteOffset + at, rec.caplen), buffer, at);
    return true;
  };
  scanCapture(new BufferSource(name, bytes), (rec, data) => both(rec, data, data, 0), inPlace ? { take } : {});
  assert.deepEqual(trackerView(lane), trackerView(plain), `${name}: the trackers end in different states`);
  return took;
}

const counts = (l: Taken[]) => ({ taken: l.length, repeats: l.filter((x) => x.repeated).length, quiet: l.filter((x) => x.quiet).length, data: l.filter((x) => x.data).length });

const CAPTURES = [...captureFixtures(), fixture('fresh', 'basic-3500k-snap128.pcap.gz'), fixture('fresh', 'many-1000.pcap.gz')];

test('the repeat lane: the same facts and the same end state as decoding every packet, on every real capture', () => {
  const took = new Map<string, Taken[]>();
  for (const file of CAPTURES) {
    const name = file.slice(file.indexOf('fixtures/') + 9);
    took.set(name, sideBySide(file, bytesOf(file)));
    // from each record's own view: the same
    assert.deepEqual(sideBySide(file, bytesOf(file), false), took.get(name), name);
  }
  const count = (f: string) => took.get(f)!.length;
  // transfers without offloads (snaplen 128): most data segments repeat their DSS, the others and
  // most ACKs carry a new mapping or Data ACK (those with a new mapping are not quiet)
  assert.deepEqual(counts(took.get('fresh/basic-3500k-snap128.pcap.gz')!), { taken: 5120, repeats: 2383, quiet: 4899, data: 2569 });
  assert.deepEqual(counts(took.get('fresh/basic-nooffload-snap128.pcap')!), { taken: 313, repeats: 161, quiet: 293, data: 152 });
  // a thousand connections at once: most packets' streams are found by their port pair, not among
  // the last two
  assert.deepEqual(counts(took.get('fresh/many-1000.pcap.gz')!), { taken: 21286, repeats: 5409, quiet: 13883, data: 2750 });
  // Linux cooked capture (any interface); pcapng; MPTCP v0 (32-bit Data ACKs, widened)
  assert.equal(count('fresh/loss-any.pcap'), 81);
  assert.equal(count('fresh/multi-pcapng.pcapng'), 266);
  assert.deepEqual(counts(took.get('tcpdump/mptcp-v0.pcap')!), { taken: 252, repeats: 0, quiet: 100, data: 150 });
  // checksums negotiated: a repeated mapping is judged again (checksum-missing), so no data segment
  // of the lane is quiet (it is decoded for the checker after all)
  for (const f of ['fresh/checksum-ether.pcap', 'fresh/checksum-snap128.pcap', 'kernel/checksum.pcap']) {
    const data = took.get(f)!.filter((x) => x.data);
    assert.ok(data.length > 0, f);
    assert.deepEqual(data.filter((x) => x.quiet), [], `${f}: a quiet data segment where checksums were negotiated`);
  }
  // IPv6 (the kernel's capture; pcapng)
  assert.deepEqual(counts(took.get('kernel/ipv6.pcap')!), { taken: 35, repeats: 7, quiet: 22, data: 12 });
  assert.deepEqual(counts(took.get('fresh/ipv6-pcapng.pcapng')!), { taken: 68, repeats: 5, quiet: 38, data: 28 });
});

test('the checker with the repeat lane: the same findings as with every packet decoded', async () => {
  for (const file of CAPTURES) {
    const bytes = bytesOf(file);
    const name = file.slice(file.indexOf('fixtures/') + 9);
    const withLane = await checkCapture({ bytes, name }, {});
    // a packet listener turns the lane off: every packet is decoded and goes to it
    const decoded = await checkCapture({ bytes, name }, {}, { onPacket: () => {} });
    assert.deepEqual(withLane.findings, decoded.findings, `${name}: the lane changed the findings`);
    assert.deepEqual([...withLane.suppressed], [...decoded.suppressed], `${name}: the lane changed the suppressed counts`);
    assert.equal(withLane.tracker.packets, decoded.tracker.packets);
  }
});

test('the repeat lane leaves to the decoder a packet with a FIN, with a DSS whose length does not fit its flags, or with an MP_PRIO too; a DSS changed by one byte is new to it', async () => {
  const file = fixture('fresh', 'basic-nooffload-snap128.pcap');
  const taken = sideBySide(file, bytesOf(file)).filter((x) => x.data && x.repeated);
  const [fin, changed, prio, flags] = [taken[10].frame, taken[20].frame, taken[30].frame, taken[40].frame];
  let edited = await rewriteFrame(file, fin, (b, f) => { b[f.tcp!.offset + 13] |= 0x01; });
  edited = await rewriteFrame(edited, changed, (b, f) => { const o = f.tcp!.mptcpOptions[0]; b[o.offset + o.length - 1] ^= 0x01; });
  // the timestamp option (with its two NOPs) made an MP_PRIO and NOPs: two MPTCP options
  edited = await rewriteFrame(edited, prio, (b, f) => {
    const o = f.tcp!.offset + 20;
    assert.deepEqual([...b.subarray(o, o + 4)], [1, 1, 8, 10]);
    b.set([30, 3, 0x50, 1, 1, 1, 1, 1, 1, 1, 1, 1], o);
  });
  // the mapping flag taken off: the DSS is too long for its flags (a length problem)
  edited = await rewriteFrame(edited, flags, (b, f) => { const o = f.tcp!.mptcpOptions[0]; assert.ok(b[o.offset + 3] & 0x04); b[o.offset + 3] &= ~0x04; });
  const took = new Map(sideBySide('edited', edited).map((x) => [x.frame, x]));
  assert.ok(!took.has(fin), `frame ${fin} with a FIN was taken`);
  assert.ok(!took.has(prio), `frame ${prio} with an MP_PRIO was taken`);
  assert.ok(!took.has(flags), `frame ${flags} with a DSS too long for its flags was taken`);
  assert.equal(took.get(changed)?.repeated, false, `frame ${changed}: its DSS is no repeat now`);
  assert.ok(took.size > 250, `${took.size} taken`);
});

/** The viewer's analysis of a capture: every index row's columns, its findings and connections. */
async function viewerRows(bytes: Buffer, repeatLane: boolean) {
  const { analyzeForViewer } = await import('../src/viewer/analyze.ts');
  const { COLUMNS } = await import('../src/viewer/index.ts');
  const cols = Object.fromEntries(Object.keys(COLUMNS).map((k) => [k, [] as number[]])) as Record<string, number[]>;
  const r = await analyzeForViewer({ bytes, name: 'x' }, { repeatLane, onChunk: (c, n) => { for (const k of Object.keys(cols)) cols[k].push(...Array.from((c as unknown as Record<string, ArrayLike<number>>)[k]).slice(0, n)); } });
  return { cols, findings: r.findings, connections: r.connections, packets: r.packets };
}

test('a lane packet that is not quiet comes to the checker undecoded (LazyFrame): no rule reads its headers, and read, they are decodeFrame\'s', async () => {
  const fields = (f: DecodedFrame) => ({
    frame: f.frame, tsSec: f.tsSec, tsNsec: f.tsNsec, caplen: f.caplen, origlen: f.origlen, dataOffset: f.dataOffset, linkType: f.linkType,
    interfaceId: f.interfaceId, ipVersion: f.ipVersion, src: f.src, dst: f.dst, ipOffset: f.ipOffset, nonFirstFragment: f.nonFirstFragment,
    tcp: f.tcp, truncated: f.truncated, problems: f.problems,
  });
  const seen = new Map<string, { lane: number; decoded: number }>();
  for (const name of ['fresh/basic-3500k-snap128.pcap.gz', 'fresh/many-1000.pcap.gz', 'kernel/ipv6.pcap', 'tcpdump/mptcp-v0.pcap']) {
    const n = { lane: 0, decoded: 0 };
    seen.set(name, n);
    // a listener of packets with one of repeats too keeps the lane on (checkCapture); it is called
    // after the checker, so a frame decoded by then was decoded for a rule
    await checkCapture({ bytes: bytesOf(fixture(...(name.split('/') as [string, string]))), name }, {}, {
      onRepeat: () => true,
      onPacket: (f, facts, data, lane) => {
        if (!lane) return;
        n.lane++;
        assert.ok(f instanceof LazyFrame, `${name}: frame ${f.frame}`);
        if ((f as unknown as { full?: DecodedFrame }).full !== undefined) n.decoded++;
        assert.deepEqual(fields(f), fields(decodeFrame(f, data, false)), `${name}: frame ${f.frame}`);
      },
    });
  }
  // the new mappings (and v0's Data ACKs, not quiet) of the lane: none decoded
  assert.deepEqual(Object.fromEntries(seen), {
    'fresh/basic-3500k-snap128.pcap.gz': { lane: 221, decoded: 0 },
    'fresh/many-1000.pcap.gz': { lane: 7403, decoded: 0 },
    'kernel/ipv6.pcap': { lane: 13, decoded: 0 },
    'tcpdump/mptcp-v0.pcap': { lane: 152, decoded: 0 },
  });
});

test('the viewer\'s index with the repeat lane: every row the same as with every packet decoded', async () => {
  const rows = (file: string, repeatLane: boolean) => viewerRows(bytesOf(file), repeatLane);
  let compared = 0;
  for (const file of CAPTURES) {
    const [lane, decoded] = [await rows(file, true), await rows(file, false)];
    assert.deepEqual(lane, decoded, file);
    assert.equal(lane.cols.offset.length, lane.packets);
    compared += lane.packets;
  }
  assert.ok(compared > 30_000, `${compared} rows compared`);
});

test('the repeat lane leaves to the decoder an IPv6 packet with an extension header, or of another destination', async () => {
  const file = fixture('kernel', 'ipv6.pcap');
  const taken = sideBySide(file, bytesOf(file));
  const ext = taken[5].frame;
  // one packet each way of its stream
  const elsewhere = [taken.find((x) => x.frame > ext && x.dir === 0)!.frame, taken.find((x) => x.frame > ext && x.dir === 1)!.frame];
  // the next header made hop-by-hop options: not TCP directly
  let edited = await rewriteFrame(file, ext, (b, f) => { assert.equal(f.ipVersion, 6); assert.equal(b[f.ipOffset + 6], 6); b[f.ipOffset + 6] = 0; });
  // the destination's last byte changed: the same ports and source, another stream
  for (const frame of elsewhere) edited = await rewriteFrame(edited, frame, (b, f) => { b[f.ipOffset + 39] ^= 0x01; });
  const took = sideBySide('edited', edited).map((x) => x.frame);
  assert.ok(!took.includes(ext), `frame ${ext} with an extension header was taken`);
  for (const frame of elsewhere) assert.ok(!took.includes(frame), `frame ${frame} to another address was taken`);
  assert.ok(took.length > 25, `${took.length} taken`);
});

/** A classic pcap of Ethernet frames with 802.1Q/802.1ad tags (TPID, tag) put after each frame's MAC addresses. */
function withVlanTags(pcap: Buffer, tags: Array<[number, number]>): Buffer {
  const le = pcap.readUInt32LE(0) === 0xa1b2c3d4 || pcap.readUInt32LE(0) === 0xa1b23c4d;
  const u32 = (b: Buffer, o: number) => (le ? b.readUInt32LE(o) : b.readUInt32BE(o));
  assert.equal(u32(pcap, 20) & 0xffff, 1, 'Ethernet');
  const tagBytes = Buffer.alloc(4 * tags.length);
  tags.forEach(([tpid, tci], i) => { tagBytes.writeUInt16BE(tpid, 4 * i); tagBytes.writeUInt16BE(tci, 4 * i + 2); });
  const parts: Buffer[] = [pcap.subarray(0, 24)];
  for (let pos = 24; pos + 16 <= pcap.length;) {
    const caplen = u32(pcap, pos + 8);
    const head = Buffer.from(pcap.subarray(pos, pos + 16));
    const put = (v: number, o: number) => (le ? head.writeUInt32LE(v, o) : head.writeUInt32BE(v, o));
    put(caplen + tagBytes.length, 8);
    put(u32(pcap, pos + 12) + tagBytes.length, 12);
    const frame = pcap.subarray(pos + 16, pos + 16 + caplen);
    parts.push(head, frame.subarray(0, 12), tagBytes, frame.subarray(12));
    pos += 16 + caplen;
  }
  return Buffer.concat(parts);
}

test('the repeat lane takes Ethernet frames with VLAN tags (802.1Q, and 802.1ad with 802.1Q inside) as the dissector reads them', async () => {
  for (const name of ['basic-ether.pcap', 'checksum-ether.pcap']) {
    const file = fixture('fresh', name);
    const plain = bytesOf(file);
    const untagged = sideBySide(name, plain);
    const plainCheck = await checkCapture({ bytes: plain, name }, {});
    for (const tags of [[[0x8100, 10]], [[0x88a8, 100], [0x8100, 10]]] as Array<Array<[number, number]>>) {
      const tagged = withVlanTags(plain, tags);
      assert.equal(tagged.length, plain.length + 4 * tags.length * plainCheck.scan.packets);
      // side by side with decoding (sideBySide asserts the facts and the end state): the same packets taken
      const took = sideBySide(`${name} tagged`, tagged);
      assert.deepEqual(took, untagged, `${name} with ${tags.length} tag(s)`);
      assert.ok(took.length > 20, `${took.length} taken`);
      // and the checker says the same of it
      const r = await checkCapture({ bytes: tagged, name }, {});
      assert.deepEqual(r.findings, plainCheck.findings, name);
      // the viewer's index: every row as with every packet decoded
      assert.deepEqual(await viewerRows(tagged, true), await viewerRows(tagged, false), `${name}: the viewer's rows`);
    }
  }
});

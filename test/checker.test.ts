// Each rule on real captures: the clean capture, and the same capture with the offending bytes
// rewritten. Each test asserts the rule id and the frame, and what else fires at error level.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { test } from 'node:test';
import { analyzeBytes, type CheckedCapture } from '../src/analyze.ts';
import type { Finding } from '../src/check/types.ts';
import type { DecodedFrame } from '../src/wire/packet.ts';
import { captureFixtures, fixture } from './fixtures.ts';
import { check, dropFrames, duplicateFrame, optionOffset, rewriteFrame } from './helpers.ts';
import { PerKey } from '../src/check/util.ts';

const BASIC = fixture('kernel', 'basic.pcap');

const of = (r: CheckedCapture, rule: string) => r.findings.filter((f) => f.rule === rule);
const errors = (r: CheckedCapture) => r.findings.filter((f) => f.severity === 'error');

/** The rule fired at that frame; returns the finding. */
function fired(r: CheckedCapture, rule: string, frame: number): Finding {
  const f = of(r, rule).find((x) => x.frame === frame);
  assert.ok(f, `${rule} at frame ${frame}; got ${r.findings.map((x) => `${x.rule}@${x.frame}`).join(', ') || 'nothing'}`);
  return f;
}

/** Nothing at error level but these rules. */
function onlyErrors(r: CheckedCapture, ...rules: string[]): void {
  const other = errors(r).filter((f) => !rules.includes(f.rule));
  assert.deepEqual(other.map((f) => `${f.rule}@${f.frame}: ${f.message}`), []);
}

const flip = (b: Buffer, at: number) => { b[at] ^= 0x01; };

test('clean real captures: no error-severity finding in any fixture', async () => {
  // mptcp-dss-oobr.pcap is tcpdump's deliberately malformed sample (tested under option-length)
  for (const file of captureFixtures().filter((f) => !f.endsWith('mptcp-dss-oobr.pcap'))) {
    const r = await check(path.basename(file), fs.readFileSync(file));
    assert.deepEqual(errors(r).map((f) => `${path.basename(file)} ${f.rule}@${f.frame}: ${f.message}`), []);
  }
});

test('capable-key-mismatch: the third ACK echoes a key the server never sent (v1)', async () => {
  const r = await check('x', await rewriteFrame(BASIC, 3, (b, f) => flip(b, optionOffset(f, b, 0) + 12 + 7)));
  const f = fired(r, 'capable-key-mismatch', 3);
  assert.equal(f.severity, 'error');
  assert.deepEqual(f.relatedFrames, [2]);
  assert.match(f.message, /the echoed server key in the third ACK is 0x8c08771553a46fbc, but the server sent 0x8c08771553a46fbd in its SYN\/ACK \(frame 2\)/);
  assert.deepEqual(f.rfc, { doc: 'RFC 8684', section: '3.1', url: 'https://www.rfc-editor.org/rfc/rfc8684#section-3.1' });
  onlyErrors(r, 'capable-key-mismatch');
});

test('capable-key-mismatch: v0 third ACK repeats another client key than its SYN (cites RFC 6824)', async () => {
  const r = await check('x', await rewriteFrame(fixture('tcpdump', 'mptcp-v0.pcap'), 3, (b, f) => flip(b, optionOffset(f, b, 0) + 4)));
  const f = fired(r, 'capable-key-mismatch', 3);
  assert.deepEqual(f.relatedFrames, [1]);
  assert.equal(f.rfc.doc, 'RFC 6824');
  assert.equal(f.rfc.url, 'https://www.rfc-editor.org/rfc/rfc6824#section-3.1');
  onlyErrors(r, 'capable-key-mismatch');
});

test('capable-key-changed: a retransmitted SYN/ACK with another key', async () => {
  const r = await check('x', await duplicateFrame(BASIC, 2, (b, f) => flip(b, optionOffset(f, b, 0) + 5)));
  const f = fired(r, 'capable-key-changed', 3);
  assert.equal(f.severity, 'warning');
  assert.deepEqual(f.relatedFrames, [2]);
  onlyErrors(r);
});

test('capable-version-mismatch: the third ACK says version 0 after a v1 exchange', async () => {
  const r = await check('x', await rewriteFrame(fixture('tcpdump', 'mptcp-v1.pcap'), 3, (b, f) => { b[optionOffset(f, b, 0) + 2] = 0x00; }));
  const f = fired(r, 'capable-version-mismatch', 3);
  assert.equal(f.severity, 'warning');
  assert.match(f.message, /carries version 0, but version 1 was negotiated/);
});

test('capable-version-mismatch: a downgrade both peers agree on is info', async () => {
  let bytes = await rewriteFrame(fixture('tcpdump', 'mptcp-v0.pcap'), 1, (b, f) => { b[optionOffset(f, b, 0) + 2] = 0x01; });
  fs.writeFileSync('/tmp/.lens-downgrade.pcap', bytes);
  const r = await check('x', bytes);
  const f = fired(r, 'capable-version-mismatch', 2);
  assert.equal(f.severity, 'info');
  assert.match(f.message, /the SYN offered version 1, the SYN\/ACK answered version 0; the client agreed/);
  fs.rmSync('/tmp/.lens-downgrade.pcap');
  bytes = Buffer.alloc(0);
});

test('capable-algorithm: no algorithm bit, only unknown bits, and two bits in a SYN/ACK', async () => {
  const none = await check('x', await rewriteFrame(BASIC, 1, (b, f) => { b[optionOffset(f, b, 0) + 3] = 0x00; }));
  assert.match(fired(none, 'capable-algorithm', 1).message, /select no HMAC algorithm/);
  const unknown = await check('x', await rewriteFrame(BASIC, 1, (b, f) => { b[optionOffset(f, b, 0) + 3] = 0x02; }));
  assert.match(fired(unknown, 'capable-algorithm', 1).message, /only unknown algorithm bits/);
  const two = await check('x', await rewriteFrame(BASIC, 2, (b, f) => { b[optionOffset(f, b, 0) + 3] = 0x03; }));
  assert.match(fired(two, 'capable-algorithm', 2).message, /select exactly one algorithm/);
  // the v1 C flag is not an algorithm bit
  const c = await check('x', await rewriteFrame(BASIC, 2, (b, f) => { b[optionOffset(f, b, 0) + 3] = 0x21; }));
  assert.deepEqual(of(c, 'capable-algorithm'), []);
  onlyErrors(c);
});

test('capable-fallback: SYN/ACK without MP_CAPABLE (real), and a third ACK without it', async () => {
  const real = await check('fallback.pcap', fs.readFileSync(fixture('kernel', 'fallback.pcap')));
  const f = fired(real, 'capable-fallback', 2);
  assert.equal(f.severity, 'info');
  assert.deepEqual(f.relatedFrames, [1]);
  // turn the third ACK's MP_CAPABLE into an unknown TCP option kind
  const r = await check('x', await rewriteFrame(fixture('tcpdump', 'mptcp-v1.pcap'), 3, (b, f2) => { b[optionOffset(f2, b, 0)] = 253; }));
  assert.match(fired(r, 'capable-fallback', 3).message, /third ACK carries no MP_CAPABLE/);
});

test('capable-fallback: the third ACK missing, the client\'s next segment a quiet Data ACK is judged in its place', async () => {
  // mptcp-v1.pcap without frames 3 and 4 (the third ACK and MP_CAPABLE with data): the client's next
  // segment (frame 6, now 4) carries only a Data ACK, the kind of packet rules may skip as quiet
  const r = await check('x', await dropFrames(fixture('tcpdump', 'mptcp-v1.pcap'), [3, 4]));
  assert.deepEqual(of(r, 'capable-fallback').map((f) => [f.frame, f.relatedFrames]), [[4, [2]]]);
  assert.match(fired(r, 'capable-fallback', 4).message, /third ACK carries no MP_CAPABLE/);
});

test('infinite-mapping and capable-fallback: a DSS mapping of length 0', async () => {
  // frame 20: DSS with a 16384-byte mapping; its data-level length is the 2 bytes after the subflow sequence number
  const r = await check('x', await rewriteFrame(BASIC, 20, (b, f) => {
    const o = optionOffset(f, b, 2);
    const lenAt = o + b[o + 1] - 2;
    b.writeUInt16BE(0, lenAt);
  }));
  const f = fired(r, 'infinite-mapping', 20);
  assert.equal(f.severity, 'warning');
  assert.equal(fired(r, 'capable-fallback', 20).severity, 'info');
});

test('infinite-mapping: repeated on the segments it covers, each repeat reported (not skipped as a quiet packet)', async () => {
  // frame 8 repeats frame 6's DSS byte for byte (the 16384-byte mapping, carried by both segments):
  // both made infinite mappings, so frame 8 stays the repeat of frame 6
  const zero = (b: Buffer, f: DecodedFrame) => { const o = optionOffset(f, b, 2); b.writeUInt16BE(0, o + b[o + 1] - 2); };
  const r = await check('x', await rewriteFrame(await rewriteFrame(BASIC, 6, zero), 8, zero));
  assert.deepEqual(of(r, 'infinite-mapping').map((f) => f.frame), [6, 8]);
  assert.match(fired(r, 'infinite-mapping', 8).message, /^infinite mapping from DSN 5107332602210220745 \(data-level length 0\)/);
  assert.deepEqual(of(r, 'capable-fallback').map((f) => f.frame), [6]);
});

test('frames missing anywhere (each of basic.pcap\'s, multi.pcap\'s and mptcp-v1.pcap\'s in turn, and two at a time): skipping quiet packets changes no finding', async () => {
  // what the rules need from quiet packets (the third ACK, a join's answer, Data ACKs below the mark
  // or beyond what was sent) must hold however the handshakes and transfers are cut short
  const seen = new Map<string, number>();
  for (const file of [BASIC, fixture('kernel', 'multi.pcap'), fixture('tcpdump', 'mptcp-v1.pcap')]) {
    const frames = (await check('whole', fs.readFileSync(file))).scan.packets;
    for (let n = 1; n <= frames; n++) {
      for (const drop of n < frames ? [[n], [n, n + 1]] : [[n]]) {
        const r = await check(`${path.basename(file)} without frames ${drop.join(', ')}`, await dropFrames(file, drop));
        for (const f of r.findings) seen.set(f.rule, (seen.get(f.rule) ?? 0) + 1);
      }
    }
  }
  // the rules that skip quiet packets since they were given what they need from the tracker were put to work
  for (const rule of ['capable-fallback', 'join-incomplete', 'add-addr-not-echoed']) assert.ok((seen.get(rule) ?? 0) > 0, `${rule} never fired`);
});

test('token-collision: two connections derive the same token', async () => {
  // multi.pcap: give connection 1's server the key of connection 0's server, wherever it appears
  const file = fixture('kernel', 'multi.pcap');
  const clean = await check('multi', fs.readFileSync(file));
  const k0 = clean.tracker.connections[0].keys[1]!;
  const k1 = clean.tracker.connections[1].keys[1]!;
  const bytes = Buffer.from(fs.readFileSync(file));
  const from = Buffer.alloc(8); from.writeBigUInt64BE(k1);
  const to = Buffer.alloc(8); to.writeBigUInt64BE(k0);
  let at = bytes.indexOf(from);
  let n = 0;
  while (at >= 0) { to.copy(bytes, at); n++; at = bytes.indexOf(from, at + 8); }
  assert.ok(n >= 2);
  const r = await check('x', bytes);
  const f = of(r, 'token-collision')[0];
  assert.ok(f, 'token-collision fires');
  assert.equal(f.severity, 'warning');
  assert.match(f.message, /is derived by connections 0 and 1/);
});

test('checksum-missing: a mapping without checksum after A was negotiated', async () => {
  // frame 14 of checksum.pcap: shorten the DSS by its 2 checksum bytes and pad with NOPs
  const r = await check('x', await rewriteFrame(fixture('kernel', 'checksum.pcap'), 6, (b, f) => {
    const o = optionOffset(f, b, 2);
    const len = b[o + 1];
    b[o + 1] = len - 2;
    b[o + len - 2] = 1;
    b[o + len - 1] = 1;
  }));
  const f = fired(r, 'checksum-missing', 6);
  assert.match(f.message, /carries no checksum, though checksums were negotiated \(A flag in frame 1\)/);
  onlyErrors(r, 'checksum-missing');
});

test('checksum-missing: a mapping repeated on the segments it covers, each repeat reported (not skipped as a quiet packet)', async () => {
  // checksum-snap128.pcap: frames 16 and 18 repeat frame 14's DSS (one mapping over three segments,
  // its data cut by the snaplen: no checksum result makes them stand out); all three lose the checksum
  const strip = (b: Buffer, f: DecodedFrame) => {
    const o = optionOffset(f, b, 2);
    const len = b[o + 1];
    b[o + 1] = len - 2;
    b[o + len - 2] = 1;
    b[o + len - 1] = 1;
  };
  let bytes: Buffer = fs.readFileSync(fixture('fresh', 'checksum-snap128.pcap'));
  for (const n of [14, 16, 18]) bytes = await rewriteFrame(bytes, n, strip);
  const r = await check('x', bytes);
  assert.deepEqual(of(r, 'checksum-missing').map((f) => f.frame), [14, 16, 18]);
  assert.equal(r.tracker.connections[0].checksumRequired, true);
});

test('join-unknown-token: an MP_JOIN SYN names a token no key derives', async () => {
  const r = await check('x', await rewriteFrame(BASIC, 12, (b, f) => flip(b, optionOffset(f, b, 1) + 4)));
  const f = fired(r, 'join-unknown-token', 12);
  assert.equal(f.severity, 'warning');
  assert.match(f.message, /names token 0xab792fcf, which no MP_CAPABLE key in the capture derives/);
  onlyErrors(r);
});

test('join-hmac-synack and join-hmac-ack: one flipped bit each', async () => {
  const a = await check('x', await rewriteFrame(BASIC, 13, (b, f) => flip(b, optionOffset(f, b, 1) + 11)));
  const fa = fired(a, 'join-hmac-synack', 13);
  assert.match(fa.message, /truncated HMAC is 0x23aa0f53ed7a8c4e; HMAC-SHA256\(Key-B‖Key-A, R-B‖R-A\) gives 0x23aa0f53ed7a8c4f/);
  assert.deepEqual(fa.relatedFrames, [2, 3, 12], 'the frames with the keys, and the SYN with R-A');
  onlyErrors(a, 'join-hmac-synack');
  const b = await check('x', await rewriteFrame(BASIC, 14, (bb, f) => flip(bb, optionOffset(f, bb, 1) + 23)));
  assert.match(fired(b, 'join-hmac-ack', 14).message, /third ACK's HMAC is 7dfcbf9080b4c61c5d6bb117b05b8fc08ec4ccd8; .* gives 7dfcbf9080b4c61c5d6bb117b05b8fc08ec4ccd9/);
  onlyErrors(b, 'join-hmac-ack');
});

test('join-incomplete: a SYN/ACK never followed by the third ACK', async () => {
  const r = await check('x', await dropFrames(BASIC, [14]));
  const f = fired(r, 'join-incomplete', 13);
  assert.match(f.message, /never followed by a third ACK/);
  const r2 = await check('x', await dropFrames(BASIC, [13, 14]));
  assert.match(fired(r2, 'join-incomplete', 12).message, /never answered/);
  onlyErrors(r2);
});

test('join-rejected: the real reject capture, with the reason in words', async () => {
  const r = await check('reject', fs.readFileSync(fixture('kernel', 'reject.pcap')));
  const f = fired(r, 'join-rejected', 13);
  assert.equal(f.severity, 'info');
  assert.match(f.message, /MP_TCPRST reason 3 \(administratively prohibited\)/);
  assert.equal(f.rfc.section, '3.6');
});

test('address-id-conflict: one address ID for two addresses', async () => {
  // frame 16: the second join from 10.0.2.1 says address ID 0, which names 10.0.1.1
  const r = await check('x', await rewriteFrame(BASIC, 16, (b, f) => { b[optionOffset(f, b, 1) + 3] = 0; }));
  const f = fired(r, 'address-id-conflict', 16);
  assert.match(f.message, /the client uses address ID 0 for 10.0.2.1, but ID 0 already names 10.0.1.1 \(frame 1\)/);
  onlyErrors(r);
});

test('c-flag-violated: a join to the source address of a peer that set C', async () => {
  const r = await check('x', await rewriteFrame(BASIC, 2, (b, f) => { b[optionOffset(f, b, 0) + 3] = 0x21; }));
  const f = fired(r, 'c-flag-violated', 16);
  assert.match(f.message, /MP_JOIN to 10.0.1.2:5201, though the server set the C flag .* in frame 2/);
  assert.equal(of(r, 'c-flag-violated').length, 1, 'the join to the other address is fine');
  onlyErrors(r);
});

test('dss-checksum: one payload byte changed in a mapping that spans two segments', async () => {
  const file = fixture('kernel', 'checksum.pcap');
  const clean = await check('clean', fs.readFileSync(file));
  assert.deepEqual(of(clean, 'dss-checksum'), []);
  const r = await check('x', await rewriteFrame(file, 8, (b, f) => flip(b, f.tcp!.payloadOffset + 100)));
  // the mapping starts in frame 4 (MP_CAPABLE with data, repeated by frame 6's DSS) and ends in frame 8
  const f = fired(r, 'dss-checksum', 4);
  assert.deepEqual(f.relatedFrames, [8]);
  assert.match(f.message, /DSS checksum 0x[0-9a-f]{4} does not match the 16384 mapped bytes/);
  onlyErrors(r, 'dss-checksum');
});

test('mapping-conflict: the same subflow bytes mapped to another DSN', async () => {
  // frame 8 repeats frame 6's mapping; move its DSN by one
  const r = await check('x', await rewriteFrame(BASIC, 8, (b, f) => {
    const o = optionOffset(f, b, 2);
    const dsnAt = o + 4 + 4; // after the 4-byte Data ACK (flags 0x0d)
    b.writeBigUInt64BE(b.readBigUInt64BE(dsnAt) + 1n, dsnAt);
  }));
  const f = fired(r, 'mapping-conflict', 8);
  assert.deepEqual(f.relatedFrames, [4]);
  onlyErrors(r, 'mapping-conflict');
});

test('mapping-conflict: mappings moved back over a run of mappings in order', async () => {
  // 3.5 MB in 16 KiB mappings on one subflow: each new mapping starts where the one before ended,
  // and the segments after a mapping's first repeat its DSS
  const bytes = zlib.gunzipSync(fs.readFileSync(fixture('fresh', 'basic-3500k-snap128.pcap.gz')));
  const added: Array<{ frame: number; ssn: number; dsn: bigint; frames: number[] }> = [];
  await analyzeBytes('x', bytes, {
    onPacket: (f, facts) => {
      if (facts.stream?.id !== 0 || facts.dir !== 0) return;
      const m = facts.stream.mappings[0].at(-1);
      if (m && m.frame === f.frame) added.push({ frame: m.frame, ssn: m.ssn, dsn: m.dsn, frames: [] });
      if (facts.repeatedDss || (m && m.frame === f.frame)) added.at(-1)?.frames.push(f.frame);
    },
  });
  assert.ok(added.length > 150, `${added.length} mappings`);
  for (let i = 1; i < added.length; i++) assert.equal(added[i].ssn, added[i - 1].ssn + 16384, `mapping ${i} follows the one before`);
  /** the frames' DSS given another subflow sequence number, their DSN kept */
  const moveTo = async (capture: Buffer, frames: number[], ssn: number) => {
    for (const frame of frames) {
      capture = await rewriteFrame(capture, frame, (b, f) => {
        const o = optionOffset(f, b, 2);
        const flags = b[o + 3];
        b.writeUInt32BE(ssn, o + 4 + (flags & 0x01 ? (flags & 0x02 ? 8 : 4) : 0) + (flags & 0x08 ? 8 : 4));
      });
    }
    return capture;
  };
  // mapping 100 (every segment of it) moved onto mapping 90: 90's bytes mapped twice
  const [late, early] = [added[100], added[90]];
  assert.ok(late.frames.length > 5, `${late.frames.length} segments`);
  const r = await check('x', await moveTo(bytes, late.frames, early.ssn));
  const f = fired(r, 'mapping-conflict', late.frame);
  assert.deepEqual(f.relatedFrames, [early.frame]);
  assert.equal(f.message, `mapping of subflow bytes ${early.ssn}..${early.ssn + 16383} to DSN ${late.dsn} overlaps the mapping of frame ${early.frame}, which puts subflow byte ${early.ssn} at DSN ${early.dsn}`);
  assert.equal(r.findings.filter((x) => x.rule === 'mapping-conflict').length, 1);
  // mapping 100 moved onto 80, then the first segment of 101 onto 81: 101 starts where 100 now
  // ends, as a mapping in order does, yet overlaps 81, still kept
  const next = added[101];
  const r2 = await check('x', await moveTo(await moveTo(bytes, late.frames, added[80].ssn), [next.frame], added[81].ssn));
  assert.deepEqual(fired(r2, 'mapping-conflict', late.frame).relatedFrames, [added[80].frame]);
  assert.deepEqual(fired(r2, 'mapping-conflict', next.frame).relatedFrames, [added[81].frame]);
  // the unchanged capture: none
  assert.deepEqual((await check('clean', bytes)).findings.filter((x) => x.rule === 'mapping-conflict'), []);
});

test('data-ack-regression and data-ack-unsent', async () => {
  // frame 25 (10 ms after frame 23) acknowledges less than frame 23 did
  const back = await check('x', await rewriteFrame(BASIC, 25, (b, f) => {
    const o = optionOffset(f, b, 2);
    b.writeBigUInt64BE(b.readBigUInt64BE(o + 4) - 24000n, o + 4);
  }));
  const f = fired(back, 'data-ack-regression', 25);
  assert.equal(f.severity, 'warning');
  assert.deepEqual(f.relatedFrames, [23]);
  assert.match(f.message, /already acknowledged in frame 23, 10\.\d ms before \(by 7616 bytes\)/);
  onlyErrors(back);
  // within a millisecond of the higher one it is a burst of Linux ACKs, not a regression (frame 7, 12 µs after frame 5)
  const burst = await check('x', await rewriteFrame(BASIC, 7, (b, f2) => {
    const o = optionOffset(f2, b, 2);
    b.writeBigUInt64BE(b.readBigUInt64BE(o + 4) - 8000n, o + 4);
  }));
  assert.deepEqual(of(burst, 'data-ack-regression'), []);
  // frame 21 acknowledges a megabyte the client never sent
  const ahead = await check('x', await rewriteFrame(BASIC, 21, (b, f2) => {
    const o = optionOffset(f2, b, 2);
    b.writeBigUInt64BE(b.readBigUInt64BE(o + 4) + 1000000n, o + 4);
  }));
  const g = fired(ahead, 'data-ack-unsent', 21);
  assert.match(g.message, /the server acknowledges data up to DSN \d+, but the client mapped data only up to \d+ in the whole capture/);
  onlyErrors(ahead, 'data-ack-unsent');
});

test('data-ack-regression: a Data ACK below the mark repeated byte for byte, and the mark seen again by a repeat', async () => {
  const ackAt = (b: Buffer, f: DecodedFrame) => b.readBigUInt64BE(optionOffset(f, b, 2) + 4);
  const setAck = (v: bigint) => (b: Buffer, f: DecodedFrame) => { b.writeBigUInt64BE(v, optionOffset(f, b, 2) + 4); };
  let a23 = 0n;
  let a25 = 0n;
  await rewriteFrame(BASIC, 23, (b, f) => { a23 = ackAt(b, f); });
  await rewriteFrame(BASIC, 25, (b, f) => { a25 = ackAt(b, f); });
  const repeatedAt = async (bytes: Buffer, frame: number) => {
    let repeated = false;
    await analyzeBytes('x', bytes, { onPacket: (f, facts) => { if (f.frame === frame) repeated = facts.repeatedDss !== undefined; } });
    return repeated;
  };
  // frames 25 and 27 the same Data ACK, 7616 below frame 23's: 27 repeats 25's DSS, and is below too
  const low = await rewriteFrame(await rewriteFrame(BASIC, 25, setAck(a23 - 7616n)), 27, setAck(a23 - 7616n));
  assert.equal(await repeatedAt(low, 27), true);
  const r = await check('x', low);
  assert.deepEqual(of(r, 'data-ack-regression').map((f) => [f.frame, f.relatedFrames]), [[25, [23]], [27, [23]]]);
  assert.match(fired(r, 'data-ack-regression', 27).message, /already acknowledged in frame 23, 20\.6 ms before \(by 7616 bytes\)/);
  // frame 27 repeats frame 25's Data ACK (the mark, seen again), frame 29 is 100 below it: measured from 27
  const again = await rewriteFrame(await rewriteFrame(BASIC, 27, setAck(a25)), 29, setAck(a25 - 100n));
  assert.equal(await repeatedAt(again, 27), true);
  const r2 = await check('x', again);
  assert.deepEqual(of(r2, 'data-ack-regression').map((f) => [f.frame, f.relatedFrames]), [[29, [27]]]);
  assert.match(fired(r2, 'data-ack-regression', 29).message, /already acknowledged in frame 27, 10\.3 ms before \(by 100 bytes\)/);
});

test('data-after-data-fin: data mapped past an early DATA_FIN', async () => {
  const r = await check('x', await rewriteFrame(BASIC, 20, (b, f) => { b[optionOffset(f, b, 2) + 3] |= 0x10; }));
  const f = fired(r, 'data-after-data-fin', 24);
  assert.deepEqual(f.relatedFrames, [20]);
  assert.match(f.message, /beyond the DATA_FIN at DSN \d+ \(frame 20\)/);
});

test('add-addr-hmac: a flipped HMAC bit; add-addr-hmac-legacy: the early-Linux capture', async () => {
  const r = await check('x', await rewriteFrame(BASIC, 10, (b, f) => flip(b, optionOffset(f, b, 3) + 15)));
  assert.match(fired(r, 'add-addr-hmac', 10).message, /carries HMAC 0x6ce0cc3b3e89bd12; HMAC-SHA256 with the server's key first gives 0x6ce0cc3b3e89bd13/);
  onlyErrors(r, 'add-addr-hmac');
  const legacy = await check('aa-v1', fs.readFileSync(fixture('tcpdump', 'mptcp-aa-v1.pcap')));
  const l = fired(legacy, 'add-addr-hmac-legacy', 13);
  assert.match(l.message, /leftmost 64 bits of its HMAC \(0x669928744366716c\)/);
  assert.deepEqual(of(legacy, 'add-addr-hmac'), []);
});

test('add-addr-not-echoed and add-addr-echo-unmatched', async () => {
  const dropped = await check('x', await dropFrames(BASIC, [11]));
  assert.match(fired(dropped, 'add-addr-not-echoed', 10).message, /the client never echoes ADD_ADDR 10.0.2.2 \(ID 5\), though it sent 25 more segments/);
  onlyErrors(dropped);
  const wrong = await check('x', await rewriteFrame(BASIC, 11, (b, f) => { b[optionOffset(f, b, 3) + 7] = 9; }));
  assert.match(fired(wrong, 'add-addr-echo-unmatched', 11).message, /echoes ADD_ADDR 10.0.2.9 \(ID 5\), which the server never announced/);
  assert.match(fired(wrong, 'add-addr-not-echoed', 10).message, /though it sent 26 more segments/);
  onlyErrors(wrong);
});

test('remove-addr-unknown: REMOVE_ADDR of an ID never announced', async () => {
  const file = fixture('kernel', 'remove.pcap');
  const clean = await check('clean', fs.readFileSync(file));
  assert.deepEqual(of(clean, 'remove-addr-unknown'), []);
  const r = await check('x', await rewriteFrame(file, 30, (b, f) => { b[optionOffset(f, b, 4) + 3] = 9; }));
  assert.match(fired(r, 'remove-addr-unknown', 30).message, /the server removes address ID 9, which it never announced/);
  onlyErrors(r);
});

test('remove-addr-unknown keeps the IDs seen per side as bits: 0 from the start, 1–31 in a number, 32–255 in words made when needed', async () => {
  const { IdBits } = await import('../src/check/rules/addresses.ts');
  const k = new IdBits();
  const all = (side: 0 | 1) => Array.from({ length: 256 }, (_, id) => id).filter((id) => k.has(side, id));
  assert.deepEqual([all(0), all(1)], [[0], [0]]);
  for (const id of [1, 31, 32, 63, 64, 200, 255]) k.add(0, id);
  k.add(1, 33);
  assert.deepEqual(all(0), [0, 1, 31, 32, 63, 64, 200, 255]);
  assert.deepEqual(all(1), [0, 33]);
  // and through the rule: the server removes ID 200 of the kernel capture, which it never announced
  const file = fixture('kernel', 'remove.pcap');
  const r = await check('x', await rewriteFrame(file, 30, (b, f) => { b[optionOffset(f, b, 4) + 3] = 200; }));
  assert.match(fired(r, 'remove-addr-unknown', 30).message, /the server removes address ID 200, which it never announced/);
});

test('fastclose-key: MP_FASTCLOSE with another key; tcprst: the resets that follow', async () => {
  const file = fixture('kernel', 'fastclose.pcap');
  const clean = await check('clean', fs.readFileSync(file));
  assert.equal(fired(clean, 'tcprst', 36).severity, 'info');
  assert.match(fired(clean, 'tcprst', 36).message, /reason 0 \(unspecified error\), with MP_FASTCLOSE/);
  const r = await check('x', await rewriteFrame(file, 36, (b, f) => flip(b, optionOffset(f, b, 7) + 11)));
  const f = fired(r, 'fastclose-key', 36);
  assert.equal(f.rfc.section, '3.5');
  onlyErrors(r, 'fastclose-key');
});

test('mp-fail: an MP_FAIL naming a DSN inside a captured mapping', async () => {
  // frame 7's DSS (Data ACK only, 12 bytes) becomes an MP_FAIL (12 bytes) for the DSN it acknowledged
  const r = await check('x', await rewriteFrame(BASIC, 7, (b, f) => {
    const o = optionOffset(f, b, 2);
    b[o + 2] = 0x60;
    b[o + 3] = 0;
    b.writeBigUInt64BE(b.readBigUInt64BE(o + 4) - 1n, o + 4);
  }));
  const f = fired(r, 'mp-fail', 7);
  assert.equal(f.severity, 'warning');
  assert.deepEqual(f.relatedFrames, [4]);
  assert.equal(f.rfc.section, '3.7');
  onlyErrors(r);
});

test('option-length: a 3-byte DSS (real), and an MP_JOIN SYN/ACK of the wrong length', async () => {
  const real = await check('oobr', fs.readFileSync(fixture('tcpdump', 'mptcp-dss-oobr.pcap')));
  assert.match(fired(real, 'option-length', 1).message, /DSS length 3 is shorter than its 4-byte header/);
  // the SYN's 4-byte MP_CAPABLE claims 12 bytes: it runs past the TCP header
  const r = await check('x', await rewriteFrame(fixture('tcpdump', 'mptcp-v1.pcap'), 1, (b, f) => { b[optionOffset(f, b, 0) + 1] = 12; }));
  assert.match(fired(r, 'option-length', 1).message, /MPTCP option of length 12 runs 8 bytes past the end of the TCP header/);
  // the SYN/ACK's MP_CAPABLE shortened to 4 bytes (the key turned into NOPs): a SYN/ACK needs 12
  const s = await check('x', await rewriteFrame(fixture('tcpdump', 'mptcp-v1.pcap'), 2, (b, f) => {
    const o = optionOffset(f, b, 0);
    b[o + 1] = 4;
    b.fill(1, o + 4, o + 12);
  }));
  assert.match(fired(s, 'option-length', 2).message, /MP_CAPABLE v1 length 4 in a SYN\/ACK; expected 12/);
});

test('option-unknown: subtype 0x9 is a warning, 0xf experimental is info', async () => {
  const r = await check('x', await rewriteFrame(BASIC, 5, (b, f) => { b[optionOffset(f, b, 2) + 2] = 0x90; }));
  assert.equal(fired(r, 'option-unknown', 5).severity, 'warning');
  const e = await check('x', await rewriteFrame(BASIC, 5, (b, f) => { b[optionOffset(f, b, 2) + 2] = 0xf0; }));
  assert.equal(fired(e, 'option-unknown', 5).severity, 'info');
});

test('handshake-not-captured: keys unknown, and which checks were skipped', async () => {
  const r = await check('aa-echo', fs.readFileSync(fixture('tcpdump', 'mptcp-aa-echo.pcap')));
  assert.match(fired(r, 'handshake-not-captured', 1).message, /holds neither key, so these checks were skipped: ADD_ADDR HMACs/);
  const cut = await check('x', await dropFrames(BASIC, [1, 2, 3, 4])); // frame 4 (MP_CAPABLE with data) repeats both keys
  const f = of(cut, 'handshake-not-captured');
  assert.ok(f.some((x) => /MP_JOIN HMACs of subflow 1/.test(x.message)), f.map((x) => x.message).join('\n'));
  onlyErrors(cut);
});

test('capture-truncated: a snaplen of 128 leaves DSS checksums unverified', async () => {
  const r = await check('snap', fs.readFileSync(fixture('fresh', 'checksum-snap128.pcap')));
  const f = fired(r, 'capture-truncated', 14);
  assert.match(f.message, /the snaplen \(128\) cut the mapped data of 25 mappings/);
  assert.deepEqual(of(r, 'dss-checksum'), []);
});

test('--rule settings: off silences a rule, a level overrides its severity', async () => {
  const bytes = await rewriteFrame(BASIC, 3, (b, f) => flip(b, optionOffset(f, b, 0) + 12 + 7));
  const off = await check('x', bytes, { rules: { 'capable-key-mismatch': 'off' } });
  assert.deepEqual(of(off, 'capable-key-mismatch'), []);
  const warn = await check('x', bytes, { rules: { 'capable-key-mismatch': 'warning' } });
  assert.equal(fired(warn, 'capable-key-mismatch', 3).severity, 'warning');
});

test('rule state per stream or connection: one state per id, entries in the order they were made', () => {
  const st = new PerKey<{ id: number }, { n: number }>(() => ({ n: 0 }));
  const a = { id: 5 }, b = { id: 2 }, far = { id: 70_000 };
  st.get(a).n++;
  st.get(b).n += 2;
  st.get(far).n += 3;
  st.get(a).n++;
  assert.deepEqual([...st.entries()].map(([k, v]) => [k.id, v.n]), [[5, 2], [2, 2], [70_000, 3]]);
  assert.equal(st.get({ id: 5 }), st.get(a), 'by id: the same stream or connection');
});

test('data-ack-unsent: a repeated DSS found within what the peer mapped is judged again for its repeats once its connection\'s ackLimitChanges moves', async () => {
  const { checkCapture } = await import('../src/analyze.ts');
  // the client's segments repeat their DSS (Data ACK 1: the server's IDSN + 1; the server maps no data)
  const bytes = fs.readFileSync(fixture('fresh', 'basic-nooffload-snap128.pcap'));
  const run = async (counted: boolean) => {
    let repeats = 0;
    let changed = 0;
    let first: unknown;
    const repeatFrames: number[] = [];
    const r = await checkCapture({ bytes, name: 'x' }, {}, {
      onRepeat: (facts, rec) => {
        if (facts.side !== 0 || facts.conn === null) return true;
        first ??= facts.repeatedDss;
        if (facts.repeatedDss !== first) return true;
        repeatFrames.push(rec.frame);
        // at its third repeat (judged within: Data ACK 1 is the server's IDSN + 1), the server's
        // IDSN lower, as keys derived again would make it; counted as the tracker counts that
        if (++repeats === 3) {
          facts.conn.idsns[1]! -= 5n;
          if (counted) facts.conn.ackLimitChanges++;
          changed = rec.frame;
        }
        return true;
      },
      // what the server mapped (its DATA_FIN) kept from raising the limit again by the end
      onPacket: (_f, facts) => {
        const c = facts.conn;
        if (c !== null && changed !== 0) { c.dataFin[1] = undefined; c.sentEnd[1] = undefined; c.mapped[1] = undefined; }
      },
    });
    return { findings: r.findings.filter((x) => x.rule === 'data-ack-unsent'), changed, repeatFrames };
  };
  const counted = await run(true);
  assert.deepEqual(counted.repeatFrames.slice(0, 5), [15, 16, 17, 18, 24]);
  assert.equal(counted.changed, 17);
  // the next repeat is judged again: beyond what the server mapped now, the first candidate
  assert.deepEqual(counted.findings.map((x) => x.frame), [18]);
  // the count unmoved, the repeats keep their judgement: the first candidate is a later packet's
  const uncounted = await run(false);
  assert.deepEqual(uncounted.findings.map((x) => x.frame), [38]);
});

test('ackLimitChanges: what a real capture\'s connection counts (subflows tied, keys derived, joins\' sides, first mapped ends)', async () => {
  const [c] = (await analyzeBytes('basic', fs.readFileSync(fixture('kernel', 'basic.pcap')))).tracker.connections;
  // three subflows tied to it, its IDSNs cleared once the version is known and both derived again,
  // two joins given their side, each side's first mapped end (the client's data, the server's DATA_FIN)
  assert.equal(c.ackLimitChanges, 3 + 1 + 2 + 2 + 2);
});

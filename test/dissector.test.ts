// The MPTCP dissector and key-derived values, against the known values of shared/RFC-MAP.md.
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { test } from 'node:test';
import { addAddrHmac, deriveFromKey, dssChecksum, joinHmacAck, joinHmacSynAck, OnesSum } from '../src/mptcp/crypto.ts';
import { ipv4ToString, ipv6ToString } from '../src/wire/address.ts';
import { mptcpFieldLayout, parseMptcpOption } from '../src/wire/mptcp.ts';
import { fixture } from './fixtures.ts';
import { packetsOf } from './helpers.ts';

test('v0 keys give the tokens and IDSNs of RFC-MAP (SHA-1)', () => {
  assert.deepEqual(deriveFromKey(0x9c9eabd1e46a33b2n, 0), { token: 0xaf9706eb, idsn: 0x9851b565d52abec9n });
  assert.deepEqual(deriveFromKey(0x967d2770b6960552n, 0), { token: 0xe47f0142, idsn: 0xe47ef57dd1b9748fn });
});

test('v1 keys give the tokens and IDSNs of RFC-MAP (SHA-256)', () => {
  assert.deepEqual(deriveFromKey(0x29a6c86981ad933cn, 1), { token: 0xa35d6d82, idsn: 0xa28e87fddd1d30f1n });
  assert.deepEqual(deriveFromKey(0x1fdb5df328bc3defn, 1), { token: 0x239fbdb0, idsn: 0xc8072fb90edab04dn });
});

test("Linux's HMAC-SHA256 unit vectors", () => {
  assert.equal(createHmac('sha256', '0b0b0b0b0b0b0b0b').update('48692054').digest('hex'), '8385e24fb4235ac37556b6b886db106284a1da671699f46db1f235ec622dcafa');
  assert.equal(createHmac('sha256', 'aaaaaaaaaaaaaaaa').update('dddddddd').digest('hex'), '2c5e219164ff1dca1c4a92318d847bb6b9d44492984e1eb71aff9022f71046e9');
});

test('v1 ADD_ADDR HMAC is the rightmost 64 bits', () => {
  const h = addAddrHmac(0xc53d54f2accb167an, 0xabe9ccd1f53859e7n, 1, Buffer.from([10, 0, 2, 1]), undefined);
  assert.equal(h.rightmost, 0xd43bfb3a9c0d5ac1n);
});

test('mptcp-v0.pcap: the capture carries the RFC-MAP values, and the join HMACs verify', async () => {
  const { packets, analysis } = await packetsOf(fixture('tcpdump', 'mptcp-v0.pcap'));
  const c = analysis.tracker.connections[0];
  assert.equal(c.version, 0);
  assert.equal(c.keys[0], 0x9c9eabd1e46a33b2n);
  assert.equal(c.keys[1], 0x967d2770b6960552n);
  assert.equal(c.idsns[0], 0x9851b565d52abec9n);
  assert.equal(c.idsns[1], 0xe47ef57dd1b9748fn);
  const join = packets[7].facts.options[0];
  assert.equal(join.kind, 'MP_JOIN');
  assert.equal(join.kind === 'MP_JOIN' && join.token, 0xe47f0142);
  const synack = packets[8].facts.options[0];
  assert.ok(synack.kind === 'MP_JOIN' && synack.form === 'synack');
  assert.equal(synack.truncatedHmac, 0x5ab680c7884af03dn);
  const ack = packets[9].facts.options[0];
  assert.ok(ack.kind === 'MP_JOIN' && ack.form === 'ack');
  assert.equal(ack.hmac!.toString('hex'), 'cb7b87f5e5f0502f43b535fb70ef6607df2e6c7a');
  const s = analysis.tracker.streams[1].join!;
  assert.equal(joinHmacSynAck(0, c.keys[0]!, c.keys[1]!, s.nonceA!, s.nonceB!), 0x5ab680c7884af03dn);
  assert.equal(joinHmacAck(0, c.keys[0]!, c.keys[1]!, s.nonceA!, s.nonceB!).toString('hex'), 'cb7b87f5e5f0502f43b535fb70ef6607df2e6c7a');
});

test('mptcp-v0.pcap frame 4: DSS checksum 0x082f verifies with the full 64-bit DSN', async () => {
  const { packets } = await packetsOf(fixture('tcpdump', 'mptcp-v0.pcap'));
  const p = packets[3];
  const dss = p.facts.options.find((o) => o.kind === 'DSS')!;
  assert.ok(dss.kind === 'DSS');
  assert.equal(dss.checksum, 0x082f);
  assert.equal(dss.dsn8, false);
  const m = p.facts.checksumResults[0];
  assert.ok(m, 'the mapping completes in frame 4');
  assert.deepEqual(m.verified, { ok: true, computed: 0x082f, frames: [4, 4] });
  assert.equal(m.dsn >> 32n, 0xe47ef57dn, 'the DSN was widened to 64 bits against the IDSN');
});

test('IPv4 text: dotted quads through the last-two memo and the map, in runs, alternating and scattered', () => {
  let seed = 0x6c8e9cf5;
  const rnd = () => { seed ^= seed << 13; seed ^= seed >>> 17; seed ^= seed << 5; return seed >>> 0; };
  const addrs: Buffer[] = [];
  for (let n = 0; n < 300; n++) { const a = Buffer.alloc(4); a.writeUInt32BE(rnd()); addrs.push(a); }
  addrs.push(Buffer.from([0, 0, 0, 0]), Buffer.from([255, 255, 255, 255]), Buffer.from([10, 0, 1, 1]), Buffer.from([192, 168, 1, 2]));
  const text = (a: Buffer) => [...a].join('.');
  // the order a capture gives them: a packet's two addresses, the same pair for a while, the pair
  // the other way round, a third address between, then all of them scattered
  const order: number[] = [];
  for (let k = 0; k < 50; k++) order.push(302, 303, 303, 302);
  order.push(302, 0, 303, 302, 1, 1, 303);
  for (let k = 0; k < 3000; k++) order.push(rnd() % addrs.length);
  for (const i of order) assert.equal(ipv4ToString(addrs[i], 0), text(addrs[i]), `address ${i}`);
  assert.equal(ipv4ToString(addrs[300], 0), '0.0.0.0');
  assert.equal(ipv4ToString(addrs[301], 0), '255.255.255.255');
  // at an offset inside a frame
  assert.equal(ipv4ToString(Buffer.concat([Buffer.alloc(12, 0xaa), addrs[303]]), 12), '192.168.1.2');
});

test('DSS checksum arithmetic: odd-length pieces sum as one', () => {
  const data = Buffer.from('0123456789abcdefXYZ');
  const whole = new OnesSum();
  whole.add(data, 0, data.length);
  const parts = new OnesSum();
  parts.add(data, 0, 3);
  parts.add(data, 3, 10);
  parts.add(data, 10, data.length);
  assert.equal(parts.folded(), whole.folded());
  assert.equal(dssChecksum(5n, 1, data.length, parts), dssChecksum(5n, 1, data.length, whole));
});

test('mptcp-v1.pcap: keys, tokens, IDSNs and the implicit first mapping', async () => {
  const { packets, analysis } = await packetsOf(fixture('tcpdump', 'mptcp-v1.pcap'));
  const c = analysis.tracker.connections[0];
  assert.equal(c.version, 1);
  assert.equal(c.keys[1], 0x29a6c86981ad933cn);
  assert.equal(c.tokens[1], 0xa35d6d82);
  assert.equal(c.keys[0], 0x1fdb5df328bc3defn);
  assert.equal(c.tokens[0], 0x239fbdb0);
  assert.equal(c.idsns[0], 0xc8072fb90edab04dn);
  // frame 4: MP_CAPABLE with data maps its first byte at IDSN + 1
  assert.equal(packets[3].facts.dsn, 0xc8072fb90edab04dn + 1n);
  // frame 7: the server's first data DSN is its IDSN + 1, on the wire as 64 bits
  const dss = packets[6].facts.options[0];
  assert.ok(dss.kind === 'DSS');
  assert.equal(dss.dsn, 0xa28e87fddd1d30f1n + 1n);
});

test('field layout: byte offsets and lengths of an MP_CAPABLE third ACK', async () => {
  const { packets } = await packetsOf(fixture('tcpdump', 'mptcp-v1.pcap'));
  const p = packets[2];
  const o = p.facts.options[0];
  const layout = mptcpFieldLayout(o);
  const byName = new Map(layout.map((f) => [f.name, f]));
  assert.equal(byName.get("Sender's key")!.offset, o.offset + 4);
  assert.equal(byName.get("Sender's key")!.length, 8);
  assert.equal(byName.get("Sender's key")!.value, '0x1fdb5df328bc3def');
  assert.equal(byName.get("Receiver's key")!.offset, o.offset + 12);
  assert.equal(byName.get("Receiver's key")!.value, '0x29a6c86981ad933c');
  assert.equal(byName.get('Flags')!.wireshark, 'tcp.options.mptcp.flags');
});

test('lengths are checked against subtype, version, flags and direction', () => {
  const opt = (bytes: number[]) => Buffer.from([30, bytes.length + 2, ...bytes]);
  const syn = { syn: true, ack: false, hasData: false };
  const ack = { syn: false, ack: true, hasData: false };
  // v1 SYN must be 4 bytes
  assert.equal(parseMptcpOption(opt([0x01, 0x01]), 0, 4, 4, syn).lengthProblem, undefined);
  assert.match(parseMptcpOption(opt([0x01, 0x01, 1, 2, 3, 4, 5, 6, 7, 8]), 0, 12, 12, syn).lengthProblem!, /expected 4/);
  // DSS with A and M (4-byte values) is 4 + 4 + 10 = 18, or 20 with a checksum; 19 fits nothing
  const dss = (len: number) => parseMptcpOption(Buffer.concat([Buffer.from([30, len, 0x20, 0x05]), Buffer.alloc(len - 4)]), 0, len, len, ack);
  assert.equal(dss(18).lengthProblem, undefined);
  assert.equal(dss(20).lengthProblem, undefined);
  const plain = dss(18);
  assert.equal(plain.kind === 'DSS' ? plain.checksum : 'x', undefined);
  const withSum = dss(20);
  assert.equal(withSum.kind === 'DSS' ? withSum.checksum : undefined, 0);
  assert.match(dss(19).lengthProblem!, /does not fit its flags 0x05 \(expected 18 or 20 with checksum\)/);
  // ADD_ADDR layout follows the connection's version: v0 reads IPVer, v1 the echo bit
  const aa = Buffer.from([30, 8, 0x34, 7, 10, 0, 0, 1]);
  const v0 = parseMptcpOption(aa, 0, 8, 8, { ...ack, version: 0 });
  assert.ok(v0.kind === 'ADD_ADDR' && v0.layout === 0 && v0.ipVer === 4 && v0.address === '10.0.0.1' && v0.addressId === 7);
  const v1 = parseMptcpOption(aa, 0, 8, 8, { ...ack, version: 1 });
  assert.ok(v1.kind === 'ADD_ADDR' && v1.layout === 1 && v1.echo === false && v1.lengthProblem);
});

test('IPv6 text: RFC 5952 as the WHATWG URL parser writes it, and the same through the cache, colliding slots too', () => {
  // 4,000 addresses in a table of 1,024 slots: many share a slot, each is written again after others
  let seed = 0x2545f491;
  const rnd = () => { seed ^= seed << 13; seed ^= seed >>> 17; seed ^= seed << 5; return seed >>> 0; };
  const addrs: Buffer[] = [];
  for (let n = 0; n < 4000; n++) {
    const a = Buffer.alloc(16);
    for (let i = 0; i < 16; i += 4) a.writeUInt32BE(rnd(), i);
    // zero runs of every length and place, as real addresses have them
    const start = rnd() % 8, len = rnd() % 9;
    a.fill(0, 2 * start, Math.min(16, 2 * (start + len)));
    addrs.push(a);
  }
  addrs.push(Buffer.from('20010db8000000000000000000000001', 'hex'), Buffer.alloc(16), Buffer.from('fe800000000000000000000000000001', 'hex'));
  const expected = addrs.map((a) => new URL(`http://[${[...Array(8).keys()].map((i) => a.readUInt16BE(2 * i).toString(16)).join(':')}]/`).hostname.slice(1, -1));
  for (let round = 0; round < 2; round++) {
    addrs.forEach((a, i) => assert.equal(ipv6ToString(a, 0), expected[i], `address ${i}, round ${round}`));
  }
  assert.equal(ipv6ToString(addrs[4000], 0), '2001:db8::1');
  assert.equal(ipv6ToString(addrs[4001], 0), '::');
  // an IPv4-mapped address keeps its dotted tail (RFC 5952 §5), which the URL parser does not write
  const mapped = Buffer.from('00000000000000000000ffffc0000280', 'hex');
  assert.equal(ipv6ToString(mapped, 0), '::ffff:192.0.2.128');
  assert.equal(ipv6ToString(mapped, 0), '::ffff:192.0.2.128');
  // at an offset inside a frame
  const frame = Buffer.concat([Buffer.alloc(8, 0xaa), addrs[4002]]);
  assert.equal(ipv6ToString(frame, 8), 'fe80::1');
});

test('DSS checksum arithmetic: the ones\' complement sum of random data cut into random pieces is that of RFC 1071 word by word', () => {
  let seed = 0x9e3779b9;
  const rnd = () => { seed ^= seed << 13; seed ^= seed >>> 17; seed ^= seed << 5; return seed >>> 0; };
  // RFC 1071 §4.1 as written: 16-bit big-endian words, carries folded back in
  const reference = (d: Uint8Array): number => {
    let sum = 0;
    for (let i = 0; i < d.length; i += 2) sum += (d[i] << 8) | (i + 1 < d.length ? d[i + 1] : 0);
    while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
    return sum;
  };
  for (let round = 0; round < 300; round++) {
    const len = rnd() % 70000;
    // a frame buffer with the payload at an odd or even offset, as in a capture
    const frame = Buffer.alloc(len + 7);
    for (let i = 0; i < frame.length; i++) frame[i] = round % 5 === 0 ? 0xff : rnd() & 0xff;
    const at = rnd() % 7;
    const data = frame.subarray(at, at + len);
    const sum = new OnesSum();
    for (let p = 0; p < len;) {
      const n = Math.min(len - p, 1 + (rnd() % 3000));
      sum.add(frame, at + p, at + p + n);
      p += n;
    }
    assert.equal(sum.folded(), reference(data), `round ${round}: ${len} bytes at offset ${at}`);
  }
});

// Capture reading: pcap (both byte orders, µs and ns), pcapng (sections, interfaces, block
// kinds), gzip, standard input through pcap-parser, and damaged files.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import { test } from 'node:test';
import * as zlib from 'node:zlib';
import { analyzeBytes, analyzeFile, analyzeStream } from '../src/analyze.ts';
import { estimatedCaptureSize } from '../src/capture/gunzip.ts';
import { openScratchFile } from '../src/capture/source.ts';
import { CaptureError } from '../src/errors.ts';
import type { DecodedFrame } from '../src/wire/packet.ts';
import { fixture } from './fixtures.ts';
import { cliDeopts, type Deopt } from './helpers.ts';

async function frames(file: string): Promise<DecodedFrame[]> {
  const out: DecodedFrame[] = [];
  await analyzeFile(file, { onPacket: (f) => out.push(f) });
  return out;
}

test('little-endian microsecond pcap, Linux cooked v2 (kernel basic.pcap)', async () => {
  const a = await analyzeFile(fixture('kernel', 'basic.pcap'));
  assert.equal(a.scan.format, 'pcap');
  assert.equal(a.scan.bigEndian, false);
  assert.deepEqual(a.scan.linkTypes, [276]);
  assert.equal(a.scan.packets, 60);
  const f = (await frames(fixture('kernel', 'basic.pcap')))[0];
  assert.equal(f.tsSec, 1795600073);
  assert.equal(f.tsNsec, 691567000);
  assert.equal(f.src, '10.0.1.1');
  assert.equal(f.tcp!.srcPort, 57992);
});

test('big-endian pcap (pptp.pcap)', async () => {
  const a = await analyzeFile(fixture('tcpdump', 'pptp.pcap'));
  assert.equal(a.scan.bigEndian, true);
  assert.equal(a.scan.packets, 23);
  assert.equal((await frames(fixture('tcpdump', 'pptp.pcap')))[0].tcp!.dstPort, 1723);
});

test('nanosecond pcap keeps nanoseconds', async () => {
  const a = await analyzeFile(fixture('fresh', 'basic-nano.pcap'));
  assert.equal(a.scan.format, 'pcap-ns');
  const fs0 = await frames(fixture('tcpdump', 'tcp-handshake-nano.pcap'));
  assert.equal(fs0.length, 3);
  assert.ok(fs0.some((f) => f.tsNsec % 1000 !== 0), 'sub-microsecond digits survive');
});

test('pcapng with ten interfaces (curl-thread.pcapng) and two Ethernet interfaces (basic.pcapng)', async () => {
  const a = await analyzeFile(fixture('ptcpdump', 'curl-thread.pcapng'));
  assert.equal(a.scan.format, 'pcapng');
  assert.equal(a.scan.linkTypes.length, 10);
  const b = await analyzeFile(fixture('kernel', 'basic.pcapng'));
  assert.deepEqual(b.scan.linkTypes, [1, 1]);
  assert.equal(b.scan.packets, 72);
  const fr = await frames(fixture('kernel', 'basic.pcapng'));
  assert.deepEqual([...new Set(fr.map((f) => f.interfaceId))].sort(), [0, 1]);
});

test('raw IPv6 and raw IPv4 link types', async () => {
  const v6 = await frames(fixture('tcpdump', 'LINKTYPE_RAW_ipv6.pcap'));
  assert.equal(v6[0].ipVersion, 6);
  const v4 = await frames(fixture('tcpdump', 'mptcp-tcprst.pcap'));
  assert.equal(v4[0].src, '192.0.2.1');
  assert.equal(v4[0].tcp!.dstPort, 8080);
});

/** Builds a pcapng by hand from real packet bytes, to reach block kinds the fixtures lack. */
function pcapng(bigEndian: boolean, blocks: Array<{ type: number; body: Buffer }>): Buffer {
  const parts: Buffer[] = [];
  const w32 = (v: number) => { const b = Buffer.alloc(4); bigEndian ? b.writeUInt32BE(v) : b.writeUInt32LE(v); return b; };
  for (const { type, body } of blocks) {
    const pad = Buffer.alloc((4 - (body.length % 4)) % 4);
    const len = 12 + body.length + pad.length;
    parts.push(w32(type), w32(len), body, pad, w32(len));
  }
  return Buffer.concat(parts);
}

function shb(bigEndian: boolean): { type: number; body: Buffer } {
  const b = Buffer.alloc(16);
  if (bigEndian) { b.writeUInt32BE(0x1a2b3c4d, 0); b.writeUInt16BE(1, 4); b.writeBigInt64BE(-1n, 8); }
  else { b.writeUInt32LE(0x1a2b3c4d, 0); b.writeUInt16LE(1, 4); b.writeBigInt64LE(-1n, 8); }
  return { type: 0x0a0d0d0a, body: b };
}

function idb(bigEndian: boolean, linkType: number, tsresol?: number): { type: number; body: Buffer } {
  const b = Buffer.alloc(tsresol === undefined ? 8 : 20);
  const w16 = (v: number, o: number) => (bigEndian ? b.writeUInt16BE(v, o) : b.writeUInt16LE(v, o));
  const w32 = (v: number, o: number) => (bigEndian ? b.writeUInt32BE(v, o) : b.writeUInt32LE(v, o));
  w16(linkType, 0); w32(262144, 4);
  if (tsresol !== undefined) { w16(9, 8); w16(1, 10); b[12] = tsresol; w16(0, 16); w16(0, 18); }
  return { type: 1, body: b };
}

test('pcapng: two sections of different byte order, SPB, obsolete PB and EPB, if_tsresol', async () => {
  // two real frames from the raw-IPv4 capture
  const raw = await frames(fixture('tcpdump', 'mptcp-tcprst.pcap'));
  const file = fs.readFileSync(fixture('tcpdump', 'mptcp-tcprst.pcap'));
  const pkt = (i: number) => file.subarray(raw[i].dataOffset, raw[i].dataOffset + raw[i].caplen);
  const epb = (be: boolean, ifid: number, ts: bigint, data: Buffer) => {
    const h = Buffer.alloc(20);
    const w = (v: number, o: number) => (be ? h.writeUInt32BE(v, o) : h.writeUInt32LE(v, o));
    w(ifid, 0); w(Number(ts >> 32n), 4); w(Number(ts & 0xffffffffn), 8); w(data.length, 12); w(data.length, 16);
    return { type: 6, body: Buffer.concat([h, data]) };
  };
  const spb = (data: Buffer) => { const h = Buffer.alloc(4); h.writeUInt32LE(data.length); return { type: 3, body: Buffer.concat([h, data]) }; };
  const pb = (data: Buffer) => {
    const h = Buffer.alloc(20);
    h.writeUInt16LE(0, 0); h.writeUInt16LE(0, 2); h.writeUInt32LE(0, 4); h.writeUInt32LE(1000000, 8); h.writeUInt32LE(data.length, 12); h.writeUInt32LE(data.length, 16);
    return { type: 2, body: Buffer.concat([h, data]) };
  };
  const custom = { type: 0x00000bad, body: Buffer.from('ignored!') };
  const bytes = Buffer.concat([
    pcapng(false, [shb(false), idb(false, 101), spb(pkt(0)), pb(pkt(1)), custom]),
    pcapng(true, [shb(true), idb(true, 101, 9), epb(true, 0, 1700000000123456789n, pkt(0))]),
  ]);
  const got: DecodedFrame[] = [];
  const a = await analyzeBytes('synthetic.pcapng', bytes, { onPacket: (f) => got.push(f) });
  assert.equal(a.scan.packets, 3);
  assert.deepEqual(a.scan.problems, []);
  assert.deepEqual(got.map((f) => f.src), ['192.0.2.1', '192.0.2.1', '192.0.2.1']);
  assert.equal(got[1].tsSec, 1); // PB timestamp 1,000,000 µs
  assert.equal(got[2].tsSec, 1700000000);
  assert.equal(got[2].tsNsec, 123456789); // if_tsresol 9: nanoseconds
  assert.equal(got[2].interfaceId, 1, 'interfaces are numbered across sections');
});

test('gzip-compressed captures open transparently, and the original is not modified', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lens-test-'));
  const gz = path.join(dir, 'basic.pcap.gz');
  fs.writeFileSync(gz, zlib.gzipSync(fs.readFileSync(fixture('kernel', 'basic.pcap'))));
  const before = fs.readFileSync(gz);
  const a = await analyzeFile(gz);
  assert.equal(a.scan.gzip, true);
  assert.equal(a.scan.packets, 60);
  assert.equal(a.tracker.connections.length, 1);
  assert.ok(fs.readFileSync(gz).equals(before));
  // bytes from a virtual file system, compressed: inflated in memory (were refused as a pcap of version 0)
  const b = await analyzeBytes('basic.pcap.gz', before);
  assert.equal(b.scan.gzip, true);
  assert.equal(b.scan.packets, 60);
  assert.equal(b.tracker.connections[0].keys[1], a.tracker.connections[0].keys[1]);
  const cut = await analyzeBytes('cut.pcap.gz', before.subarray(0, Math.floor(before.length / 2)));
  assert.ok(cut.scan.packets > 5 && cut.scan.packets < 60, `${cut.scan.packets} packets`);
  assert.ok(cut.scan.problems.some((p) => /gzip data ends early after \d+ decompressed bytes/.test(p.message)));
  fs.rmSync(dir, { recursive: true });
});

test('the gzip ring: bytes read through it in pieces of every size are the inflated bytes, across many turns of the ring', async () => {
  const { GunzipSource } = await import('../src/capture/gunzip.ts');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lens-test-'));
  // 11 MiB that compress (the ring holds 4 MiB): real capture bytes repeated, each copy marked
  const unit = fs.readFileSync(fixture('kernel', 'multi.pcap'));
  const copies = Math.ceil((11 << 20) / unit.length);
  const plain = Buffer.concat(Array.from({ length: copies }, (_, i) => { const b = Buffer.from(unit); b.writeUInt32BE(i, 0); return b; }));
  const file = path.join(dir, 'big.gz');
  fs.writeFileSync(file, zlib.gzipSync(plain));
  const into = path.join(dir, 'inflated');
  // open descriptors, where the system lists them (Linux); elsewhere that check is skipped
  const openFds = () => (fs.existsSync('/proc/self/fd') ? fs.readdirSync('/proc/self/fd').length : 0);
  const fdsBefore = openFds();
  const src = new GunzipSource(file, 'big.gz', into);
  const got = Buffer.alloc(plain.length + 10);
  let at = 0;
  let seed = 7;
  for (;;) {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    const want = [1, 3, 16, 4096, 65536, 1 << 20, 3 << 20][seed % 7];
    const n = src.readInto(got, at, Math.min(want, got.length - at), at);
    if (n === 0) break;
    at += n;
  }
  src.close();
  assert.equal(at, plain.length);
  assert.ok(got.subarray(0, at).equals(plain));
  assert.equal(src.cut, false);
  assert.ok(fs.readFileSync(into).equals(plain), 'and the same bytes in the file asked for');
  assert.deepEqual(src.progress(), { done: fs.statSync(file).size, total: fs.statSync(file).size });
  // a reader that stops early lets the worker go (the process would hang on it otherwise: unref'd, and stopped)
  const early = new GunzipSource(file, 'big.gz');
  assert.equal(early.readInto(Buffer.alloc(100), 0, 100, 0), 100);
  early.close();
  // a worker that dies (killed here; out of memory in life) is an error after a few seconds, not a
  // reader waiting forever on the ring (no event reaches a thread blocked in Atomics.wait)
  const dying = new GunzipSource(file, 'big.gz');
  await (dying as unknown as { worker: import('node:worker_threads').Worker }).worker.terminate();
  const t0 = Date.now();
  assert.throws(() => { for (let at2 = 0, n = 1; n > 0; at2 += n) n = dying.readInto(Buffer.alloc(1 << 20), 0, 1 << 20, at2); },
    (e: Error) => e instanceof CaptureError && /^big\.gz: the gzip worker stopped/.test(e.message));
  assert.ok(Date.now() - t0 < 8000);
  dying.close();
  // and every descriptor opened for the workers is closed once they have ended (a trace of a compressed
  // capture runs in a worker thread of the extension host)
  for (let i = 0; i < 100 && openFds() > fdsBefore; i++) await new Promise((r) => setTimeout(r, 20));
  assert.ok(openFds() <= fdsBefore, `${openFds()} descriptors open, ${fdsBefore} before`);
  fs.rmSync(dir, { recursive: true, force: true });
});

test('a gzip capture cut short: the packets before the cut are read, and the cut is reported', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lens-test-'));
  const gz = zlib.gzipSync(fs.readFileSync(fixture('kernel', 'basic.pcap')));
  const file = path.join(dir, 'cut.pcap.gz');
  fs.writeFileSync(file, gz.subarray(0, Math.floor(gz.length / 2)));
  const a = await analyzeFile(file);
  assert.ok(a.scan.packets > 5 && a.scan.packets < 60, `${a.scan.packets} packets`);
  assert.ok(a.scan.problems.some((p) => /gzip data ends early after \d+ decompressed bytes/.test(p.message)));
  // and a .gz that is not gzip at all inside is a one-line error
  fs.writeFileSync(file, Buffer.from([0x1f, 0x8b, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10]));
  await assert.rejects(analyzeFile(file), (e: Error) => e instanceof CaptureError && !e.message.includes('\n'));
  fs.rmSync(dir, { recursive: true });
});

test('the size a capture will be read at: its own, or a gzip file\'s inflated size from its trailer', () => {
  const plain = fixture('kernel', 'basic.pcap');
  assert.equal(estimatedCaptureSize(plain), fs.statSync(plain).size);
  const gz = fixture('fresh', 'many-1000.pcap.gz');
  const inflated = zlib.gunzipSync(fs.readFileSync(gz)).length;
  assert.equal(inflated, 4_200_736);
  assert.equal(fs.statSync(gz).size, 1_118_145);
  assert.equal(estimatedCaptureSize(gz), inflated);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lens-test-'));
  // a trailer that claims less than the file (not gzip's own output): never below the file's size
  const odd = path.join(dir, 'odd.gz');
  fs.writeFileSync(odd, Buffer.concat([Buffer.from([0x1f, 0x8b]), Buffer.alloc(40, 7), Buffer.from([5, 0, 0, 0])]));
  assert.equal(estimatedCaptureSize(odd), 46);
  assert.equal(estimatedCaptureSize(path.join(dir, 'missing.pcap')), undefined);
  fs.rmSync(dir, { recursive: true });
});

test('scratch files (the index, an inflated copy): opened for writing emptied but not truncated at open', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lens-test-'));
  // one of ours, made empty: written from the start
  const ours = path.join(dir, 'index');
  fs.writeFileSync(ours, '');
  let fd = openScratchFile(ours);
  fs.writeSync(fd, Buffer.from('abc'), 0, 3, 0);
  fs.closeSync(fd);
  assert.equal(fs.readFileSync(ours, 'utf8'), 'abc');
  // one with data already: emptied first, so that nothing of it is left past what is written
  fd = openScratchFile(ours);
  fs.writeSync(fd, Buffer.from('z'), 0, 1, 0);
  fs.closeSync(fd);
  assert.equal(fs.readFileSync(ours, 'utf8'), 'z');
  // one missing: made, readable by its owner only
  const missing = path.join(dir, 'missing');
  fs.closeSync(openScratchFile(missing));
  assert.equal(fs.statSync(missing).size, 0);
  if (process.platform !== 'win32') assert.equal(fs.statSync(missing).mode & 0o777, 0o600);
  assert.throws(() => openScratchFile(path.join(dir, 'no-such-dir', 'x')), /ENOENT/);
  fs.rmSync(dir, { recursive: true });
});

test('standard input: a pcap stream through pcap-parser, microsecond and nanosecond', async () => {
  const a = await analyzeStream(Readable.from([fs.readFileSync(fixture('kernel', 'basic.pcap'))]), 'stdin');
  assert.equal(a.scan.packets, 60);
  assert.equal(a.tracker.connections[0].keys[1], (await analyzeFile(fixture('kernel', 'basic.pcap'))).tracker.connections[0].keys[1]);
  // in small pieces, nanosecond magic
  const nano = fs.readFileSync(fixture('tcpdump', 'tcp-handshake-nano.pcap'));
  const pieces = [];
  for (let i = 0; i < nano.length; i += 7) pieces.push(nano.subarray(i, i + 7));
  const got: DecodedFrame[] = [];
  const b = await analyzeStream(Readable.from(pieces), 'stdin', { onPacket: (f) => got.push(f) });
  assert.equal(b.scan.format, 'pcap-ns');
  const fromFile = await frames(fixture('tcpdump', 'tcp-handshake-nano.pcap'));
  assert.deepEqual(got.map((f) => [f.tsSec, f.tsNsec]), fromFile.map((f) => [f.tsSec, f.tsNsec]));
});

test('a read that fails (EIO, a file system gone) is one line naming the input and the offset, not an internal error', async () => {
  const { FileSource, DescriptorSource } = await import('../src/capture/source.ts');
  const src = new FileSource(fixture('kernel', 'basic.pcap'));
  fs.closeSync((src as unknown as { fd: number }).fd); // the descriptor gone under the reader
  assert.throws(() => src.readInto(Buffer.alloc(64), 0, 64, 24),
    (e: Error) => e instanceof CaptureError && /^.*basic\.pcap: read error \(EBADF: bad file descriptor, read\) \(at byte offset 24\)$/.test(e.message));
  // a descriptor that cannot be read (opened for writing)
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lens-read-'));
  const fd = fs.openSync(path.join(dir, 'w'), 'w');
  assert.throws(() => new DescriptorSource('standard input', fd).peek(4),
    (e: Error) => e instanceof CaptureError && /^standard input: read error \(EBADF: bad file descriptor, read\) \(at byte offset 0\)$/.test(e.message));
  fs.closeSync(fd);
  fs.rmSync(dir, { recursive: true });
});

test('a Readable stream (analyzeStream, pcap-parser) refuses pcapng with a clear message (the CLI reads standard input by its descriptor)', async () => {
  await assert.rejects(analyzeStream(Readable.from([fs.readFileSync(fixture('kernel', 'basic.pcapng'))]), 'standard input'),
    (e: Error) => e instanceof CaptureError && /pcapng on standard input is not supported/.test(e.message));
});

test('damaged files: cut mid-record, impossible length, bad trailing length', async () => {
  const full = fs.readFileSync(fixture('kernel', 'basic.pcap'));
  const offs: number[] = [];
  await analyzeBytes('x', full, { onPacket: (f) => offs.push(f.dataOffset) });
  // cut in the middle of frame 10
  const cut = await analyzeBytes('cut.pcap', full.subarray(0, offs[9] + 5));
  assert.equal(cut.scan.packets, 9);
  assert.equal(cut.scan.problems.length, 1);
  assert.equal(cut.scan.problems[0].frame, 10);
  assert.equal(cut.scan.problems[0].offset, offs[9] - 16);
  assert.match(cut.scan.problems[0].message, /file ends inside a record/);
  // frame 5's captured length made impossible
  const bad = Buffer.from(full);
  bad.writeUInt32LE(0x7fffffff, offs[4] - 16 + 8);
  const b = await analyzeBytes('bad.pcap', bad);
  assert.equal(b.scan.packets, 4);
  assert.match(b.scan.problems[0].message, /impossible record length 2147483647/);
  // pcapng block whose trailing length disagrees: reported, and reading goes on
  const ng = Buffer.from(fs.readFileSync(fixture('kernel', 'basic.pcapng')));
  const ngOffs: number[] = [];
  await analyzeBytes('x', ng, { onPacket: (f) => ngOffs.push(f.dataOffset) });
  const blockStart = ngOffs[2] - 28; // EPB header is 28 bytes before the data
  const len = ng.readUInt32LE(blockStart + 4);
  ng.writeUInt32LE(len + 4, blockStart + len - 4);
  const c = await analyzeBytes('bad.pcapng', ng);
  assert.equal(c.scan.problems.length, 1);
  assert.match(c.scan.problems[0].message, /trailing length/);
  assert.equal(c.scan.packets, 71, 'all but the damaged block');
});

test('not a capture, empty, a directory, a missing file: one-line CaptureErrors', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lens-test-'));
  const text = path.join(dir, 'notes.txt');
  fs.writeFileSync(text, 'hello world\n');
  const empty = path.join(dir, 'empty.pcap');
  fs.writeFileSync(empty, '');
  const short = path.join(dir, 'short.pcap');
  fs.writeFileSync(short, fs.readFileSync(fixture('kernel', 'basic.pcap')).subarray(0, 10));
  const cases: Array<[string, RegExp]> = [
    [text, /not a pcap or pcapng capture \(starts with 0x68656c6c\)/],
    [empty, /empty file, not a capture/],
    [short, /pcap file header cut short/],
    [dir, /is a directory/],
    [path.join(dir, 'missing.pcap'), /no such file/],
  ];
  for (const [file, re] of cases) {
    await assert.rejects(analyzeFile(file), (e: Error) => e instanceof CaptureError && re.test(e.message) && !e.message.includes('\n'));
  }
  fs.rmSync(dir, { recursive: true });
});

test('the scan loops are not thrown away mid-input: their window\'s refills and their progress calls are made before V8 compiles them (a file, a gzip file, standard input)', () => {
  // a 4.2 MB classic pcap (the 1,000 connections' capture: inflated by the test, gzip-compressed as
  // stored, and as standard input: a pipe's reads are short, so records are cut at the window's end
  // all along), and its records as a pcapng
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lens-test-'));
  const file = path.join(dir, 'many-1000.pcap');
  fs.writeFileSync(file, zlib.gunzipSync(fs.readFileSync(fixture('fresh', 'many-1000.pcap.gz'))));
  // the same records as a pcapng (Enhanced Packet Blocks, little-endian), built from the pcap's records
  const plain = fs.readFileSync(file);
  const blocks = [shb(false), idb(false, plain.readUInt32LE(20))];
  for (let at = 24; at + 16 <= plain.length;) {
    const caplen = plain.readUInt32LE(at + 8);
    const h = Buffer.alloc(20);
    const us = plain.readUInt32LE(at) * 1e6 + plain.readUInt32LE(at + 4);
    h.writeUInt32LE(Math.floor(us / 2 ** 32), 4); h.writeUInt32LE(us % 2 ** 32, 8); h.writeUInt32LE(caplen, 12); h.writeUInt32LE(plain.readUInt32LE(at + 12), 16);
    blocks.push({ type: 6, body: Buffer.concat([h, plain.subarray(at + 16, at + 16 + caplen)]) });
    at += 16 + caplen;
  }
  const ng = path.join(dir, 'many-1000.pcapng');
  fs.writeFileSync(ng, pcapng(false, blocks));
  // where a scan may be thrown away: after its loop, or where the input has ended (once, at the end)
  const atTheEnd = new Set(['report(src, opts, pos);', 'if (got === 0 && !inHead) break;', 'if (!inHead) {', 'if (got === 0) break;']);
  try {
    const runs: Array<[string, Deopt[]]> = [
      ['pcap file', cliDeopts(file)],
      ['gzip file', cliDeopts(fixture('fresh', 'many-1000.pcap.gz'))],
      ['pcap, standard input', cliDeopts(file, { stdin: true })],
      ['pcapng file', cliDeopts(ng)],
      ['pcapng, standard input', cliDeopts(ng, { stdin: true })],
    ];
    for (const [input, deopts] of runs) {
      const scans = deopts.filter((d) => d.fn === 'scanPcap' || d.fn === 'scanPcapng');
      assert.deepEqual(scans.filter((d) => !atTheEnd.has(d.line)), [], `${input}: a scan loop thrown away mid-input`);
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

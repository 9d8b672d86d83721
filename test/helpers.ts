import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { analyzeBytes, checkCapture, type CheckedCapture } from '../src/analyze.ts';
import type { CheckerConfig } from '../src/check/checker.ts';
import type { PacketFacts } from '../src/mptcp/model.ts';
import { decodeFrame, type DecodedFrame } from '../src/wire/packet.ts';
import { DEFAULT_LIMITS, Tracker } from '../src/mptcp/tracker.ts';
import { scanCapture } from '../src/capture/reader.ts';
import { BufferSource } from '../src/capture/source.ts';
import { deriveFromKey } from '../src/mptcp/crypto.ts';

export interface Seen { frame: DecodedFrame; facts: PacketFacts }

/** Analyses a fixture and keeps every packet's decode and facts (small captures only). */
export async function packetsOf(file: string, bytes?: Uint8Array): Promise<{ packets: Seen[]; analysis: Awaited<ReturnType<typeof analyzeBytes>> }> {
  const packets: Seen[] = [];
  const analysis = await analyzeBytes(file, bytes ?? fs.readFileSync(file), { onPacket: (frame, facts) => packets.push({ frame, facts }) });
  return { packets, analysis };
}

/** Where each frame's bytes sit in the file. */
export async function frameOffsets(bytes: Uint8Array): Promise<Map<number, { offset: number; frame: DecodedFrame }>> {
  const m = new Map<number, { offset: number; frame: DecodedFrame }>();
  await analyzeBytes('x', bytes, { onPacket: (f) => m.set(f.frame, { offset: f.dataOffset, frame: f }) });
  return m;
}

/**
 * Rewrites bytes of one frame of a real capture (the fault-injection helper of the checker tests).
 * `edit` gets the frame's bytes (a view into a copy of the file) and the decoded frame, whose
 * offsets (tcp.offset, options' offsets) locate what to change.
 */
export async function rewriteFrame(file: string | Buffer, frameNo: number, edit: (bytes: Buffer, frame: DecodedFrame) => void): Promise<Buffer> {
  const bytes = Buffer.from(typeof file === 'string' ? fs.readFileSync(file) : file);
  const at = (await frameOffsets(bytes)).get(frameNo);
  if (!at) throw new Error(`no frame ${frameNo} in ${typeof file === 'string' ? file : 'the capture'}`);
  edit(bytes.subarray(at.offset, at.offset + at.frame.caplen), at.frame);
  return bytes;
}

/** Offset (in the frame) of the n-th MPTCP option of the frame, by subtype name. */
export function optionOffset(frame: DecodedFrame, bytes: Buffer, subtype: number, nth = 0): number {
  const refs = frame.tcp!.mptcpOptions.filter((r) => bytes[r.offset + 2] >> 4 === subtype);
  if (!refs[nth]) throw new Error(`frame ${frame.frame} has no MPTCP subtype ${subtype} option #${nth}`);
  return refs[nth].offset;
}

/**
 * Checks a capture. Every check is run twice, the second time with every rule called on every
 * packet: the findings must be the same (rules marked changesOnly lose nothing on quiet packets).
 */
export async function check(name: string, bytes: Uint8Array, config?: CheckerConfig): Promise<CheckedCapture> {
  const r = await checkCapture({ bytes, name }, config);
  const all = await checkCapture({ bytes, name }, { ...config, everyPacket: true });
  assert.deepEqual(r.findings, all.findings, `${name}: skipping quiet packets changed the findings`);
  assert.deepEqual([...r.suppressed], [...all.suppressed], `${name}: skipping quiet packets changed the suppressed counts`);
  return r;
}

/** Record boundaries of a classic pcap: [start of record header, end of data] per frame. */
async function pcapRecords(bytes: Buffer): Promise<Map<number, [number, number]>> {
  const m = new Map<number, [number, number]>();
  for (const [n, { offset, frame }] of await frameOffsets(bytes)) m.set(n, [offset - 16, offset + frame.caplen]);
  return m;
}

/** A classic pcap without the given frames (as if the capture had missed them). */
export async function dropFrames(file: string, frames: number[]): Promise<Buffer> {
  const bytes = fs.readFileSync(file);
  const recs = await pcapRecords(bytes);
  const parts = [bytes.subarray(0, 24)];
  for (const [n, [s, e]] of recs) if (!frames.includes(n)) parts.push(bytes.subarray(s, e));
  return Buffer.concat(parts);
}

/** A classic pcap with a copy of `frame` inserted right after it (a retransmission), edited. */
export async function duplicateFrame(file: string, frameNo: number, edit: (bytes: Buffer, frame: DecodedFrame) => void): Promise<Buffer> {
  const bytes = fs.readFileSync(file);
  const offs = await frameOffsets(bytes);
  const recs = await pcapRecords(bytes);
  const [s, e] = recs.get(frameNo)!;
  const copy = Buffer.from(bytes.subarray(s, e));
  edit(copy.subarray(16), offs.get(frameNo)!.frame);
  return Buffer.concat([bytes.subarray(0, e), copy, bytes.subarray(e)]);
}

/** A viewer session over a capture, as the extension host builds it from the worker's output. */
export async function viewerSession(file: string, chunkSize = 16): Promise<import('../src/viewer/session.ts').CaptureSession> {
  const { CaptureSession } = await import('../src/viewer/session.ts');
  const { analyzeForViewer } = await import('../src/viewer/analyze.ts');
  const bytes = fs.readFileSync(file);
  const s = new CaptureSession((o, n) => bytes.subarray(o, o + n));
  const r = await analyzeForViewer({ file }, { chunkSize, onChunk: (cols, n) => s.appendChunk(cols, n) });
  s.finish(r.findings, r.connections, r.problems, r.diagrams);
  return s;
}

/**
 * A classic pcap of `count` copies of one frame of a real capture, each on its own TCP 4-tuple
 * (source port and, past 60,000, destination port varied; the sequence number set to the copy's
 * index): pathological captures made from real bytes.
 */
export async function repeatFrame(file: string, frameNo: number, count: number): Promise<Buffer> {
  const src = fs.readFileSync(file);
  const at = (await frameOffsets(src)).get(frameNo)!;
  const rec = src.subarray(at.offset - 16, at.offset + at.frame.caplen);
  const t = at.frame.tcp!;
  const out = Buffer.alloc(24 + rec.length * count);
  src.copy(out, 0, 0, 24);
  for (let i = 0; i < count; i++) {
    const o = 24 + i * rec.length;
    rec.copy(out, o);
    const d = o + 16;
    out.writeUInt16BE(1024 + (i % 60000), d + t.offset);
    out.writeUInt16BE(5201 + Math.floor(i / 60000), d + t.offset + 2);
    out.writeUInt32BE(i, d + t.offset + 4);
  }
  return out;
}

/**
 * The pieces of a classic pcap holding the first `count` records of a real classic pcap, its
 * records repeated in order as many times as needed (the same connections again and again, as a
 * long capture has them): the file header, then a record at a time. A record cut short ends the list.
 */
export function* repeatedRecords(file: string, count: number): Generator<Uint8Array> {
  const src = fs.readFileSync(file);
  const le = src.readUInt32LE(0) === 0xa1b2c3d4 || src.readUInt32LE(0) === 0xa1b23c4d;
  assert.ok(le || src.readUInt32BE(0) === 0xa1b2c3d4 || src.readUInt32BE(0) === 0xa1b23c4d, `${file} is not a classic pcap`);
  const records: Uint8Array[] = [];
  for (let o = 24; o + 16 <= src.length;) {
    const len = le ? src.readUInt32LE(o + 8) : src.readUInt32BE(o + 8);
    if (o + 16 + len > src.length) break;
    records.push(src.subarray(o, o + 16 + len));
    o += 16 + len;
  }
  yield src.subarray(0, 24);
  for (let i = 0; i < count; i++) yield records[i % records.length];
}

/** repeatedRecords as one buffer. */
export function repeatCapture(file: string, count: number): Buffer {
  return Buffer.concat([...repeatedRecords(file, count)]);
}

/**
 * A busy server's capture made of a real one, record by record (the classic pcap file header
 * first): copies of a little-endian classic pcap one after another, `count` records in all, copy k
 * `k × gap` seconds later, its server port (5201) made 5201 + k, every MP_CAPABLE key's high 32 bits
 * XORed with k and every MP_JOIN SYN's token made the one of its connection's new key, so that each
 * copy's connections are new ones (their own 4-tuples, keys and tokens; their joins tied by token,
 * their HMACs then wrong in every copy alike). The benchmark's largest decoding row reads such copies
 * of a capture shorter than it.
 */
export function copiesOf(file: string, count: number, gap: number): Generator<Uint8Array> {
  const src = fs.readFileSync(file);
  assert.equal(src.readUInt32LE(0), 0xa1b2c3d4, `${file} is not a little-endian classic pcap`);
  const linkType = src.readUInt32LE(20) & 0xffff;
  // the connections' keys by token (a tracker over the capture, synchronously: the benchmark's script has no top-level await)
  const tracker = new Tracker(DEFAULT_LIMITS);
  scanCapture(new BufferSource(file, src), (rec, data) => { tracker.process(decodeFrame(rec, data), data); });
  const keyOfToken = new Map<number, { key: bigint; version: number }>();
  for (const c of tracker.connections) {
    for (const side of [0, 1] as const) {
      const key = c.keys[side];
      const token = c.tokens[side];
      if (key !== undefined && token !== undefined && c.version !== undefined) keyOfToken.set(token, { key, version: c.version });
    }
  }
  function* records(): Generator<Uint8Array> {
    yield src.subarray(0, 24);
    let n = 0;
    for (let k = 0; n < count; k++) {
      const before = n;
      for (let o = 24; o + 16 <= src.length && n < count; n++) {
        const caplen = src.readUInt32LE(o + 8);
        if (o + 16 + caplen > src.length) break;
        const rec = Buffer.from(src.subarray(o, o + 16 + caplen));
        o += 16 + caplen;
        rec.writeUInt32LE(rec.readUInt32LE(0) + k * gap, 0);
        const data = rec.subarray(16);
        const t = k > 0 ? decodeFrame({ frame: n + 1, dataOffset: 0, caplen, origlen: caplen, tsSec: 0, tsNsec: 0, linkType, interfaceId: 0 }, data).tcp : undefined;
        if (t) {
          const at = t.offset;
          if (data.readUInt16BE(at) === 5201) data.writeUInt16BE(5201 + k, at);
          if (data.readUInt16BE(at + 2) === 5201) data.writeUInt16BE(5201 + k, at + 2);
          for (const ref of t.mptcpOptions) {
            const p = ref.offset;
            const subtype = data[p + 2] >> 4;
            if (subtype === 0 && ref.length >= 12) { // MP_CAPABLE with a key
              for (const key of ref.length >= 20 ? [p + 4, p + 12] : [p + 4]) data.writeUInt32BE((data.readUInt32BE(key) ^ k) >>> 0, key);
            } else if (subtype === 1 && ref.length === 12 && (t.flags & 0x12) === 0x02) { // MP_JOIN SYN
              const named = keyOfToken.get(data.readUInt32BE(p + 4));
              if (named) data.writeUInt32BE(deriveFromKey(named.key ^ (BigInt(k) << 32n), named.version).token >>> 0, p + 4);
            }
          }
        }
        yield rec;
      }
      if (n === before) return; // no whole record in the file
    }
  }
  return records();
}

/** one deoptimization V8 traced: the function it threw away and the line of the built CLI where */
export interface Deopt { fn: string; line: string }

/**
 * Runs the built CLI's `check --format json` with V8 tracing its deoptimizations, compiling on the
 * main thread (a function is compiled as soon as it is hot: no timing), and returns them. `stdin`:
 * a file given as standard input (`-`) instead of by name.
 */
export function cliDeopts(file: string, opts: { stdin?: boolean } = {}): Deopt[] {
  const cli = path.join(__dirname, '..', 'dist', 'cli.js');
  const r = spawnSync(process.execPath, ['--no-concurrent-recompilation', '--trace-deopt-verbose', cli, 'check', '--format', 'json', opts.stdin ? '-' : file], {
    encoding: 'utf8', maxBuffer: 1 << 26, input: opts.stdin ? fs.readFileSync(file) : undefined,
  });
  assert.equal(r.status, 0, r.stderr);
  // positions are in the file V8 compiled: the CLI's code (dist/cli-core.js, which dist/cli.js loads)
  const files = new Map<string, string[]>();
  const lineOf = (file: string, n: number) => {
    // Node's own modules (node:buffer …) are not files: their line is not ours to read
    if (!files.has(file)) files.set(file, fs.existsSync(file) ? fs.readFileSync(file, 'utf8').split('\n') : []);
    return files.get(file)![n - 1]?.trim() ?? `${file}:${n}`;
  };
  const deopts = [...r.stdout.matchAll(/deoptimizing [^\n]*<JSFunction (\S+) [\s\S]*?;;; deoptimize at <([^>]*):(\d+):\d+>/g)].map((m) => ({ fn: m[1], line: lineOf(m[2], Number(m[3])) }));
  assert.ok(deopts.length > 0, 'V8 traced its deoptimizations');
  return deopts;
}

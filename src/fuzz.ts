/**
 * The fuzz harness: mutates real captures (flipped bytes, cut files, shuffled pcapng blocks, random
 * MPTCP option bytes, impossible lengths) and runs the readers, the dissector, the tracker, the
 * checker and every output format over each mutant. Anything thrown other than a CaptureError is a
 * crash; anything slower than the limit is a hang. Deterministic for a seed.
 */
import { checkCapture } from './analyze.ts';
import { scanCapture } from './capture/reader.ts';
import { BufferSource, type ByteSource } from './capture/source.ts';
import { CaptureError } from './errors.ts';
import { decodeJson, decodeLine } from './format/decode.ts';
import { fieldsLine, SUPPORTED_FIELDS } from './format/fields.ts';
import { reportJson, reportSarif } from './format/report.ts';
import { summaryJson } from './format/summary.ts';
import type { HeapBudget } from './mptcp/tracker.ts';

/** xorshift32: small, fast and reproducible. */
export class Rng {
  constructor(private s: number) { if (this.s === 0) this.s = 0x9e3779b9; }
  next(): number {
    let x = this.s;
    x ^= x << 13; x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5; x >>>= 0;
    this.s = x;
    return x;
  }
  int(n: number): number { return this.next() % n; }
}

export type Mutation = 'flip' | 'cut' | 'shuffle-blocks' | 'mptcp-options' | 'lengths' | 'splice' | 'zero-run';

/** Positions of MPTCP option kind bytes (30) followed by a plausible length, a cheap way to hit options. */
function optionSpots(b: Buffer): number[] {
  const out: number[] = [];
  for (let i = 0; i + 2 < b.length && out.length < 4096; i++) if (b[i] === 30 && b[i + 1] >= 3 && b[i + 1] <= 40 && b[i + 2] >> 4 <= 8) out.push(i);
  return out;
}

export function mutate(src: Buffer, rng: Rng, kind: Mutation): Buffer {
  const b = Buffer.from(src);
  switch (kind) {
    case 'flip': {
      const n = 1 + rng.int(16);
      for (let i = 0; i < n; i++) b[rng.int(b.length)] ^= 1 << rng.int(8);
      return b;
    }
    case 'cut':
      return b.subarray(0, rng.int(b.length));
    case 'zero-run': {
      const at = rng.int(b.length);
      b.fill(rng.int(2) ? 0 : 0xff, at, Math.min(b.length, at + 1 + rng.int(64)));
      return b;
    }
    case 'lengths': {
      // overwrite 32-bit words with boundary values (record and block lengths live in such words)
      const n = 1 + rng.int(4);
      const vals = [0, 1, 0xffffffff, 0x7fffffff, 262144, 262145, 65535, 12, 16];
      for (let i = 0; i < n; i++) { const at = rng.int(Math.max(1, b.length - 4)) & ~3; b.writeUInt32LE(vals[rng.int(vals.length)], at); }
      return b;
    }
    case 'mptcp-options': {
      const spots = optionSpots(b);
      const n = 1 + rng.int(8);
      for (let i = 0; i < n && spots.length; i++) {
        const at = spots[rng.int(spots.length)];
        const which = rng.int(4);
        if (which === 0) b[at + 1] = rng.int(256); // length
        else if (which === 1) b[at + 2] = rng.int(256); // subtype / version / flags
        else if (which === 2) b[at + 3] = rng.int(256);
        else for (let k = 4; k < 12 && at + k < b.length; k++) b[at + k] = rng.int(256);
      }
      return b;
    }
    case 'shuffle-blocks': {
      // pcapng: swap two blocks; pcap: swap two record-sized spans
      const le = b.readUInt32LE(0) === 0x0a0d0d0a ? b.readUInt32LE(8) === 0x1a2b3c4d : true;
      const blocks: Array<[number, number]> = [];
      if (b.readUInt32LE(0) === 0x0a0d0d0a) {
        for (let o = 0; o + 12 <= b.length && blocks.length < 100000; ) {
          const len = le ? b.readUInt32LE(o + 4) : b.readUInt32BE(o + 4);
          if (len < 12 || o + len > b.length) break;
          blocks.push([o, o + len]);
          o += len;
        }
      } else {
        for (let o = 24; o + 16 <= b.length && blocks.length < 100000; ) {
          const len = b.readUInt32LE(o + 8);
          if (o + 16 + len > b.length) break;
          blocks.push([o, o + 16 + len]);
          o += 16 + len;
        }
      }
      if (blocks.length < 3) return b;
      const i = 1 + rng.int(blocks.length - 1);
      const j = 1 + rng.int(blocks.length - 1);
      const [x, y] = i < j ? [blocks[i], blocks[j]] : [blocks[j], blocks[i]];
      return Buffer.concat([b.subarray(0, x[0]), b.subarray(y[0], y[1]), b.subarray(x[1], y[0]), b.subarray(x[0], x[1]), b.subarray(y[1])]);
    }
    case 'splice': {
      // repeat a random span (duplicated packets, retransmissions, overlapping mappings)
      const at = rng.int(b.length);
      const len = 1 + rng.int(Math.min(4096, b.length - at));
      return Buffer.concat([b.subarray(0, at + len), b.subarray(at, at + len), b.subarray(at + len)]);
    }
  }
}

export const MUTATIONS: Mutation[] = ['flip', 'cut', 'shuffle-blocks', 'mptcp-options', 'lengths', 'splice', 'zero-run'];

/**
 * The bytes as a pipe gives them: forward only, of unknown size, in pieces of 1, 3, 64, 1,000 and
 * 65,536 bytes in turn (standard input read by DescriptorSource).
 */
export class PieceSource implements ByteSource {
  readonly size = Infinity;
  readonly sequential = true;
  private pos = 0;
  private turn = 0;
  constructor(readonly name: string, private readonly bytes: Uint8Array) {}
  readInto(target: Buffer, targetOffset: number, length: number, position: number): number {
    if (position !== this.pos) throw new Error(`PieceSource: read at ${position}, the input is at ${this.pos}`);
    const piece = [1, 3, 64, 1000, 65536][this.turn++ % 5];
    const n = Math.max(0, Math.min(length, piece, this.bytes.length - position));
    target.set(this.bytes.subarray(position, position + n), targetOffset);
    this.pos += n;
    return n;
  }
  close(): void {}
}

/**
 * What a reader makes of the bytes: every record (frame, offset, lengths, time, interface, a sum of
 * its bytes) and every problem, or the one-line refusal.
 */
function readerOutcome(src: ByteSource): string {
  const out: string[] = [];
  try {
    const res = scanCapture(src, (r, data) => {
      let sum = 0;
      for (let i = 0; i < data.length; i++) sum = (sum * 31 + data[i]) >>> 0;
      out.push(`${r.frame} ${r.dataOffset} ${r.caplen} ${r.origlen} ${r.tsSec}.${r.tsNsec} ${r.linkType}/${r.interfaceId} ${data.length} ${sum}`);
    });
    for (const p of res.problems) out.push(`problem ${p.offset} ${p.frame} ${p.message.replace('input ends', 'file ends')}`);
    out.push(`packets ${res.packets} ${res.stoppedEarly} ${res.format} ${res.linkTypes} ${res.snaplen}`);
  } catch (err) {
    if (!(err instanceof CaptureError)) throw err;
    out.push(`refused ${err.message}`);
  }
  return out.join('\n');
}

/** The readers over the bytes as a file and as a pipe gives them must agree record for record. */
export function checkForwardOnly(name: string, bytes: Uint8Array): void {
  const file = readerOutcome(new BufferSource(name, bytes));
  const pipe = readerOutcome(new PieceSource(name, bytes));
  if (file !== pipe) {
    const a = file.split('\n');
    const b = pipe.split('\n');
    const i = a.findIndex((l, k) => l !== b[k]);
    throw new Error(`forward-only reading differs at line ${i + 1}: file "${a[i]}", pipe "${b[i]}"`);
  }
}

export interface FuzzOutcome { ok: boolean; userError?: string; crash?: string; ms: number }

/** A heap budget spent from the second reading on (each new stream), never halting. */
function alwaysShort(): HeapBudget {
  let readings = 0;
  return { limit: 2 ** 20, stopAt: 0, haltAt: Infinity, used: () => (++readings > 1 ? 1 : 0), probeEvery: 1 };
}

/** Runs every stage and output over one input; a CaptureError is a clean refusal, anything else a crash. */
export async function runOne(name: string, bytes: Uint8Array): Promise<FuzzOutcome> {
  const t0 = Date.now();
  const tb = {};
  try {
    checkForwardOnly(name, bytes);
    const r = await checkCapture({ bytes, name }, {}, {
      onPacket: (f, facts) => { fieldsLine(SUPPORTED_FIELDS, f, facts); decodeLine(f, facts, tb); JSON.stringify(decodeJson(f, facts)); },
    });
    JSON.stringify(summaryJson(r));
    JSON.stringify(reportJson([{ capture: r, findings: r.findings }]));
    JSON.stringify(reportSarif([{ file: r.file, findings: r.findings }], 'fuzz'));
    for (const f of r.findings) if (!f.message || !f.rfc.url.startsWith('https://www.rfc-editor.org/')) throw new Error(`bad finding ${JSON.stringify(f)}`);
    // again as if memory had run short from the first stream on: every new stream retires whatever is
    // closed (no quiet time), so that retirement meets every damaged capture too
    const retiring = await checkCapture({ bytes, name }, {}, { limits: { maxStreams: 200_000, heap: alwaysShort() }, retireAfter: { packets: 0, seconds: 0 } });
    JSON.stringify(summaryJson(retiring));
    JSON.stringify(reportJson([{ capture: retiring, findings: retiring.findings }]));
    return { ok: true, ms: Date.now() - t0 };
  } catch (err) {
    if (err instanceof CaptureError) {
      if (err.message.includes('\n')) return { ok: false, crash: `multi-line CaptureError: ${err.message}`, ms: Date.now() - t0 };
      return { ok: true, userError: err.message, ms: Date.now() - t0 };
    }
    return { ok: false, crash: (err as Error)?.stack ?? String(err), ms: Date.now() - t0 };
  }
}

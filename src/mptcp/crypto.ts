/**
 * Key-derived values and authentication codes (RFC 8684 §3.1, §3.2, §3.3.1, §3.4.1; RFC 6824 the same
 * sections). v1 uses SHA-256 and HMAC-SHA256, v0 SHA-1 and HMAC-SHA1; keys are hashed as 8 bytes in
 * network order.
 */
import * as crypto from 'node:crypto';

const algo = (version: number) => (version === 0 ? 'sha1' : 'sha256');

function keyBytes(key: bigint): Buffer {
  const b = Buffer.allocUnsafe(8);
  b.writeBigUInt64BE(BigInt.asUintN(64, key));
  return b;
}

/** The HMAC key of two MPTCP keys, `first`‖`second`, in one buffer (not three, as a concat of two would make). */
function keyPair(first: bigint, second: bigint): Buffer {
  const b = Buffer.allocUnsafe(16);
  b.writeBigUInt64BE(BigInt.asUintN(64, first), 0);
  b.writeBigUInt64BE(BigInt.asUintN(64, second), 8);
  return b;
}

export interface KeyDerived {
  /** most significant 32 bits of H(key) */
  token: number;
  /** least significant 64 bits of H(key) */
  idsn: bigint;
}

/** per version (0, and 1 for the rest), by key: a key is derived again at each packet that carries it */
const derivedCache = [new Map<bigint, KeyDerived>(), new Map<bigint, KeyDerived>()];

/**
 * A digest in one call: `crypto.hash` (Node 20.12 and later, VS Code's runtime among them) takes half
 * the time of a Hash object for an 8-byte key (a busy capture derives two per connection); the
 * Hash object where it is missing.
 */
const digest: (algorithm: string, data: Buffer) => Buffer = typeof crypto.hash === 'function'
  ? (algorithm, data) => crypto.hash(algorithm, data, 'buffer')
  : (algorithm, data) => crypto.createHash(algorithm).update(data).digest();

export function deriveFromKey(key: bigint, version: number): KeyDerived {
  const cache = derivedCache[version === 0 ? 0 : 1];
  let d = cache.get(key);
  if (!d) {
    const h = digest(algo(version), keyBytes(key));
    d = { token: h.readUInt32BE(0), idsn: h.readBigUInt64BE(h.length - 8) };
    if (cache.size > 100000) cache.clear();
    cache.set(key, d);
  }
  return d;
}

function hmac(version: number, key: Buffer, msg: Buffer): Buffer {
  return crypto.createHmac(algo(version), key).update(msg).digest();
}

function nonces(a: number, b: number): Buffer {
  const m = Buffer.allocUnsafe(8);
  m.writeUInt32BE(a >>> 0, 0);
  m.writeUInt32BE(b >>> 0, 4);
  return m;
}

/**
 * MP_JOIN SYN/ACK: leftmost 64 bits of HMAC(Key-B‖Key-A, R-B‖R-A), where A initiated the subflow
 * and B answers it.
 */
export function joinHmacSynAck(version: number, keyA: bigint, keyB: bigint, nonceA: number, nonceB: number): bigint {
  const h = hmac(version, keyPair(keyB, keyA), nonces(nonceB, nonceA));
  return h.readBigUInt64BE(0);
}

/** MP_JOIN third ACK: leftmost 160 bits of HMAC(Key-A‖Key-B, R-A‖R-B). */
export function joinHmacAck(version: number, keyA: bigint, keyB: bigint, nonceA: number, nonceB: number): Buffer {
  const h = hmac(version, keyPair(keyA, keyB), nonces(nonceA, nonceB));
  return h.subarray(0, 20);
}

export interface AddAddrHmac {
  /** RFC 8684 §3.4.1: the rightmost 64 bits */
  rightmost: bigint;
  /** what early Linux sent: the leftmost 64 bits */
  leftmost: bigint;
}

/**
 * ADD_ADDR (v1) HMAC-SHA256 keyed with the sender's key‖receiver's key over
 * address ID‖address‖port (port as two zero bytes when absent).
 */
export function addAddrHmac(senderKey: bigint, receiverKey: bigint, addressId: number, address: Buffer, port: number | undefined): AddAddrHmac {
  const msg = Buffer.alloc(1 + address.length + 2);
  msg[0] = addressId;
  address.copy(msg, 1);
  msg.writeUInt16BE(port ?? 0, 1 + address.length);
  const h = hmac(1, keyPair(senderKey, receiverKey), msg);
  return { rightmost: h.readBigUInt64BE(h.length - 8), leftmost: h.readBigUInt64BE(0) };
}

/**
 * Incremental 16-bit ones'-complement sum (RFC 1071), over data that may arrive in pieces of any
 * length: a piece that starts at an odd position is summed with its bytes swapped into place.
 * Summed four bytes at a time (a 32-bit word adds hi + lo, mod 2^16 - 1, as two 16-bit words do),
 * in a double that stays exact below 2^53, folded at the end of each piece: checksummed captures
 * spend most of their decoding here.
 */
export class OnesSum {
  private sum = 0;
  private odd = false;

  add(b: Uint8Array, start: number, end: number): void {
    let s = this.sum;
    let i = start;
    if (this.odd && i < end) {
      s += b[i++];
      this.odd = false;
    }
    const words = (end - i) >>> 2;
    if (words >= 8) {
      // a piece lies within one record (at most 256 KiB), each word below 2^32: far below 2^53
      const view = new DataView(b.buffer, b.byteOffset + i, words * 4);
      for (let k = 0; k < words * 4; k += 4) s += view.getUint32(k);
      i += words * 4;
    }
    const pairsEnd = i + ((end - i) & ~1);
    for (; i < pairsEnd; i += 2) s += (b[i] << 8) | b[i + 1];
    if (i < end) {
      s += b[i] << 8;
      this.odd = true;
    }
    while (s > 0xffffffff) s = (s % 4294967296) + Math.floor(s / 4294967296);
    this.sum = s;
  }

  addWord16(v: number): void {
    // pseudo-header words are always at even positions
    this.sum += v & 0xffff;
  }

  /** the folded sum (not complemented) */
  folded(): number {
    let s = this.sum;
    while (s > 0xffff) s = (s & 0xffff) + Math.floor(s / 65536);
    return s;
  }
}

/**
 * DSS checksum (RFC 8684 §3.3.1): the ones'-complement of the ones'-complement sum over the
 * pseudo-header (64-bit DSN, 32-bit subflow sequence number, 16-bit data-level length, 16 zero bits)
 * and the mapped payload, whose sum is given.
 */
export function dssChecksum(dsn: bigint, subflowSeq: number, length: number, payload: OnesSum): number {
  const s = new OnesSum();
  const d = BigInt.asUintN(64, dsn);
  s.addWord16(Number((d >> 48n) & 0xffffn));
  s.addWord16(Number((d >> 32n) & 0xffffn));
  s.addWord16(Number((d >> 16n) & 0xffffn));
  s.addWord16(Number(d & 0xffffn));
  s.addWord16(subflowSeq >>> 16);
  s.addWord16(subflowSeq & 0xffff);
  s.addWord16(length);
  let total = s.folded() + payload.folded();
  while (total > 0xffff) total = (total & 0xffff) + (total >>> 16);
  return ~total & 0xffff;
}

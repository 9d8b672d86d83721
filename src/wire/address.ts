import { be32 } from './bytes.ts';

const v4Cache = new Map<number, string>();

/**
 * the last two addresses asked for, in front of v4Cache: a packet's two, which the next packets of
 * its stream ask for again either way round (a Map lookup each was 3 % of a check's samples)
 */
let v4Key0 = -1, v4Text0 = '', v4Key1 = -1, v4Text1 = '', v4Next = 0;

/** Dotted-quad text of the IPv4 address at `o` (a capture holds few addresses: they are cached). */
export function ipv4ToString(b: Uint8Array, o: number): string {
  const key = be32(b, o);
  if (key === v4Key0) return v4Text0;
  if (key === v4Key1) return v4Text1;
  let s = v4Cache.get(key);
  if (s === undefined) {
    s = `${b[o]}.${b[o + 1]}.${b[o + 2]}.${b[o + 3]}`;
    if (v4Cache.size > 65536) v4Cache.clear();
    v4Cache.set(key, s);
  }
  if (v4Next === 0) { v4Key0 = key; v4Text0 = s; v4Next = 1; } else { v4Key1 = key; v4Text1 = s; v4Next = 0; }
  return s;
}

/** slots of the IPv6 text cache: a slot holds one address, its four 32-bit words and its text */
const V6_SLOTS = 1024;
const v6Words = new Uint32Array(V6_SLOTS * 4);
const v6Text: Array<string | undefined> = new Array(V6_SLOTS).fill(undefined);

/**
 * RFC 5952 text of the IPv6 address at `o` (longest zero run compressed, lower case). A capture holds
 * few addresses and each packet two: the text is cached in a small table indexed by a hash of the
 * address (made afresh for every packet it was 30 % of decoding an IPv6 capture, and each new string
 * made the tracker compare addresses character by character).
 */
export function ipv6ToString(b: Uint8Array, o: number): string {
  const w0 = be32(b, o), w1 = be32(b, o + 4), w2 = be32(b, o + 8), w3 = be32(b, o + 12);
  const slot = Math.imul(w0 ^ Math.imul(w1, 31) ^ Math.imul(w2, 961) ^ Math.imul(w3, 29791), 0x9e3779b1) >>> 22; // top 10 bits
  const i = slot * 4;
  const cached = v6Text[slot];
  if (cached !== undefined && v6Words[i] === w0 && v6Words[i + 1] === w1 && v6Words[i + 2] === w2 && v6Words[i + 3] === w3) return cached;
  const text = formatIpv6(b, o);
  v6Words[i] = w0; v6Words[i + 1] = w1; v6Words[i + 2] = w2; v6Words[i + 3] = w3;
  v6Text[slot] = text;
  return text;
}

function formatIpv6(b: Uint8Array, o: number): string {
  const words: number[] = [];
  for (let i = 0; i < 8; i++) words.push((b[o + 2 * i] << 8) | b[o + 2 * i + 1]);
  // IPv4-mapped ::ffff:a.b.c.d
  if (words[0] === 0 && words[1] === 0 && words[2] === 0 && words[3] === 0 && words[4] === 0 && words[5] === 0xffff) {
    return `::ffff:${ipv4ToString(b, o + 12)}`;
  }
  let bestStart = -1, bestLen = 0;
  for (let i = 0; i < 8;) {
    if (words[i] !== 0) { i++; continue; }
    let j = i;
    while (j < 8 && words[j] === 0) j++;
    if (j - i > bestLen && j - i >= 2) { bestStart = i; bestLen = j - i; }
    i = j;
  }
  const hex = words.map((w) => w.toString(16));
  if (bestStart < 0) return hex.join(':');
  const left = hex.slice(0, bestStart).join(':');
  const right = hex.slice(bestStart + bestLen).join(':');
  return `${left}::${right}`;
}

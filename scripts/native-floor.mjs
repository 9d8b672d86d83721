// The floor of scripts/native-floor.c in two more forms, timed alike: the C built as WebAssembly, and
// the same scan written in JavaScript over typed arrays (a struct-of-arrays model, no objects per
// packet), so that the three can be compared on one capture.
//   node scripts/native-floor.mjs /tmp/floor.wasm FILE.pcap   (build: see scripts/native-floor.c)
//   node scripts/native-floor.mjs js FILE.pcap
import * as fs from 'node:fs';

const [mode, capture] = process.argv.slice(2);
if (!mode || !capture) {
  console.error('usage: node scripts/native-floor.mjs (FLOOR.wasm | js) FILE.pcap');
  process.exit(2);
}
const bytes = fs.readFileSync(capture);

const SLOTS = 4096;
/** The C scan in JavaScript over typed arrays (one column per field): the same counts. */
function scanJs(m, size) {
  const used = new Uint8Array(SLOTS), A = new Uint32Array(SLOTS), B = new Uint32Array(SLOTS), PA = new Uint16Array(SLOTS), PB = new Uint16Array(SLOTS);
  const pk = new Float64Array(SLOTS * 2), by = new Float64Array(SLOTS * 2), lastLen = new Uint8Array(SLOTS * 2), last = new Uint8Array(SLOTS * 2 * 40);
  const ackHi = new Uint32Array(SLOTS * 2), ackLo = new Uint32Array(SLOTS * 2), dsnHi = new Uint32Array(SLOTS * 2), dsnLo = new Uint32Array(SLOTS * 2);
  const be16 = (p) => (m[p] << 8) | m[p + 1];
  const be32 = (p) => ((m[p] << 24) | (m[p + 1] << 16) | (m[p + 2] << 8) | m[p + 3]) >>> 0;
  const linkType = (m[20] | (m[21] << 8));
  const lh = linkType === 1 ? 14 : linkType === 113 ? 16 : linkType === 276 ? 20 : 0;
  let pos = 24, packets = 0, tcp = 0, repeats = 0, fresh = 0;
  while (pos + 16 <= size) {
    const caplen = (m[pos + 8] | (m[pos + 9] << 8) | (m[pos + 10] << 16) | (m[pos + 11] << 24)) >>> 0;
    const b = pos + 16; pos += 16 + caplen; packets++;
    const et = linkType === 1 ? be16(b + 12) : linkType === 113 ? be16(b + 14) : linkType === 276 ? be16(b) : 0x0800;
    if (caplen < lh + 40 || et !== 0x0800) continue;
    const ip = b + lh, ihl = (m[ip] & 15) * 4;
    if (m[ip + 9] !== 6) continue;
    const t = ip + ihl; if (t + 20 > b + caplen) continue;
    tcp++;
    const hl = (m[t + 12] >> 4) * 4, src = be32(ip + 12), dst = be32(ip + 16), sp = be16(t), dp = be16(t + 2);
    const plen = be16(ip + 2) - ihl - hl;
    let h = ((src ^ dst ^ Math.imul(sp, 0x9e3779b1) ^ Math.imul(dp, 0x9e3779b1)) >>> 0) & (SLOTS - 1);
    let dir = 0;
    for (;;) {
      if (!used[h]) { used[h] = 1; A[h] = src; B[h] = dst; PA[h] = sp; PB[h] = dp; break; }
      if (A[h] === src && B[h] === dst && PA[h] === sp && PB[h] === dp) break;
      if (A[h] === dst && B[h] === src && PA[h] === dp && PB[h] === sp) { dir = 1; break; }
      h = (h + 1) & (SLOTS - 1);
    }
    const sd = h * 2 + dir;
    pk[sd]++; by[sd] += plen > 0 ? plen : 0;
    let o = t + 20; let end = t + hl; if (end > b + caplen) end = b + caplen;
    while (o < end) {
      const kind = m[o];
      if (kind === 0) break; if (kind === 1) { o++; continue; }
      if (o + 1 >= end || m[o + 1] < 2) break;
      const len = m[o + 1];
      if (kind === 30 && len >= 4 && len <= 40 && o + len <= end && (m[o + 2] >> 4) === 2) {
        const at = sd * 40;
        let same = lastLen[sd] === len;
        for (let i = 0; same && i < len; i++) same = last[at + i] === m[o + i];
        if (same) repeats++;
        else {
          fresh++;
          for (let i = 0; i < len; i++) last[at + i] = m[o + i];
          lastLen[sd] = len;
          const fl = m[o + 3]; let q = o + 4;
          if (fl & 1) { if (fl & 2) { ackHi[sd] = be32(q); ackLo[sd] = be32(q + 4); q += 8; } else { ackHi[sd] = 0; ackLo[sd] = be32(q); q += 4; } }
          if (fl & 4) { if (fl & 8) { dsnHi[sd] = be32(q); dsnLo[sd] = be32(q + 4); } else { dsnHi[sd] = 0; dsnLo[sd] = be32(q); } }
        }
      }
      o += len;
    }
  }
  return [packets, tcp, repeats, fresh];
}
const report = (what, c, s) => console.log(`${what}: ${c[0]} packets (${c[1]} TCP, ${c[2]} repeated DSS, ${c[3]} new DSS) in ${s.toFixed(3)} s: ${(c[0] / s / 1e6).toFixed(1)} M packets/s`);

if (mode === 'js') {
  for (let run = 0; run < 3; run++) {
    const t0 = performance.now();
    const c = scanJs(bytes, bytes.length);
    report('js', c, (performance.now() - t0) / 1000);
  }
} else {
  // the file copied into the module's memory first, then scanned three times
  const pages = Math.ceil((bytes.length + (8 << 20)) / 65536);
  const memory = new WebAssembly.Memory({ initial: pages, maximum: pages });
  const { instance } = await WebAssembly.instantiate(fs.readFileSync(mode), { env: { memory } });
  const base = (instance.exports.__heap_base.value + 15) & ~15;
  new Uint8Array(memory.buffer, base, bytes.length).set(bytes);
  const counts = (base + bytes.length + 15) & ~15;
  for (let run = 0; run < 3; run++) {
    const t0 = performance.now();
    instance.exports.scan(base, bytes.length, counts);
    report('wasm', [...new Uint32Array(memory.buffer, counts, 4)], (performance.now() - t0) / 1000);
  }
}

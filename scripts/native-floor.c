// A floor for a compiled core (issue #5, "what 5 M packets/s would take"): the least a tracker does,
// in C, natively or as WebAssembly. It walks a classic pcap's records, decodes the link header
// (Ethernet, Linux cooked v1/v2), IPv4 and TCP with its options, finds the packet's stream by its
// 4-tuple (open addressing), counts its packets and bytes, compares the MPTCP DSS option with the
// direction's last one byte for byte (the repeated-DSS test), and reads a new DSS's Data ACK and DSN.
// No mappings, RTT, reinjection or checks: what the JS tracker does beyond this is the rest of its time.
//   native: gcc -O2 -o /tmp/floor scripts/native-floor.c && /tmp/floor FILE.pcap
//   JavaScript over typed arrays, the same scan: node scripts/native-floor.mjs js FILE.pcap
//   wasm (Debian's clang and lld): clang --target=wasm32 -O2 -nostdlib -Wl,--no-entry -Wl,--export=scan
//     -Wl,--export=__heap_base -Wl,--import-memory -o /tmp/floor.wasm scripts/native-floor.c
//     && node scripts/native-floor.mjs /tmp/floor.wasm FILE.pcap
#include <stdint.h>

typedef struct {
  uint32_t a, b; uint16_t pa, pb; uint8_t used; uint8_t lastLen[2];
  uint64_t packets[2], bytes[2], ack[2], maxAck[2], dsn[2];
  uint8_t last[2][40];
} Stream;
#define SLOTS 4096
static Stream table[SLOTS];

#ifdef __wasm__
// no C library in the module: the copies the compiler makes of loops call these
void *memcpy(void *d, const void *s, unsigned long n) { uint8_t *a = d; const uint8_t *b = s; while (n--) *a++ = *b++; return d; }
void *memset(void *d, int c, unsigned long n) { uint8_t *a = d; while (n--) *a++ = (uint8_t)c; return d; }
#endif

static inline uint32_t be16(const uint8_t *p) { return (uint32_t)(p[0] << 8) | p[1]; }
static inline uint32_t be32(const uint8_t *p) { return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3]; }
static inline uint64_t be64(const uint8_t *p) { return ((uint64_t)be32(p) << 32) | be32(p + 4); }
static inline uint32_t le32(const uint8_t *p) { return p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24); }

/** Walks `size` bytes of a little-endian classic pcap at `m`; counts: packets, TCP, repeated DSS, new DSS. */
uint32_t scan(const uint8_t *m, uint32_t size, uint32_t *counts) {
  for (uint32_t i = 0; i < SLOTS; i++) table[i] = (Stream){0};
  uint32_t linkType = le32(m + 20) & 0xffff;
  uint32_t lh = linkType == 1 ? 14 : linkType == 113 ? 16 : linkType == 276 ? 20 : 0;
  uint32_t pos = 24, packets = 0, tcp = 0, repeats = 0, fresh = 0;
  while (pos + 16 <= size) {
    uint32_t caplen = le32(m + pos + 8);
    const uint8_t *b = m + pos + 16;
    pos += 16 + caplen;
    packets++;
    uint32_t et = linkType == 1 ? be16(b + 12) : linkType == 113 ? be16(b + 14) : linkType == 276 ? be16(b) : 0x0800;
    if (caplen < lh + 40 || et != 0x0800) continue;
    const uint8_t *ip = b + lh;
    uint32_t ihl = (ip[0] & 15) * 4;
    if (ip[9] != 6) continue;
    const uint8_t *t = ip + ihl;
    if (t + 20 > b + caplen) continue;
    tcp++;
    uint32_t hl = (t[12] >> 4) * 4, src = be32(ip + 12), dst = be32(ip + 16), sp = be16(t), dp = be16(t + 2);
    int32_t plen = (int32_t)be16(ip + 2) - (int32_t)ihl - (int32_t)hl;
    uint32_t h = (src ^ dst ^ (sp * 0x9e3779b1u) ^ (dp * 0x9e3779b1u)) & (SLOTS - 1);
    Stream *s;
    int dir = 0;
    for (;;) {
      s = &table[h];
      if (!s->used) { s->used = 1; s->a = src; s->b = dst; s->pa = (uint16_t)sp; s->pb = (uint16_t)dp; break; }
      if (s->a == src && s->b == dst && s->pa == sp && s->pb == dp) break;
      if (s->a == dst && s->b == src && s->pa == dp && s->pb == sp) { dir = 1; break; }
      h = (h + 1) & (SLOTS - 1);
    }
    s->packets[dir]++;
    s->bytes[dir] += plen > 0 ? (uint32_t)plen : 0;
    const uint8_t *o = t + 20, *end = t + hl;
    if (end > b + caplen) end = b + caplen;
    while (o < end) {
      if (o[0] == 0) break;
      if (o[0] == 1) { o++; continue; }
      if (o + 1 >= end || o[1] < 2) break;
      uint32_t len = o[1];
      if (o[0] == 30 && len >= 4 && len <= 40 && o + len <= end && (o[2] >> 4) == 2) {
        int same = s->lastLen[dir] == len;
        for (uint32_t i = 0; same && i < len; i++) same = s->last[dir][i] == o[i];
        if (same) repeats++;
        else {
          fresh++;
          for (uint32_t i = 0; i < len; i++) s->last[dir][i] = o[i];
          s->lastLen[dir] = (uint8_t)len;
          uint32_t fl = o[3];
          const uint8_t *q = o + 4;
          if (fl & 1) {
            uint64_t a = (fl & 2) ? be64(q) : be32(q);
            q += (fl & 2) ? 8 : 4;
            s->ack[dir] = a;
            if (a > s->maxAck[dir]) s->maxAck[dir] = a;
          }
          if (fl & 4) s->dsn[dir] = (fl & 8) ? be64(q) : be32(q);
        }
      }
      o += len;
    }
  }
  counts[0] = packets; counts[1] = tcp; counts[2] = repeats; counts[3] = fresh;
  return packets;
}

#ifndef __wasm__
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <fcntl.h>
#include <unistd.h>
#include <sys/stat.h>
int main(int argc, char **argv) {
  if (argc < 2) { fprintf(stderr, "usage: floor FILE.pcap\n"); return 2; }
  int fd = open(argv[1], O_RDONLY);
  struct stat st;
  if (fd < 0 || fstat(fd, &st) != 0) { perror(argv[1]); return 2; }
  // read whole before timing (the JS reader's share is measured apart): the floor of the work itself
  uint8_t *m = malloc(st.st_size);
  for (off_t got = 0; got < st.st_size;) { ssize_t n = read(fd, m + got, st.st_size - got); if (n <= 0) return 2; got += n; }
  uint32_t c[4];
  for (int run = 0; run < 3; run++) {
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    scan(m, (uint32_t)st.st_size, c);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double sec = (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9;
    printf("native: %u packets (%u TCP, %u repeated DSS, %u new DSS) in %.3f s: %.1f M packets/s\n", c[0], c[1], c[2], c[3], sec, c[0] / sec / 1e6);
  }
  return 0;
}
#endif

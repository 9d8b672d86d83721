// Faults injected into every real kernel capture, whatever its link type, format or timing: each
// must be reported with the right rule at the right frame. The frames are found by what they carry.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { analyzeBytes } from '../src/analyze.ts';
import type { PacketFacts } from '../src/mptcp/model.ts';
import type { DecodedFrame } from '../src/wire/packet.ts';
import { captureFixtures } from './fixtures.ts';
import { check, rewriteFrame } from './helpers.ts';

const CAPTURES = captureFixtures().filter((f) => /\/(kernel|fresh)\//.test(f) && !f.includes('fallback') && !f.includes('snap128'));

async function frames(file: string): Promise<Array<{ f: DecodedFrame; facts: PacketFacts }>> {
  const out: Array<{ f: DecodedFrame; facts: PacketFacts }> = [];
  await analyzeBytes(file, fs.readFileSync(file), { onPacket: (f, facts) => out.push({ f, facts }) });
  return out;
}

const find = (all: Awaited<ReturnType<typeof frames>>, pred: (x: { f: DecodedFrame; facts: PacketFacts }) => boolean) => all.find(pred);
const optAt = (x: { facts: PacketFacts }, kind: string) => x.facts.options.find((o) => o.kind === kind)!;

for (const file of CAPTURES) {
  test(`injected faults are found at their frame: ${path.relative(path.join(__dirname, 'fixtures'), file)}`, async () => {
    const all = await frames(file);
    const expectAt = async (bytes: Buffer, rule: string, frame: number) => {
      const r = await check(path.basename(file), bytes);
      assert.ok(r.findings.some((x) => x.rule === rule && x.frame === frame), `${rule} at frame ${frame}; got ${r.findings.map((x) => `${x.rule}@${x.frame}`).join(', ')}`);
    };
    // the echoed key of the third ACK
    const third = find(all, (x) => x.facts.options.some((o) => o.kind === 'MP_CAPABLE' && o.length === 20))!;
    const cap = optAt(third, 'MP_CAPABLE');
    await expectAt(await rewriteFrame(file, third.f.frame, (b) => { b[cap.offset + 19] ^= 1; }), 'capable-key-mismatch', third.f.frame);
    // a join's SYN/ACK HMAC and third-ACK HMAC
    const synack = find(all, (x) => x.facts.options.some((o) => o.kind === 'MP_JOIN' && o.form === 'synack'));
    if (synack) {
      const o = optAt(synack, 'MP_JOIN');
      await expectAt(await rewriteFrame(file, synack.f.frame, (b) => { b[o.offset + 5] ^= 0x80; }), 'join-hmac-synack', synack.f.frame);
    }
    const jack = find(all, (x) => x.facts.options.some((o) => o.kind === 'MP_JOIN' && o.form === 'ack'));
    if (jack) {
      const o = optAt(jack, 'MP_JOIN');
      await expectAt(await rewriteFrame(file, jack.f.frame, (b) => { b[o.offset + 10] ^= 4; }), 'join-hmac-ack', jack.f.frame);
    }
    // a join SYN's token
    const jsyn = find(all, (x) => x.facts.options.some((o) => o.kind === 'MP_JOIN' && o.form === 'syn'));
    if (jsyn) {
      const o = optAt(jsyn, 'MP_JOIN');
      await expectAt(await rewriteFrame(file, jsyn.f.frame, (b) => { b[o.offset + 7] ^= 1; }), 'join-unknown-token', jsyn.f.frame);
    }
    // an ADD_ADDR HMAC
    const aa = find(all, (x) => x.facts.options.some((o) => o.kind === 'ADD_ADDR' && o.hmac !== undefined));
    if (aa) {
      const o = optAt(aa, 'ADD_ADDR');
      await expectAt(await rewriteFrame(file, aa.f.frame, (b) => { b[o.offset + o.length - 1] ^= 1; }), 'add-addr-hmac', aa.f.frame);
    }
    // an MP_FASTCLOSE key
    const fc = find(all, (x) => x.facts.options.some((o) => o.kind === 'MP_FASTCLOSE'));
    if (fc) {
      const o = optAt(fc, 'MP_FASTCLOSE');
      await expectAt(await rewriteFrame(file, fc.f.frame, (b) => { b[o.offset + 6] ^= 1; }), 'fastclose-key', fc.f.frame);
    }
    // a DSS checksum: one payload byte of a segment in a checksummed mapping
    const cs = find(all, (x) => x.facts.checksumResults.length > 0 && x.f.tcp!.payloadCaptured > 100);
    if (cs) {
      const m = cs.facts.checksumResults[0];
      await expectAt(await rewriteFrame(file, cs.f.frame, (b, f) => { b[f.tcp!.payloadOffset + 50] ^= 1; }), 'dss-checksum', m.frame);
    }
    // an unknown subtype in a DSS-only ACK
    const ack = find(all, (x) => x.facts.options.length === 1 && x.facts.options[0].kind === 'DSS' && x.f.tcp!.payloadLength === 0)!;
    const d = optAt(ack, 'DSS');
    await expectAt(await rewriteFrame(file, ack.f.frame, (b) => { b[d.offset + 2] = 0xa0 | (b[d.offset + 2] & 0x0f); }), 'option-unknown', ack.f.frame);
    // a DSS whose length does not fit its flags (the flags byte claims an 8-byte DSN it does not have)
    await expectAt(await rewriteFrame(file, ack.f.frame, (b) => { b[d.offset + 3] |= 0x04; }), 'option-length', ack.f.frame);
  });
}

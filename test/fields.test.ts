// Differential test: `mptcp-lens fields` against tshark 4.0's output for every fixture, from the
// golden files `npm run golden` wrote. Only the documented Wireshark defects are exempt.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { analyzeFile } from '../src/analyze.ts';
import { fieldsLine, WIRESHARK_DIFFERENCES } from '../src/format/fields.ts';
import { captureFixtures, GOLDEN_FIELDS, goldenPath } from './fixtures.ts';

const exempt = new Set<string>(WIRESHARK_DIFFERENCES.map((d) => d.field));

for (const file of captureFixtures()) {
  test(`fields agree with tshark: ${path.relative(process.cwd(), file)}`, async () => {
    const golden = fs.readFileSync(goldenPath(file), 'utf8').split('\n');
    golden.pop();
    const ours: string[] = [];
    await analyzeFile(file, { onPacket: (f, facts) => ours.push(fieldsLine(GOLDEN_FIELDS, f, facts)) });
    assert.equal(ours.length, golden.length, 'frame count');
    let compared = 0;
    for (let i = 0; i < golden.length; i++) {
      const g = golden[i].split('\t');
      const o = ours[i].split('\t');
      for (let j = 0; j < GOLDEN_FIELDS.length; j++) {
        const name = GOLDEN_FIELDS[j];
        // tshark 4.0 omits every DSS checksum; it must then be empty in its output and ours a real value
        if (exempt.has(name) && g[j] === '' && o[j] !== '') continue;
        assert.equal(o[j], g[j], `frame ${i + 1} ${name}`);
        compared++;
      }
    }
    assert.ok(compared > 0);
  });
}

test('the DSS checksum difference is real: tshark shows none, we show each one on the wire', async () => {
  const file = captureFixtures().find((f) => f.endsWith('kernel/checksum.pcap'))!;
  const golden = fs.readFileSync(goldenPath(file), 'utf8').split('\n');
  const col = GOLDEN_FIELDS.indexOf('tcp.options.mptcp.checksum');
  const ours: string[] = [];
  await analyzeFile(file, { onPacket: (f, facts) => ours.push(fieldsLine(GOLDEN_FIELDS, f, facts)) });
  // frame 6 is a DSS mapping with a checksum; tshark leaves the field empty
  assert.equal(golden[5].split('\t')[col], '');
  assert.match(ours[5].split('\t')[col], /^0x[0-9a-f]{4}$/);
  // frame 4 is MP_CAPABLE with data: both show its checksum
  assert.equal(ours[3].split('\t')[col], golden[3].split('\t')[col]);
  assert.equal(golden[3].split('\t')[col], '0x3a25');
});

// check's JSON report written in pieces (src/format/jsonStream.ts): byte for byte what
// JSON.stringify(report, null, 2) writes, without the whole report ever made at once.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { analyzeFile, checkCapture } from '../src/analyze.ts';
import { summaryJson } from '../src/format/summary.ts';
import { LazyArray, writeJson } from '../src/format/jsonStream.ts';
import { captureJson, reportJson } from '../src/format/report.ts';
import { fixture } from './fixtures.ts';

const written = (v: unknown) => {
  const pieces: string[] = [];
  writeJson(v, (s) => pieces.push(s));
  return { text: pieces.join(''), pieces: pieces.length };
};

test('writeJson writes what JSON.stringify(v, null, 2) writes', () => {
  const values: unknown[] = [
    null, 0, 'a\nb', [], {}, [[]], { a: [] }, { a: undefined, b: () => 1, c: [undefined, 'x'] },
    new LazyArray([], (x: number) => x),
    new LazyArray([1, 2, 3], (x) => ({ n: x, sq: [x * x, { deep: 'line\nbreak' }], none: undefined })),
    { captures: [{ file: 'x', connections: new LazyArray([{ id: 0 }, { id: 1 }], (c) => ({ ...c, subflows: [] })), findings: new LazyArray([], (f) => f), suppressed: {} }] },
    [new LazyArray(['a'], (s) => s.toUpperCase()), { empty: new LazyArray([], (s) => s) }],
    // elements written at depths 1 to 4 (indented by JSON.stringify inside one-element arrays): nested,
    // empty, primitive, undefined and function elements (null), toJSON
    new LazyArray([1, 2], (x) => (x === 1 ? undefined : () => x)),
    { a: { b: { c: new LazyArray([{ x: [1, { y: 2, z: [] }] }, 'str\n', 5, null, [], {}, [[{}]], new Date(0)], (v) => v) } } },
    [[new LazyArray([{ deep: { deeper: { deepest: [1, [2, [3]]] } } }], (v) => v)]],
  ];
  for (const v of values) assert.equal(written(v).text, JSON.stringify(v, null, 2), JSON.stringify(v));
});

test('the report of real captures, written connection by connection, equals JSON.stringify of it', async () => {
  const files = [fixture('fresh', 'many-40.pcap'), fixture('kernel', 'reject.pcap'), path.join(__dirname, '..', 'samples', 'key-mismatch.pcap')];
  const captures = await Promise.all(files.map(async (file) => { const c = await checkCapture({ file }); return { capture: c, findings: c.findings }; }));
  const report = reportJson(captures);
  const whole = JSON.stringify(report, null, 2);
  const { text, pieces } = written(report);
  assert.equal(text, whole);
  assert.ok(pieces > 40 * 2, `${pieces} pieces: one or more per connection`);
  const j = JSON.parse(whole);
  assert.equal(j.captures[0].connections.length, 40);
  assert.equal(j.captures[0].connections[39].id, 39);
  assert.deepEqual(j.captures[2].findings.map((f: { rule: string; frame: number }) => `${f.rule}@${f.frame}`).slice(0, 1), ['capable-key-mismatch@3']);
  // and the CLI writes the same bytes, a capture at a time
  const cli = spawnSync(process.execPath, [path.join(__dirname, '..', 'dist', 'cli.js'), 'check', '--format', 'json', ...files], { encoding: 'utf8', maxBuffer: 1 << 26 });
  assert.equal(cli.status, 1);
  assert.equal(cli.stdout, whole + '\n');
  // one capture alone is the same object the report holds
  assert.equal(JSON.stringify(captureJson(captures[1].capture, captures[1].findings)), JSON.stringify(report.captures[1]));
});

test('summary --json, written a connection at a time, equals JSON.stringify of the summary', async () => {
  const file = fixture('fresh', 'many-40.pcap');
  const a = await analyzeFile(file);
  const whole = JSON.stringify(summaryJson(a), null, 2);
  assert.equal(written(summaryJson(a, true)).text, whole);
  const cli = spawnSync(process.execPath, [path.join(__dirname, '..', 'dist', 'cli.js'), 'summary', '--json', file], { encoding: 'utf8', maxBuffer: 1 << 26 });
  assert.equal(cli.status, 0);
  assert.equal(cli.stdout, whole + '\n');
  assert.equal(JSON.parse(whole).connections.length, 40);
});

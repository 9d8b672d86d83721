// Damaged and hostile captures: every input that ever crashed stays a regression fixture, a short
// fixed-seed campaign runs here (`npm run fuzz` runs longer), and the CLI is run as a process over
// mutants: exit codes 0, 1 or 2 only, one-line errors, no stack trace.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import { MUTATIONS, mutate, Rng, runOne } from '../src/fuzz.ts';
import { captureFixtures, fixture } from './fixtures.ts';
import { check } from './helpers.ts';
import { CaptureError } from '../src/errors.ts';

test('every input that once crashed now runs clean', async () => {
  const dir = fixture('fuzz');
  const files = fs.readdirSync(dir).filter((f) => f.endsWith('.pcap') || f.endsWith('.pcapng'));
  assert.ok(files.length >= 2);
  for (const f of files) {
    const r = await runOne(f, fs.readFileSync(path.join(dir, f)));
    assert.equal(r.crash, undefined, `${f}: ${r.crash}`);
  }
});

test('a fixed-seed campaign: 3000 mutants of the fixtures, no crash, none slower than 10 s', async () => {
  const inputs = captureFixtures().filter((f) => fs.statSync(f).size < 300_000).map((f) => fs.readFileSync(f));
  const rng = new Rng(20261125);
  let refused = 0;
  for (let i = 0; i < 3000; i++) {
    const kind = MUTATIONS[i % MUTATIONS.length];
    const r = await runOne(`m${i}`, mutate(inputs[rng.int(inputs.length)], rng, kind));
    assert.equal(r.crash, undefined, `mutant ${i} (${kind}): ${r.crash}`);
    assert.ok(r.ms < 10_000);
    if (r.userError) refused++;
  }
  assert.ok(refused > 0 && refused < 3000, 'some mutants are refused with a one-line error, most decode');
});

test('mutants: the checker finds with its shortcuts what every rule called on every packet finds', async () => {
  // check() runs each capture twice: quiet packets skipped and rules called only for the options
  // they act on (RuleHandlers.changesOnly, .options), then every rule on every packet; the findings
  // must be the same. Mutated options make the odd packets: unknown subtypes, bad lengths, cut options.
  const inputs = captureFixtures().filter((f) => fs.statSync(f).size < 300_000).map((f) => fs.readFileSync(f));
  const rng = new Rng(20261126);
  const kinds = ['mptcp-options', 'flip', 'lengths', 'splice'] as const;
  let checked = 0, findings = 0;
  for (let i = 0; i < 1200; i++) {
    const bytes = mutate(inputs[rng.int(inputs.length)], rng, kinds[i % kinds.length]);
    let r;
    try {
      r = await check(`m${i}`, bytes);
    } catch (err) {
      if (err instanceof CaptureError) continue; // refused with a one-line error: nothing to compare
      throw err;
    }
    checked++;
    findings += r.findings.length;
  }
  assert.ok(checked > 1000 && findings > 1500, `${checked} mutants checked, ${findings} findings`);
});

test('the CLI over damaged captures: exit 0, 1 or 2, one-line errors, never a stack trace', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lens-fuzz-'));
  const cli = path.join(__dirname, '..', 'dist', 'cli.js');
  const rng = new Rng(4242);
  const srcs = [fixture('kernel', 'basic.pcapng'), fixture('tcpdump', 'mptcp-v0.pcap'), fixture('kernel', 'checksum.pcap')].map((f) => fs.readFileSync(f));
  for (let i = 0; i < 24; i++) {
    const file = path.join(dir, `m${i}.pcap`);
    fs.writeFileSync(file, mutate(srcs[i % srcs.length], rng, MUTATIONS[i % MUTATIONS.length]));
    for (const cmd of [['check', file], ['decode', file], ['summary', file, '--json']]) {
      const r = spawnSync(process.execPath, [cli, ...cmd], { encoding: 'utf8', maxBuffer: 1 << 26, timeout: 10_000 });
      assert.ok([0, 1, 2].includes(r.status ?? -1), `${cmd.join(' ')}: exit ${r.status}`);
      assert.doesNotMatch(r.stderr, /\n\s+at |internal error/, `${cmd.join(' ')}: ${r.stderr}`);
      for (const line of r.stderr.split('\n').filter(Boolean)) assert.match(line, /^mptcp-lens: /);
    }
  }
  fs.rmSync(dir, { recursive: true });
});

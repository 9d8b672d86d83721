/**
 * mptcp-lens: decode and check Multipath TCP captures from a terminal or CI.
 * Exit status: 0 success, 1 error-severity findings (check), 2 unreadable input, unwritable output or bad usage.
 */
import fs from 'node:fs';
import { parseArgs } from 'node:util';
import { isPipe } from './capture/open.ts';
import { analyzeDescriptor, analyzeFile, checkCapture, type Analysis, type AnalyzeOptions, type CheckedCapture } from './analyze.ts';
import { findRule, type CheckerConfig, type RuleSetting } from './check/checker.ts';
import { RULES } from './check/rules/index.ts';
import { severityRank, type Finding, type Severity } from './check/types.ts';
import { CaptureError } from './errors.ts';
import { decodeJson, decodeLine, findingsSuffix } from './format/decode.ts';
import { fieldsLine } from './format/fields.ts';
import { captureJson, captureSummaryLine, findingText, reportSarif, ruleCatalogueMarkdown } from './format/report.ts';
import { writeJson } from './format/jsonStream.ts';
import { summaryJson, summaryLines } from './format/summary.ts';
import { VERSION } from './version.ts';

const USAGE = `usage: mptcp-lens <command> [options] FILE

commands:
  check FILE...        verify MPTCP handshakes, joins, mappings and signalling
      --format text|json|sarif   output format (default text)
      --severity LEVEL           list findings at LEVEL or above (info, warning, error)
      --rule ID=LEVEL            set a rule to off, info, warning or error (repeatable)
  decode FILE          one line per packet in words, findings on their packet
                       [--json] [--limit N] [--no-findings]
  summary FILE         connections, keys, tokens, subflows   [--json]
  fields -e FIELD... FILE
                       tshark -T fields -E occurrence=a -E aggregator=, compatible output
  rules                the rule catalogue   [--markdown] [--json]

FILE may be - for standard input, or a pipe, pcap or pcapng, read as it arrives
(tcpdump -w - | mptcp-lens decode -, dumpcap -w - | mptcp-lens check -, check <(zcat x.pcap.gz)).
Exit status: 0 success, 1 error findings (check), 2 unreadable input, unwritable output or bad usage.`;

class UsageError extends Error {}

/**
 * Standard output, gathered as UTF-8 bytes in one buffer and written in large pieces. Text goes
 * straight into the buffer (Buffer.write): joining the pieces as strings was most of the cost of
 * `decode`, since its lines hold a "→" and V8 joins such two-byte strings about ten times slower
 * than one-byte ones (1.2 s of strings joined for 150 MB; 0.12 s written into a buffer).
 */
const out = {
  buf: Buffer.allocUnsafe(1 << 17),
  pos: 0,
  /** standard output's descriptor when it is written directly: a pipe, a file, a device (see directOutput) */
  fd: undefined as number | undefined,
  line(s: string) {
    this.write(s);
    if (this.pos >= this.buf.length) this.flush();
    this.buf[this.pos++] = 0x0a;
  },
  /** text without a line end (pieces of a JSON report) */
  write(s: string) {
    // a UTF-16 unit takes at most three bytes of UTF-8
    if (this.pos + 3 * s.length > this.buf.length) {
      this.flush();
      if (3 * s.length > this.buf.length) { this.emit(Buffer.from(s)); return; }
    }
    this.pos += this.buf.write(s, this.pos);
  },
  flush() {
    if (this.pos === 0) return;
    const bytes = this.buf.subarray(0, this.pos);
    this.pos = 0;
    // process.stdout may keep what it is given until later (a terminal on Windows): a copy then
    // (copyBytesFrom: Buffer.from of a Buffer took 1.2 ms per 100 KB measured alone, copyBytesFrom 0.06)
    this.emit(this.fd === undefined ? Buffer.copyBytesFrom(bytes) : bytes);
  },
  emit(bytes: Buffer) {
    if (this.fd === undefined) process.stdout.write(bytes);
    else writeAll(this.fd, bytes);
  },
};

const pause = new Int32Array(new SharedArrayBuffer(4));

/**
 * Writes all of `b`, waiting for the reader. A reader that went away (`| head`) makes this throw
 * EPIPE here and now, which ends the command at once rather than after decoding the rest for nobody.
 */
function writeAll(fd: number, b: Buffer): void {
  for (let o = 0; o < b.length;) {
    try {
      o += fs.writeSync(fd, b, o);
    } catch (err) {
      // the descriptor was left non-blocking after all: wait a millisecond for the reader
      if ((err as NodeJS.ErrnoException).code !== 'EAGAIN') throw err;
      Atomics.wait(pause, 0, 0, 1);
    }
  }
}

/**
 * The descriptor standard output is written through directly (writeAll), or undefined for a
 * terminal, which process.stdout writes. A pipe is written synchronously, waiting for the reader:
 * Node writes it asynchronously and queues whatever the reader has not taken yet, while our pass over
 * a capture never stops to let it drain — `mptcp-lens decode big.pcap | less` held the whole output in
 * memory (500 MB queued for 500 MB written; nodejs/node#6379), and `| head` learned of the closed
 * pipe only after the whole capture. As tsc does for its output (microsoft/TypeScript#22389), the
 * pipe is made blocking; we then write it ourselves, so that a write error is thrown where it happens.
 */
function directOutput(): number | undefined {
  if (process.stdout.isTTY) return undefined;
  const handle = (process.stdout as unknown as { _handle?: { setBlocking?: (b: boolean) => number } })._handle;
  if (typeof handle?.setBlocking === 'function') {
    handle.setBlocking(true);
    return 1;
  }
  // A file or a device (/dev/null) is written directly too: process.stdout's SyncWriteStream needed a
  // copy of every piece, and it lost write errors — a report written to a full disk (/dev/full)
  // ended with exit status 0 and nothing written.
  try {
    const st = fs.fstatSync(1);
    if (st.isFile() || st.isCharacterDevice() || st.isBlockDevice()) return 1;
  } catch {
    // no standard output to speak of: leave it to process.stdout
  }
  return undefined;
}

function progress(file: string): AnalyzeOptions['onProgress'] {
  if (!process.stderr.isTTY) return undefined;
  let last = 0;
  return (done, total) => {
    const now = Date.now();
    if (now - last < 200 && done < total) return;
    last = now;
    const pct = total ? Math.floor((done / total) * 100) : 0;
    process.stderr.write(`\r${file}: ${pct}%${done >= total ? '\n' : ''}`);
  };
}

async function analyze(file: string, opts: AnalyzeOptions): Promise<Analysis> {
  // standard input may be a live capture: what was written goes out before waiting for more
  if (file === '-') return analyzeDescriptor(0, 'standard input', { ...opts, beforeRead: () => out.flush() });
  if (isPipe(file)) return analyzeFile(file, { ...opts, beforeRead: () => out.flush() });
  return analyzeFile(file, { ...opts, onProgress: progress(file) });
}

function reportProblems(a: { scan: { problems: Array<{ offset: number; frame: number; message: string }> }; file: string }): void {
  for (const p of a.scan.problems) process.stderr.write(`mptcp-lens: ${a.file}: ${p.message} (at byte offset ${p.offset}, frame ${p.frame}); packets before it were read\n`);
}

function oneFile(positionals: string[], cmd: string): string {
  if (positionals.length !== 1) throw new UsageError(`${cmd} takes exactly one FILE (got ${positionals.length})`);
  return positionals[0];
}

async function cmdFields(args: string[]): Promise<number> {
  const fields: string[] = [];
  const files: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === '-e') { if (i + 1 >= args.length) throw new UsageError('-e needs a field name'); fields.push(args[++i]); }
    else if (a.startsWith('-e') && a.length > 2) fields.push(a.slice(2));
    else if (a === '-E') {
      const v = args[++i] ?? '';
      if (v !== 'occurrence=a' && v !== 'aggregator=,') throw new UsageError(`only -E occurrence=a and -E aggregator=, are supported (got ${v})`);
    } else if (a === '-T') { if (args[++i] !== 'fields') throw new UsageError('only -T fields is supported'); }
    else if (a === '-r') { if (i + 1 >= args.length) throw new UsageError('-r needs a file'); files.push(args[++i]); }
    else if (a.startsWith('-') && a !== '-') throw new UsageError(`unknown option ${a}`);
    else files.push(a);
  }
  if (!fields.length) throw new UsageError('fields needs at least one -e FIELD');
  const file = oneFile(files, 'fields');
  const a = await analyze(file, { onPacket: (f, facts) => out.line(fieldsLine(fields, f, facts)) });
  out.flush();
  reportProblems(a);
  return 0;
}

async function cmdDecode(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args, allowPositionals: true, options: { json: { type: 'boolean' }, limit: { type: 'string' }, 'no-findings': { type: 'boolean' } } });
  const file = oneFile(positionals, 'decode');
  const limit = values.limit !== undefined ? Number(values.limit) : undefined;
  if (limit !== undefined && !(Number.isInteger(limit) && limit > 0)) throw new UsageError('--limit takes a positive whole number');
  // Findings are known only once the capture is read: a file is checked first, then decoded with
  // each packet's findings on its line. Standard input is read once, without them.
  const byFrame = new Map<number, Finding[]>();
  if (file !== '-' && !isPipe(file) && !values['no-findings']) {
    const checked = await checkCapture({ file }, {}, { onProgress: progress(file) });
    for (const f of checked.findings) {
      const l = byFrame.get(f.frame);
      if (l) l.push(f); else byFrame.set(f.frame, [f]);
    }
  }
  const tb = {};
  const a = await analyze(file, {
    limit,
    onPacket: values.json
      ? (f, facts) => {
        const o = decodeJson(f, facts);
        const fs = byFrame.get(f.frame);
        if (fs) o.findings = fs.map((x) => ({ rule: x.rule, severity: x.severity, message: x.message, rfc: x.rfc }));
        out.line(JSON.stringify(o));
      }
      : (f, facts) => {
        out.line(decodeLine(f, facts, tb) + findingsSuffix(byFrame.get(f.frame)));
      },
  });
  out.flush();
  reportProblems(a);
  return 0;
}

async function cmdSummary(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args, allowPositionals: true, options: { json: { type: 'boolean' } } });
  const file = oneFile(positionals, 'summary');
  const a = await analyze(file, {});
  if (values.json) {
    writeJson(summaryJson(a, true), (s) => out.write(s));
    out.write('\n');
  } else for (const line of summaryLines(a)) out.line(line);
  out.flush();
  reportProblems(a);
  return 0;
}

function parseRuleSettings(list: string[] | undefined): Record<string, RuleSetting> {
  const rules: Record<string, RuleSetting> = {};
  for (const r of list ?? []) {
    const m = /^([a-z0-9-]+)=(off|info|warning|error)$/.exec(r);
    if (!m) throw new UsageError(`--rule takes ID=off|info|warning|error (got ${r})`);
    if (!findRule(m[1])) throw new UsageError(`unknown rule ${m[1]} (see mptcp-lens rules)`);
    rules[m[1]] = m[2] as RuleSetting;
  }
  return rules;
}

async function cmdCheck(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args, allowPositionals: true,
    options: { format: { type: 'string', default: 'text' }, severity: { type: 'string', default: 'info' }, rule: { type: 'string', multiple: true } },
  });
  const format = values.format!;
  if (!['text', 'json', 'sarif'].includes(format)) throw new UsageError(`--format takes text, json or sarif (got ${format})`);
  const min = values.severity as Severity;
  if (!(min in severityRank)) throw new UsageError(`--severity takes info, warning or error (got ${values.severity})`);
  if (!positionals.length) throw new UsageError('check needs at least one FILE');
  const config: CheckerConfig = { rules: parseRuleSettings(values.rule) };
  // SARIF is made at the end from each capture's findings; JSON and text are written capture by
  // capture, so that no capture's model outlives its report
  const sarif: Array<{ file: string; findings: Finding[]; offsets: (f: number) => number | undefined }> = [];
  let jsonCaptures = 0;
  let errors = 0;
  let failed = 0;
  for (const file of positionals) {
    let offsets = new Float64Array(1024);
    let n = 0;
    try {
      const capture = await checkCapture(file === '-' ? { fd: 0, name: 'standard input' } : { file }, config, {
        onProgress: file === '-' || isPipe(file) ? undefined : progress(file),
        // SARIF gives each finding's byte offset in the capture: only it needs every frame's
        onPacket: format !== 'sarif' ? undefined : (f) => {
          if (n >= offsets.length) { const g = new Float64Array(offsets.length * 2); g.set(offsets); offsets = g; }
          offsets[n++] = f.dataOffset;
        },
      });
      const findings = capture.findings.filter((f) => severityRank[f.severity] >= severityRank[min]);
      errors += capture.findings.filter((f) => f.severity === 'error').length;
      if (format === 'text') {
        for (const f of findings) out.line(findingText(capture.file, f));
        out.line(captureSummaryLine(capture, findings));
        out.flush();
        reportProblems(capture);
      } else if (format === 'json') {
        out.write(jsonCaptures++ === 0 ? '{\n  "captures": [\n    ' : ',\n    ');
        writeJson(captureJson(capture, findings), (s) => out.write(s), 2);
      } else {
        const idx = offsets;
        sarif.push({ file: capture.file, findings, offsets: (frame) => (frame >= 1 && frame <= n ? idx[frame - 1] : undefined) });
      }
    } catch (err) {
      if (!(err instanceof CaptureError)) throw err;
      process.stderr.write(`mptcp-lens: ${err.message}\n`);
      failed++;
    }
  }
  if (format === 'json') out.line(jsonCaptures ? '\n  ]\n}' : JSON.stringify({ captures: [] }, null, 2));
  else if (format === 'sarif') out.line(JSON.stringify(reportSarif(sarif, VERSION), null, 2));
  out.flush();
  if (failed) return 2;
  return errors > 0 ? 1 : 0;
}

function cmdRules(args: string[]): number {
  const { values } = parseArgs({ args, options: { markdown: { type: 'boolean' }, json: { type: 'boolean' } } });
  if (values.markdown) out.line(ruleCatalogueMarkdown().trimEnd());
  else if (values.json) out.line(JSON.stringify(RULES.map((r) => r.meta), null, 2));
  else for (const r of RULES) out.line(`${r.meta.id.padEnd(26)} ${r.meta.severity.padEnd(8)} ${r.meta.description}`);
  out.flush();
  return 0;
}

export async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  try {
    switch (cmd) {
      case 'check': return await cmdCheck(rest);
      case 'decode': return await cmdDecode(rest);
      case 'summary': return await cmdSummary(rest);
      case 'fields': return await cmdFields(rest);
      case 'rules': return cmdRules(rest);
      case '--version': case '-V': out.line(VERSION); out.flush(); return 0;
      case undefined: case '--help': case '-h': case 'help': out.line(USAGE); out.flush(); return cmd ? 0 : 2;
      default: throw new UsageError(`unknown command ${cmd}`);
    }
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EPIPE') return 0;
    if ((err as NodeJS.ErrnoException).syscall === 'write') {
      // the output could not be written (a full disk): say so in one line, and fail
      out.pos = 0;
      const code = (err as NodeJS.ErrnoException).code;
      process.stderr.write(`mptcp-lens: cannot write the output: ${code === 'ENOSPC' ? 'no space left on the device' : (err as Error).message.split('\n')[0]}\n`);
      return 2;
    }
    out.flush();
    if (err instanceof CaptureError) { process.stderr.write(`mptcp-lens: ${err.message}\n`); return 2; }
    if (err instanceof UsageError || (err as { code?: string }).code?.startsWith?.('ERR_PARSE_ARGS')) {
      process.stderr.write(`mptcp-lens: ${(err as Error).message.split('\n')[0]}\n${USAGE.split('\n')[0]}\n`);
      return 2;
    }
    // A bug of ours: still one line, never a stack trace.
    process.stderr.write(`mptcp-lens: internal error: ${(err as Error)?.message ?? String(err)} (please report it with the capture)\n`);
    return 2;
  }
}

/** Runs the CLI as a program, over process.argv: its output straight to standard output, its exit status set. */
export function run(): void {
  out.fd = directOutput();
  process.stdout.on('error', (err: NodeJS.ErrnoException) => { if (err.code === 'EPIPE') process.exit(0); });
  main(process.argv.slice(2)).then((code) => { process.exitCode = code; });
}

// run as it is built (dist/cli-core.js), or loaded by src/launch.ts (dist/cli.js), which calls run()
if (require.main === module) run();

// The extension host's logic that needs no VS Code: the packet index and session, the message
// protocol and its validation, diagnostics from findings, details and hovers.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import { BYTES_PER_PACKET, PacketIndex } from '../src/viewer/index.ts';
import { diagnosticFindings, findingToDiagnostic, ruleSettings } from '../src/viewer/diagnostics.ts';
import { handleWebviewMessage, type DocumentView } from '../src/viewer/host.ts';
import { hoverMarkdown, traceHover } from '../src/viewer/hover.ts';
import { CONNECTION_PAGE, FINDING_PAGE, parseFromWebview, type DetailNode, type HostMessage } from '../src/viewer/protocol.ts';
import { fixture } from './fixtures.ts';
import { streamTerms } from '../src/viewer/filterText.ts';
import * as zlib from 'node:zlib';
import { repeatFrame, viewerSession } from './helpers.ts';
import { inlineBundle, viewerHtml } from '../extension/viewerHtml.ts';

const SAMPLE = path.join(__dirname, '..', 'samples', 'key-mismatch.pcap');

test('the session streams in chunks and rows come back from the file by offset', async () => {
  const s = await viewerSession(SAMPLE, 7);
  assert.equal(s.index.count, 60);
  assert.equal(BYTES_PER_PACKET, 76, 'a compact index: 76 bytes a packet');
  const [r1, r2, r3] = s.rows(0, 3);
  assert.equal(r1.frame, 1);
  assert.equal(r1.src, '10.0.1.1:57992');
  assert.equal(r1.dst, '10.0.1.2:5201');
  assert.equal(r1.flags, 'S');
  assert.equal(r1.connection, -1, 'the v1 SYN has no connection yet');
  assert.equal(r1.options, 'MP_CAPABLE v1 SYN flags=0x01[H]');
  assert.equal(r2.connection, 0);
  assert.match(r2.options, /key=0x8c08771553a46fbd token=0xaa792fcf/);
  assert.equal(r3.severity, 3, 'frame 3 carries an error');
  const r20 = s.rows(19, 1)[0];
  assert.equal(r20.options, 'DSS ack=1 dsn=16385 ssn=16385 len=16384');
  assert.equal(r20.relDsn, '16385');
  assert.equal(s.connections.get(0)!.server.key, '0x8c08771553a46fbd');
  assert.deepEqual(s.connections.get(0)!.findings, { error: 1, warning: 0, info: 0 });
});

test('filters: connection, subflow, option, severity, findings only, text', async () => {
  const s = await viewerSession(SAMPLE);
  s.setFilter({ subflow: 1 });
  assert.equal(s.total(), 12);
  assert.ok(s.rows(0, 100).every((r) => r.subflow === 1));
  s.setFilter({ subtype: 1 });
  assert.deepEqual(s.rows(0, 100).map((r) => r.frame), [12, 13, 14, 16, 17, 18]);
  s.setFilter({ severity: 3 });
  assert.deepEqual(s.rows(0, 100).map((r) => r.frame), [3]);
  s.setFilter({ findingsOnly: true });
  assert.deepEqual(s.rows(0, 100).map((r) => r.frame), [3]);
  s.setFilter({ text: 'add_addr' });
  assert.deepEqual(s.rows(0, 100).map((r) => r.frame), [10, 11]);
  assert.equal(s.positionOf(11), 1);
  assert.equal(s.positionOf(12), -1);
  s.setFilter({});
  assert.equal(s.total(), 60);
});

test('stream terms in the text filter: mptcp.stream and tcp.stream as in Wireshark', async () => {
  assert.deepEqual(streamTerms('mptcp.stream == 7'), { connection: 7, contradiction: false });
  assert.deepEqual(streamTerms('  TCP.STREAM==12 '), { subflow: 12, contradiction: false });
  assert.deepEqual(streamTerms('mptcp.stream eq 0 and tcp.stream == 1'), { connection: 0, subflow: 1, contradiction: false });
  assert.deepEqual(streamTerms('tcp.stream == 1 && tcp.stream == 2'), { subflow: 2, contradiction: true });
  for (const text of ['add_addr', 'mptcp.stream == x', 'mptcp.stream == 1 && add_addr', 'ip.addr == 10.0.1.1', 'mptcp.stream', 'data ack and more']) {
    assert.equal(streamTerms(text), undefined, text);
  }
  const s = await viewerSession(SAMPLE);
  const frames = () => s.rows(0, 100).map((r) => r.frame);
  s.setFilter({ subflow: 1 });
  const subflow1 = frames();
  assert.equal(subflow1.length, 12);
  s.setFilter({ text: 'tcp.stream == 1' });
  assert.deepEqual(frames(), subflow1, 'tcp.stream is the subflow list');
  s.setFilter({ connection: 0 });
  const conn0 = frames();
  s.setFilter({ text: 'mptcp.stream == 0' });
  assert.deepEqual(frames(), conn0, 'mptcp.stream is the connection list');
  assert.equal(conn0.length, 59, 'every packet but the SYN, before the connection is known');
  s.setFilter({ text: 'mptcp.stream eq 0 and tcp.stream == 1' });
  assert.deepEqual(frames(), subflow1);
  s.setFilter({ text: 'tcp.stream == 1 && tcp.stream == 0' });
  assert.equal(s.total(), 0, 'two subflows at once: none');
  s.setFilter({ connection: 0, text: 'mptcp.stream == 1' });
  assert.equal(s.total(), 0, 'the list says 0, the text 1: none');
  s.setFilter({ connection: 0, text: 'tcp.stream == 1' });
  assert.deepEqual(frames(), subflow1, 'the list and the text together');
  s.setFilter({ text: 'mptcp.stream == 5' });
  assert.equal(s.total(), 0, 'no such connection');
});

test('a busy capture: a connection beyond the lists\' first page shown through mptcp.stream', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mptcp-lens-'));
  const file = path.join(dir, 'many-1000.pcap');
  fs.writeFileSync(file, zlib.gunzipSync(fs.readFileSync(fixture('fresh', 'many-1000.pcap.gz'))));
  try {
    const s = await viewerSession(file, 4096);
    assert.equal(s.connections.length, 1000);
    assert.ok(CONNECTION_PAGE < 900, 'connection 900 is not on the lists\' first page');
    s.setFilter({ text: 'mptcp.stream == 900' });
    const rows = s.rows(0, 1000);
    assert.equal(s.total(), rows.length);
    assert.ok(rows.length >= 8, `connection 900 has its handshake and data (${rows.length} rows)`);
    assert.ok(rows.every((r) => r.connection === 900));
    const subflows = [...new Set(rows.map((r) => r.subflow))];
    assert.deepEqual(subflows, s.connections.get(900)!.subflows.map((x) => x.tcpStream), 'the connection\'s subflows, no other');
    s.setFilter({ text: `tcp.stream == ${subflows[0]}` });
    const sub = s.rows(0, 1000);
    assert.ok(sub.every((r) => r.subflow === subflows[0]));
    assert.deepEqual(sub.filter((r) => r.connection === 900).map((r) => r.frame), rows.filter((r) => r.subflow === subflows[0]).map((r) => r.frame));
    assert.deepEqual(sub.filter((r) => r.connection !== 900).map((r) => [r.connection, r.flags]), [[-1, 'S']], 'and its SYN, before the connection is known');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('details: the field tree with byte ranges, derived values, the finding and its check', async () => {
  const s = await viewerSession(SAMPLE);
  const { tree, bytes } = s.details(3);
  assert.equal(bytes.length, s.index.get('caplen', 2));
  const find = (nodes: DetailNode[], label: string): DetailNode | undefined => {
    for (const n of nodes) {
      if (n.label === label) return n;
      const c = n.children && find(n.children, label);
      if (c) return c;
    }
    return undefined;
  };
  const opt = find(tree, 'MPTCP MP_CAPABLE')!;
  assert.equal(opt.finding?.rule, 'capable-key-mismatch');
  assert.equal(opt.rfc?.url, 'https://www.rfc-editor.org/rfc/rfc8684#section-3.1');
  const echoed = find(tree, "Receiver's key")!;
  assert.equal(echoed.value, '0x8c08771553a46fbc');
  assert.equal(echoed.check, 'bad');
  assert.equal(echoed.children![0].value, '0x8c08771553a46fbd');
  assert.equal(bytes.readBigUInt64BE(echoed.offset!), 0x8c08771553a46fbcn, 'the byte range is the field');
  const key = find(tree, "Sender's key")!;
  assert.equal(find(key.children!, 'Token (derived)')!.value, '0xffd038b3');
  // a join SYN/ACK: the expected HMAC beside the one on the wire
  const j = s.details(13).tree;
  const h = find(j, "Sender's truncated HMAC")!;
  assert.equal(h.check, 'ok');
  assert.equal(h.children![0].value, '0x23aa0f53ed7a8c4f');
});

test('protocol: unknown types are ignored, frame numbers and pages range-checked', () => {
  assert.equal(parseFromWebview({ type: 'nope' }, 60), undefined);
  assert.equal(parseFromWebview(null, 60), undefined);
  assert.equal(parseFromWebview({ type: 'getDetails', requestId: 1, frame: 61 }, 60), undefined);
  assert.equal(parseFromWebview({ type: 'getDetails', requestId: 1, frame: 0 }, 60), undefined);
  assert.equal(parseFromWebview({ type: 'getDetails', requestId: 1, frame: '3' }, 60), undefined);
  assert.deepEqual(parseFromWebview({ type: 'getDetails', requestId: 1, frame: 3, extra: '<script>' }, 60), { type: 'getDetails', requestId: 1, frame: 3 });
  assert.equal(parseFromWebview({ type: 'getRows', requestId: 1, filterId: 0, start: 0, count: 1e9 }, 60), undefined);
  assert.equal(parseFromWebview({ type: 'setFilter', filter: { subtype: 99 } }, 60), undefined);
  assert.equal(parseFromWebview({ type: 'setFilter', filter: { text: 'x'.repeat(500) } }, 60), undefined);
  assert.deepEqual(parseFromWebview({ type: 'setFilter', filter: { connection: 0, text: '' } }, 60), { type: 'setFilter', filter: { connection: 0 } });
});

test('the host answers the webview: ready, a page of rows, details, locate; stale pages are dropped', async () => {
  const session = await viewerSession(SAMPLE);
  const doc: DocumentView = { displayName: 'key-mismatch.pcap', state: 'done', progress: { packets: 60, bytesRead: 0, totalBytes: 0 }, session };
  const got: HostMessage[] = [];
  const actions = { openTrace: () => {}, copyKeys: () => {}, retry: () => {} };
  const send = (m: unknown) => handleWebviewMessage(doc, m, (x) => got.push(x), actions);
  send({ type: 'ready' });
  assert.deepEqual(got.map((m) => m.type), ['init', 'count', 'summary']);
  // the count brings the first page along (the webview shows rows without asking first)
  const count = got[1];
  assert.ok(count.type === 'count' && count.total === 60 && count.rows?.length === 60);
  assert.deepEqual(count.rows, session.rows(0, 60));
  assert.equal(count.rows[2].severity, 3);
  send({ type: 'getRows', requestId: 7, filterId: session.filterId, start: 10, count: 5 });
  const rows = got.at(-1)!;
  assert.ok(rows.type === 'rows' && rows.rows.length === 5 && rows.rows[0].frame === 11);
  const n = got.length;
  send({ type: 'getRows', requestId: 8, filterId: session.filterId + 5, start: 0, count: 5 });
  assert.equal(got.length, n, 'a request for another filter gets no answer');
  send({ type: 'locate', requestId: 9, frame: 44 });
  assert.deepEqual(got.at(-1), { type: 'located', requestId: 9, frame: 44, position: 43 });
  send({ type: 'getDetails', requestId: 10, frame: 999 });
  assert.equal(got.at(-1)!.type, 'located', 'an out-of-range frame is ignored');
});

test('diagnostics: message, severity, rule code linking the RFC, related frames; rule settings', async () => {
  const s = await viewerSession(SAMPLE);
  const d = findingToDiagnostic(s.findings[0]);
  assert.equal(d.line, 2);
  assert.equal(d.severity, 'error');
  assert.deepEqual(d.code, { value: 'capable-key-mismatch', target: 'https://www.rfc-editor.org/rfc/rfc8684#section-3.1' });
  assert.match(d.message, /^frame 3: the echoed server key .* \(RFC 8684 §3\.1\)$/);
  assert.deepEqual(d.related.map((r) => r.frame), [3, 2]);
  assert.deepEqual(ruleSettings({ a: 'off', b: 'loud', c: 'warning', d: 3 }), { a: 'off', c: 'warning' });
});

test('hover on the decoded trace: meaning, value, derived token and IDSN, the finding, the RFC link', () => {
  const line = '     3     0.000041  10.0.1.1:57992 → 10.0.1.2:5201  [.]  len=0  mptcp 0 sf 0  MP_CAPABLE v1 ACK flags=0x01[H] key=0xd25127380c168863 token=0xffd038b3 idsn=0x46e0e3f12082fac8 peer-key=0x8c08771553a46fbc  ‼ error capable-key-mismatch: the echoed server key in the third ACK is 0x8c08771553a46fbc, but the server sent 0x8c08771553a46fbd in its SYN/ACK (frame 2) [RFC 8684 §3.1]';
  const opt = traceHover(line, line.indexOf('MP_CAPABLE') + 3, 1)!;
  assert.equal(opt.title, 'MP_CAPABLE');
  assert.equal(opt.rfc.url, 'https://www.rfc-editor.org/rfc/rfc8684#section-3.1');
  assert.equal(opt.findings.length, 1);
  const md = hoverMarkdown(opt);
  assert.match(md, /\[RFC 8684 §3\.1\]\(https:\/\/www\.rfc-editor\.org\/rfc\/rfc8684#section-3\.1\)/);
  assert.match(md, /capable-key-mismatch/);
  const key = traceHover(line, line.indexOf('key=0xd2') + 5, 1)!;
  assert.match(key.lines.join('\n'), /Token: `0xffd038b3`, IDSN: `0x46e0e3f12082fac8`/);
  const dss = traceHover('    20  0.0  a → b  [P.]  len=1  mptcp 0 sf 0  DSS ack=1 dsn=16385 ssn=16385 len=16384', 60, 0)!;
  assert.equal(dss.rfc.doc, 'RFC 6824', 'a v0 connection cites RFC 6824');
  assert.equal(traceHover(line, 2, 1), undefined, 'the frame number has no hover');
});

test('a v0 capture: rows and details cite RFC 6824', async () => {
  const s = await viewerSession(fixture('tcpdump', 'mptcp-v0.pcap'));
  const r4 = s.rows(3, 1)[0];
  assert.match(r4.options, /^ADD_ADDR id=1 10\.1\.2\.2; DSS ack=\d+ dsn=1 ssn=1 len=41 csum=0x082f$/);
  const opt = s.details(4).tree[2].children!.find((n) => n.label === 'Options')!.children!.find((n) => n.label === 'MPTCP DSS')!;
  assert.equal(opt.rfc!.doc, 'RFC 6824');
});

test('the index read back by page from the file equals the one sent in messages, within a bounded cache', async () => {
  const fs = await import('node:fs');
  const os = await import('node:os');
  const { CaptureSession } = await import('../src/viewer/session.ts');
  const { analyzeForViewer } = await import('../src/viewer/analyze.ts');
  const { COLUMNS } = await import('../src/viewer/index.ts');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mptcp-lens-test-'));
  /** one analysis into a session holding its rows in memory and one reading them from a file */
  const both = async (file: string | Buffer, chunkSize: number, cacheBytes: number) => {
    const bytes = typeof file === 'string' ? fs.readFileSync(file) : file;
    const direct = new CaptureSession((o, n) => bytes.subarray(o, o + n));
    const viaFile = new CaptureSession((o, n) => bytes.subarray(o, o + n), cacheBytes);
    const indexFile = path.join(dir, `index-${chunkSize}`);
    const wfd = fs.openSync(indexFile, 'w');
    const rfd = fs.openSync(indexFile, 'r');
    let position = 0;
    let chunks = 0;
    const result = await analyzeForViewer(typeof file === 'string' ? { file } : { bytes, name: 'x' }, { chunkSize, onChunk: (cols, n) => {
      direct.appendChunk(cols, n);
      const at = position;
      position += PacketIndex.writeChunk(wfd, at, cols, n);
      viaFile.appendChunkFromFile(rfd, at, n);
      chunks++;
    } });
    fs.closeSync(wfd);
    for (const s of [direct, viaFile]) s.finish(result.findings, result.connections, result.problems, result.diagrams);
    return { direct, viaFile, position, chunks, close: () => fs.closeSync(rfd) };
  };
  const kinds = Object.keys(COLUMNS) as Array<keyof typeof COLUMNS>;
  try {
    // 192 packets in pages of 16 rows, a cache of two pages
    const small = await both(fixture('kernel', 'multi.pcap'), 16, 2 * 16 * BYTES_PER_PACKET);
    const { direct, viaFile } = small;
    assert.equal(viaFile.index.count, 192);
    assert.equal(small.chunks, 12);
    assert.equal(small.position, 192 * BYTES_PER_PACKET);
    for (const k of kinds) for (let i = 0; i < 192; i++) assert.ok(Object.is(viaFile.index.get(k, i), direct.index.get(k, i)), `column ${k} row ${i}`);
    assert.deepEqual(viaFile.rows(0, 192), direct.rows(0, 192));
    assert.deepEqual(viaFile.rows(150, 5).map((r) => r.frame), [151, 152, 153, 154, 155]);
    assert.deepEqual(viaFile.viz(1), direct.viz(1));
    // the text filter reads a page's capture bytes at once and searches rows it does not make: the
    // same rows as searching each made row's text
    const { rowText } = await import('../src/viewer/rows.ts');
    const all = direct.rows(0, 192);
    for (const text of ['MP_JOIN', 'fin', '10.0.1.', 'dsn=1']) {
      const expected = all.filter((r) => rowText(r).includes(text.toLowerCase())).map((r) => r.frame);
      assert.ok(expected.length > 0 && expected.length < 192, `${text}: ${expected.length}`);
      viaFile.setFilter({ text });
      assert.deepEqual(viaFile.rows(0, 200).map((r) => r.frame), expected, text);
    }
    viaFile.setFilter({ subflow: 4 });
    direct.setFilter({ subflow: 4 });
    assert.ok(direct.total() > 0);
    assert.deepEqual(viaFile.rows(0, 200), direct.rows(0, 200));
    // the cache's two pages, one spare buffer for the next page read, one the scans read into
    assert.ok(viaFile.index.residentBytes() <= 4 * 16 * BYTES_PER_PACKET + 12 * 48, `resident ${viaFile.index.residentBytes()}`);
    assert.ok(viaFile.index.reads > 12, 'pages were evicted and read again');
    small.close();

    // 100,000 packets (7.6 MB of index) with a 1 MiB cache: random rows, the plot and a filter over
    // everything come back right while the pages held stay within the cache
    const { repeatCapture } = await import('./helpers.ts');
    const big = await both(repeatCapture(fixture('fresh', 'checksum-snap128.pcap'), 100_000), 8192, 2 ** 20);
    assert.equal(big.viaFile.index.count, 100_000);
    for (const i of [0, 1, 8191, 8192, 50_000, 99_999, 12_345, 77_777]) assert.deepEqual(big.viaFile.rows(i, 1), big.direct.rows(i, 1), `row ${i}`);
    assert.equal(big.viaFile.rows(99_999, 1)[0].frame, 100_000);
    big.viaFile.setFilter({ subtype: 2 });
    big.direct.setFilter({ subtype: 2 });
    assert.equal(big.viaFile.total(), big.direct.total());
    assert.ok(big.direct.total() > 1000, `${big.direct.total()} DSS rows`);
    assert.deepEqual(big.viaFile.rows(big.viaFile.total() - 3, 3), big.direct.rows(big.direct.total() - 3, 3));
    // a text filter over 100,000 rows goes on in slices of 20,000 after setFilter returns: the count
    // grows slice by slice, a new filter stops it, and the final rows are those a row-by-row search finds
    const { countMessage } = await import('../src/viewer/host.ts');
    const doc = { displayName: 'big', state: 'done' as const, progress: { packets: 100_000, bytesRead: 0, totalBytes: 0 }, session: big.viaFile };
    big.direct.setFilter({});
    const expectedText: number[] = [];
    for (let i = 0; i < 100_000; i += 5000) for (const r of big.direct.rows(i, 5000)) if (rowText(r).includes('10.0.1.')) expectedText.push(r.frame);
    assert.ok(expectedText.length > 20_000 && expectedText.length < 100_000, `${expectedText.length} rows`);
    const counts: number[] = [];
    big.viaFile.onFilterProgress = () => counts.push(big.viaFile.total());
    big.viaFile.setFilter({ text: '10.0.1.' });
    assert.ok(big.viaFile.filtering());
    assert.ok(big.viaFile.total() <= 20_000, `first slice ${big.viaFile.total()}`);
    assert.equal((countMessage(doc) as { done: boolean }).done, false, 'the count is not final while the filter runs');
    while (big.viaFile.filtering()) await new Promise((r) => setImmediate(r));
    assert.equal(counts.length, 4, 'four more slices');
    assert.ok(counts.every((c, k) => k === 0 || c >= counts[k - 1]));
    assert.equal((countMessage(doc) as { done: boolean }).done, true);
    assert.equal(big.viaFile.total(), expectedText.length);
    assert.deepEqual(big.viaFile.rows(0, 100_000).map((r) => r.frame), expectedText);
    counts.length = 0;
    big.viaFile.setFilter({ text: '10.0.1.' });
    big.viaFile.setFilter({ subtype: 2 }); // replaces the text filter before its second slice
    const subtypeCount = big.viaFile.total();
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(counts.length, 0, 'the replaced filter went no further');
    assert.equal(big.viaFile.total(), subtypeCount);
    assert.equal(big.viaFile.filtering(), false);
    big.viaFile.onFilterProgress = undefined;
    assert.ok(big.viaFile.index.residentBytes() <= 2 ** 20 + 2 * 8192 * BYTES_PER_PACKET + 100 * 48, `resident ${big.viaFile.index.residentBytes()}`);
    assert.ok(big.direct.index.residentBytes() >= 100_000 * BYTES_PER_PACKET);
    big.close();
  } finally { fs.rmSync(dir, { recursive: true, force: true }); }
});

/**
 * Analyses `file` in the real analysis child process (dist/worker.js) into `session`, as
 * CaptureDocument does: rows (through `index` when given) and connections as they come, the rest
 * at 'done'. `see` is shown every message first.
 */
async function analyseInChild(session: import('../src/viewer/session.ts').CaptureSession, file: string,
  index: import('../src/viewer/analysisProcess.ts').IndexFile | undefined, see: (m: import('../src/viewer/analysisProcess.ts').WorkerMessage) => void = () => {},
  started?: import('node:child_process').ChildProcess, decompressInto?: string): Promise<void> {
  const { forkAnalysis, takeRows } = await import('../src/viewer/analysisProcess.ts');
  type Msg = import('../src/viewer/analysisProcess.ts').WorkerMessage;
  await new Promise<void>((resolve, reject) => {
    const child = started ?? forkAnalysis(path.join(__dirname, '..', 'dist', 'worker.js'), 'inherit');
    child.on('message', (m: Msg) => {
      see(m);
      if (takeRows(session, m, index)) return;
      if (m.type === 'done') {
        session.finish(m.result.findings, m.result.connections, m.result.problems, m.result.diagrams);
        child.kill();
        resolve();
      } else if (m.type === 'failed') reject(new Error(m.message));
    });
    child.on('error', reject);
    child.send({ type: 'analyze', file, config: {}, indexFile: index?.path, decompressInto });
  });
}

test('the analysis child process (dist/worker.js): rows through the index file and through messages agree', async () => {
  const fs = await import('node:fs');
  const { CaptureSession } = await import('../src/viewer/session.ts');
  const { createIndexFile } = await import('../src/viewer/analysisProcess.ts');
  type IndexFile = import('../src/viewer/analysisProcess.ts').IndexFile;
  const file = fixture('kernel', 'multi.pcap');
  const bytes = fs.readFileSync(file);
  const run = async (index?: IndexFile) => {
    const session = new CaptureSession((o, n) => bytes.subarray(o, o + n));
    const kinds = new Set<string>();
    await analyseInChild(session, file, index, (m) => kinds.add(m.type));
    return { session, kinds };
  };
  const index = createIndexFile();
  try {
    const viaFile = await run(index);
    const viaMessages = await run();
    assert.ok(viaFile.kinds.has('chunkFile') && !viaFile.kinds.has('chunk'), 'with an index file the rows go through it');
    assert.ok(viaMessages.kinds.has('chunk') && !viaMessages.kinds.has('chunkFile'), 'without one they come in messages');
    assert.equal(viaFile.session.index.count, 192);
    assert.equal(viaMessages.session.index.count, 192);
    assert.deepEqual(viaFile.session.rows(0, 192), viaMessages.session.rows(0, 192));
    assert.equal(viaFile.session.connections.length, 3);
    assert.equal(fs.statSync(index.path).size, 192 * BYTES_PER_PACKET);
    // once the analysis is done the file loses its name; the session reads on through the descriptor
    index.unlink();
    assert.equal(fs.existsSync(path.dirname(index.path)), false);
    viaFile.session.setFilter({ connection: 2 });
    viaMessages.session.setFilter({ connection: 2 });
    assert.ok(viaFile.session.total() > 0);
    assert.deepEqual(viaFile.session.rows(0, 192), viaMessages.session.rows(0, 192));
  } finally { index.close(); }
  assert.equal(fs.existsSync(path.dirname(index.path)), false, 'closing the index file removes it and its folder');
});

test('a gzip-compressed capture in the analysis child: inflated into the host\'s file as it is read; rows, details and findings those of the plain capture', async () => {
  const { CaptureSession } = await import('../src/viewer/session.ts');
  const { createIndexFile, createTempFile } = await import('../src/viewer/analysisProcess.ts');
  const gz = fixture('fresh', 'many-1000.pcap.gz');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mptcp-lens-'));
  const plainFile = path.join(dir, 'many-1000.pcap');
  fs.writeFileSync(plainFile, zlib.gunzipSync(fs.readFileSync(gz)));
  const plainBytes = fs.readFileSync(plainFile);
  const inflated = createTempFile('capture');
  const index = createIndexFile();
  try {
    const readInflated = (o: number, n: number) => { const b = Buffer.alloc(n); return b.subarray(0, fs.readSync(inflated.fd, b, 0, n, o)); };
    const session = new CaptureSession(readInflated);
    // every row the host has is readable from the inflated file when it has it (before the end)
    let looked = 0;
    let unreadable = 0;
    await analyseInChild(session, gz, index, (m) => {
      if (m.type !== 'chunkFile' || session.index.count === 0) return;
      looked++;
      const last = session.rows(session.index.count - 1, 1)[0];
      if (last.src === '?' || last.flags === '') unreadable++;
    }, undefined, inflated.path);
    assert.ok(looked >= 3, `rows came in ${looked + 1} pieces`);
    assert.equal(unreadable, 0);
    const plain = new CaptureSession((o, n) => plainBytes.subarray(o, o + n));
    await analyseInChild(plain, plainFile, undefined);
    assert.equal(session.index.count, 39192);
    assert.equal(plain.index.count, 39192);
    assert.equal(fs.statSync(inflated.path).size, plainBytes.length, 'the whole capture, inflated');
    inflated.unlink(); // as the editor does once the analysis is done: read on through the descriptor
    for (let i = 0; i < 39192; i += 1000) assert.deepEqual(session.rows(i, 1000), plain.rows(i, 1000));
    assert.deepEqual(session.details(2).tree, plain.details(2).tree);
    assert.deepEqual(session.details(39192).bytes, plain.details(39192).bytes);
    assert.equal(session.connections.length, 1000);
    assert.deepEqual(session.findings, plain.findings);
    assert.match(session.rows(1, 1)[0].options, /^MP_CAPABLE v1 SYN\/ACK/);
  } finally {
    inflated.close();
    index.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
  assert.equal(fs.existsSync(path.dirname(inflated.path)), false);
});

test('the spare analysis process: started ahead (without NODE_EXTRA_CA_CERTS), taken by the next capture and working; a dead spare is replaced', async () => {
  const { CaptureSession } = await import('../src/viewer/session.ts');
  const { SpareAnalysis } = await import('../src/viewer/analysisProcess.ts');
  const fs = await import('node:fs');
  const exited = (c: import('node:child_process').ChildProcess) => new Promise<void>((r) => (c.exitCode !== null || c.signalCode !== null ? r() : c.once('exit', () => r())));
  const file = fixture('kernel', 'multi.pcap');
  const bytes = fs.readFileSync(file);
  const spares = new SpareAnalysis(path.join(__dirname, '..', 'dist', 'worker.js'), 'inherit');
  const certs = process.env.NODE_EXTRA_CA_CERTS;
  try {
    assert.equal(spares.pid, undefined);
    process.env.NODE_EXTRA_CA_CERTS = '/etc/ssl/certs/ca-certificates.crt';
    process.env.MPTCP_LENS_TEST_MARK = String(process.pid);
    spares.prepare();
    if (certs === undefined) delete process.env.NODE_EXTRA_CA_CERTS;
    else process.env.NODE_EXTRA_CA_CERTS = certs;
    delete process.env.MPTCP_LENS_TEST_MARK;
    const first = spares.pid!;
    assert.ok(first > 0);
    // started without NODE_EXTRA_CA_CERTS (the editor's is set below: Node would load them at start-up)
    const env = fs.readFileSync(`/proc/${first}/environ`, 'utf8').split('\0');
    assert.ok(env.includes('ELECTRON_RUN_AS_NODE=1'));
    assert.ok(env.includes(`MPTCP_LENS_TEST_MARK=${process.pid}`), 'the rest of the editor\'s environment is passed on');
    assert.ok(!env.some((v) => v.startsWith('NODE_EXTRA_CA_CERTS=')), 'the analysis process has no NODE_EXTRA_CA_CERTS');
    spares.prepare(); // one spare at a time
    assert.equal(spares.pid, first);
    const child = spares.take();
    assert.equal(child.pid, first, 'the capture gets the process started ahead');
    assert.equal(spares.pid, undefined);
    const session = new CaptureSession((o, n) => bytes.subarray(o, o + n));
    await analyseInChild(session, file, undefined, () => {}, child);
    assert.equal(session.index.count, 192);
    assert.equal(session.connections.length, 3);
    await exited(child);
    // a spare that died is not handed out: take() starts a new process
    spares.prepare();
    const dead = spares.pid!;
    assert.notEqual(dead, first);
    process.kill(dead, 'SIGKILL');
    await new Promise((r) => setTimeout(r, 300));
    const fresh = spares.take();
    assert.ok(fresh.pid !== dead && fresh.pid !== first);
    const again = new CaptureSession((o, n) => bytes.subarray(o, o + n));
    await analyseInChild(again, file, undefined, () => {}, fresh);
    assert.equal(again.index.count, 192);
    // dispose ends the spare and starts no other
    spares.prepare();
    const last = spares.pid!;
    spares.dispose();
    spares.prepare();
    assert.equal(spares.pid, undefined);
    await new Promise((r) => setTimeout(r, 300));
    assert.throws(() => process.kill(last, 0), /ESRCH/);
  } finally { spares.dispose(); }
});

test('an analysis stopped half way (Cancel kills the child): the rows it indexed stay readable from the unlinked file', async () => {
  const fs = await import('node:fs');
  const os = await import('node:os');
  const { CaptureSession } = await import('../src/viewer/session.ts');
  const { createIndexFile, forkAnalysis, takeRows } = await import('../src/viewer/analysisProcess.ts');
  const { repeatCapture } = await import('./helpers.ts');
  type Msg = import('../src/viewer/analysisProcess.ts').WorkerMessage;
  // 600,000 packets, so that the child is still reading when it is killed
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mptcp-lens-test-'));
  const capture = path.join(dir, 'big.pcap');
  fs.writeFileSync(capture, repeatCapture(fixture('fresh', 'checksum-snap128.pcap'), 600_000));
  const bytes = fs.readFileSync(capture);
  const session = new CaptureSession((o, n) => bytes.subarray(o, o + n));
  const index = createIndexFile();
  try {
    const child = forkAnalysis(path.join(__dirname, '..', 'dist', 'worker.js'), 'inherit');
    const exited = new Promise<string | null>((resolve) => child.on('exit', (_code, signal) => resolve(signal)));
    let chunks = 0;
    child.on('message', (m: Msg) => {
      if (takeRows(session, m, index) && ++chunks === 3) child.kill(); // as CaptureDocument.cancel does
      if (m.type === 'done') assert.fail('the analysis was to be stopped before its end');
    });
    child.send({ type: 'analyze', file: capture, config: {}, indexFile: index.path });
    assert.equal(await exited, 'SIGTERM');
    index.unlink(); // as CaptureDocument.fail does
    const n = session.index.count;
    assert.ok(n > 0 && n < 600_000, `${n} rows indexed`);
    // the same rows from an analysis of the first n packets alone
    const prefix = repeatCapture(fixture('fresh', 'checksum-snap128.pcap'), n);
    const direct = new CaptureSession((o, k) => prefix.subarray(o, o + k));
    const { analyzeForViewer } = await import('../src/viewer/analyze.ts');
    await analyzeForViewer({ bytes: prefix, name: 'prefix' }, { onChunk: (cols, k) => direct.appendChunk(cols, k) });
    assert.deepEqual(session.rows(n - 3, 3), direct.rows(n - 3, 3));
    assert.equal(session.rows(n - 1, 5).length, 1, 'no row beyond what was indexed');
    session.setFilter({ subtype: 2 });
    assert.ok(session.total() > 0 && session.total() <= n);
  } finally {
    index.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('the summary holds the first page of connections and findings; the rest come a page at a time', async () => {
  // 1,200 partial connections and 1,201 findings from the SYN/ACK of a real capture, repeated
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lens-host-'));
  const file = path.join(dir, 'synacks.pcap');
  fs.writeFileSync(file, await repeatFrame(fixture('kernel', 'basic.pcap'), 2, 1200));
  const session = await viewerSession(file, 8192);
  fs.rmSync(dir, { recursive: true, force: true });
  const doc: DocumentView = { displayName: 'synacks.pcap', state: 'done', progress: { packets: 1200, bytesRead: 0, totalBytes: 0 }, session };
  const got: HostMessage[] = [];
  const send = (m: unknown) => handleWebviewMessage(doc, m, (x) => got.push(x), { openTrace: () => {}, copyKeys: () => {}, retry: () => {} });
  send({ type: 'ready' });
  const summary = got.find((m) => m.type === 'summary');
  assert.ok(summary?.type === 'summary');
  assert.equal(summary.connectionCount, 1200);
  assert.deepEqual(summary.connections.map((c) => c.id), Array.from({ length: CONNECTION_PAGE }, (_, i) => i));
  assert.equal(summary.findingCount, 1201);
  assert.deepEqual(summary.findings, session.findings.slice(0, FINDING_PAGE));
  assert.equal(summary.severities.error + summary.severities.warning + summary.severities.info, 1201);
  assert.equal(summary.severities.warning, session.findings.filter((f) => f.severity === 'warning').length);
  // the Problems panel: 999 of the 1,201 findings, errors first, each kind in capture order, and a
  // line saying how many more and where they all are (VS Code shows at most 1,000 a file)
  const { shown, more } = diagnosticFindings(session.findings);
  assert.equal(shown.length, 999);
  assert.equal(more?.count, 202);
  assert.equal(more?.message, "202 more findings are not listed here (the Problems panel takes 1,000 a file): the capture viewer's Findings pane and `mptcp-lens check` list all 1,201");
  const rank = { error: 0, warning: 1, info: 2 };
  for (let i = 1; i < shown.length; i++) {
    const [a, b] = [shown[i - 1], shown[i]];
    assert.ok(rank[a.severity] < rank[b.severity] || (a.severity === b.severity && session.findings.indexOf(a) < session.findings.indexOf(b)), `order at ${i}`);
  }
  // here: one warning (frame 2's token collision) among 1,200 information findings; it comes first
  assert.equal(shown[0].rule, 'token-collision');
  assert.deepEqual(shown.slice(1), session.findings.filter((f) => f.severity === 'info').slice(0, 998));
  assert.equal(more?.line, shown[998].frame - 1);
  assert.deepEqual(diagnosticFindings(session.findings, 1201).shown, session.findings);
  assert.equal(diagnosticFindings(session.findings, 1201).more, undefined);
  got.length = 0;
  send({ type: 'getConnections', from: 1150 });
  send({ type: 'getFindings', from: 1000 });
  send({ type: 'getConnections', from: 1200 });
  for (const bad of [{ type: 'getConnections', from: -1 }, { type: 'getFindings', from: 'x' }, { type: 'getFindings' }]) send(bad);
  assert.deepEqual(got.map((m) => m.type), ['connections', 'findings', 'connections']);
  const [a, b, c] = got;
  assert.ok(a.type === 'connections' && b.type === 'findings' && c.type === 'connections');
  assert.deepEqual(a.connections.map((x) => x.id), Array.from({ length: 50 }, (_, i) => 1150 + i));
  assert.equal(b.from, 1000);
  assert.deepEqual(b.findings, session.findings.slice(1000, 1201));
  assert.deepEqual(c.connections, []);
  // nothing while the analysis is still going on
  got.length = 0;
  doc.state = 'loading';
  send({ type: 'getConnections', from: 0 });
  assert.deepEqual(got, []);
});

test('the analysis child sends a busy capture\'s connections in slices ahead of done; the session has them all, in order', async () => {
  const { CaptureSession } = await import('../src/viewer/session.ts');
  const { CONNECTIONS_PER_MESSAGE } = await import('../src/viewer/analysisProcess.ts');
  const { analyzeForViewer } = await import('../src/viewer/analyze.ts');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lens-host-'));
  const file = path.join(dir, 'synacks.pcap');
  const bytes = await repeatFrame(fixture('kernel', 'basic.pcap'), 2, 2500);
  fs.writeFileSync(file, bytes);
  try {
    const session = new CaptureSession((o, n) => bytes.subarray(o, o + n));
    const sizes: number[] = [];
    await analyseInChild(session, file, undefined, (m) => {
      if (m.type === 'connections') sizes.push(m.connections.length);
      if (m.type === 'done') sizes.push(m.result.connections.length);
    });
    assert.equal(CONNECTIONS_PER_MESSAGE, 1000);
    assert.deepEqual(sizes, [1000, 1000, 500], 'two slices, the rest with done');
    const direct = await analyzeForViewer({ file }, { onChunk: () => {} });
    assert.equal(session.connections.length, 2500);
    assert.deepEqual(session.connections.all(), direct.connections, 'through deflated pages and back');
    // the process sends them as it makes them, a slice at a time, never all at once (a busy
    // capture's connections, retired when memory ran short, do not all fit the heap again)
    const { postResult } = await import('../src/viewer/analysisProcess.ts');
    const made: number[] = [];
    const pass = Object.create(direct, {
      connections: { get: () => assert.fail('all connections made at once') },
      connectionSlices: { value: function* (size: number) { for (const slice of direct.connectionSlices(size)) { made.push(slice.length); yield slice; } } },
    });
    const sent: string[] = [];
    postResult(pass, (m) => sent.push(`${m.type}:${m.type === 'connections' ? m.connections.length : m.type === 'done' ? m.result.connections.length : ''}@${made.length}`));
    assert.deepEqual(sent, ['connections:1000@2', 'connections:1000@3', 'done:500@3'], 'each slice sent once the next is made');
  } finally { fs.rmSync(dir, { recursive: true, force: true }); }
});

test('the host keeps connections deflated a page at a time; every fixture\'s come back equal, by id and by slice', async () => {
  const { ConnectionList, CONNECTIONS_PER_PAGE } = await import('../src/viewer/connections.ts');
  const { analyzeForViewer } = await import('../src/viewer/analyze.ts');
  const { captureFixtures } = await import('./fixtures.ts');
  const all = [];
  for (const file of captureFixtures()) all.push(...(await analyzeForViewer({ file }, { onChunk: () => {} })).connections);
  // every fixture's connections four times over (more than two pages), numbered as the host has
  // them: the nth added is connection n
  const infos = [...all, ...all, ...all, ...all].map((c, id) => ({ ...c, id }));
  assert.ok(infos.length > 2 * CONNECTIONS_PER_PAGE, `${infos.length} connections`);
  const list = new ConnectionList();
  list.push(infos.slice(0, 150));
  list.push(infos.slice(150));
  assert.equal(list.length, infos.length);
  assert.deepEqual(list.all(), infos);
  assert.deepEqual(list.slice(95, 205), infos.slice(95, 205));
  assert.deepEqual(list.get(CONNECTIONS_PER_PAGE), infos[CONNECTIONS_PER_PAGE]);
  assert.deepEqual(list.get(infos.length - 1), infos[infos.length - 1], 'from the page still being filled');
  for (const bad of [-1, infos.length, 1.5, NaN]) assert.equal(list.get(bad), undefined);
});

test('the viewer page: strict CSP, the bundle written in under the nonce, or linked when it could end its element', () => {
  const script = fs.readFileSync(path.join(__dirname, '..', 'dist', 'webview.js'), 'utf8');
  const style = fs.readFileSync(path.join(__dirname, '..', 'dist', 'webview.css'), 'utf8');
  assert.match(script, /\n\/\/# sourceMappingURL=webview\.js\.map\s*$/);
  const bundle = inlineBundle(script, style)!;
  assert.ok(bundle, 'the built bundle can be written into the page');
  assert.ok(!bundle.script.includes('sourceMappingURL'), 'the source-map comment (relative to the file) is dropped');
  const base = { nonce: 'n0nce', cspSource: 'https://x.vscode-cdn.net', scriptUri: 'https://x.vscode-cdn.net/dist/webview.js', styleUri: 'https://x.vscode-cdn.net/dist/webview.css', title: 'a<b>&"c.pcap' };
  const html = viewerHtml({ ...base, bundle });
  const csp = /http-equiv="Content-Security-Policy" content="([^"]+)"/.exec(html)![1];
  assert.equal(csp, "default-src 'none'; img-src https://x.vscode-cdn.net data:; style-src https://x.vscode-cdn.net 'nonce-n0nce'; font-src https://x.vscode-cdn.net; script-src 'nonce-n0nce'");
  assert.ok(!html.includes('unsafe-inline') && !html.includes('src="https://x.vscode-cdn.net/dist/webview.js"'));
  // the page's one script and one style are the bundle's, each under the nonce
  assert.deepEqual([...html.matchAll(/<script([^>]*)>/g)].map((m) => m[1]), [' nonce="n0nce"']);
  assert.deepEqual([...html.matchAll(/<style([^>]*)>/g)].map((m) => m[1]), [' nonce="n0nce"']);
  assert.equal(html.length, html.indexOf('<script nonce="n0nce">') + '<script nonce="n0nce">'.length + bundle.script.length + '</script>\n</body>\n</html>'.length);
  assert.match(html, /<title>a&#60;b&#62;&#38;&#34;c\.pcap<\/title>/);
  // a bundle that could close its element early is linked as files instead
  for (const [s, c] of [['x="</script>"', ''], ['x="<script>"', ''], ['', 'a{content:"</style>"}']]) {
    assert.equal(inlineBundle(s, c), null);
    const linked = viewerHtml({ ...base, bundle: inlineBundle(s, c) });
    assert.match(linked, /<script nonce="n0nce" src="https:\/\/x\.vscode-cdn\.net\/dist\/webview\.js"><\/script>/);
    assert.match(linked, /<link rel="stylesheet" href="https:\/\/x\.vscode-cdn\.net\/dist\/webview\.css">/);
    assert.ok(!linked.includes('<style'));
  }
});

test('the setting mptcpLens.analysisMemory: the analysis process and the spare get its heap, a changed setting replaces the spare', async () => {
  const { analysisHeap, SpareAnalysis } = await import('../src/viewer/analysisProcess.ts');
  assert.equal(analysisHeap(0), undefined);
  assert.equal(analysisHeap(undefined), undefined);
  assert.equal(analysisHeap('512'), undefined);
  assert.equal(analysisHeap(-5), undefined);
  assert.equal(analysisHeap(10), 64, 'below 64 MiB counts as 64');
  assert.equal(analysisHeap(1500.4), 1500);
  const flagOf = (pid: number) => fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').find((a) => a.startsWith('--max-old-space-size='));
  let setting: number | undefined = 96;
  const spares = new SpareAnalysis(path.join(__dirname, '..', 'dist', 'worker.js'), 'inherit', () => setting);
  try {
    spares.prepare();
    const first = spares.pid!;
    assert.equal(flagOf(first), '--max-old-space-size=96');
    const same = spares.take();
    assert.equal(same.pid, first, 'the setting unchanged: the spare is taken');
    same.kill();
    spares.prepare();
    const second = spares.pid!;
    setting = 160;
    const changed = spares.take();
    assert.notEqual(changed.pid, second, 'a spare started with another heap is not handed out');
    assert.equal(flagOf(changed.pid!), '--max-old-space-size=160');
    changed.kill();
    await new Promise((r) => setTimeout(r, 300));
    assert.throws(() => process.kill(second, 0), /ESRCH/, 'the outdated spare was ended');
    setting = undefined;
    spares.prepare();
    assert.equal(flagOf(spares.pid!), undefined, 'no setting: the runtime\'s own limit');
    // and Node's own V8 worker threads (one, `--v8-pool-size=1`, which a CLI build had for a while, made VS Code's opens slower: README)
    assert.ok(!fs.readFileSync(`/proc/${spares.pid!}/cmdline`, 'utf8').includes('--v8-pool-size'));
  } finally { spares.dispose(); }
});


test('a busy capture in an analysis process of 64 MiB: the tracking-limit finding names the setting, in the viewer and in the decoded trace', async () => {
  const os = await import('node:os');
  const { Worker } = await import('node:worker_threads');
  const { CaptureSession } = await import('../src/viewer/session.ts');
  const { forkAnalysis, MEMORY_HINT, takeRows } = await import('../src/viewer/analysisProcess.ts');
  type Msg = import('../src/viewer/analysisProcess.ts').WorkerMessage;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mptcp-lens-test-'));
  const capture = path.join(dir, 'syns.pcap');
  // 150,000 MP_CAPABLE SYNs of a real capture, each a stream of its own (as in cli.test.ts)
  fs.writeFileSync(capture, await repeatFrame(fixture('kernel', 'basic.pcap'), 1, 150_000));
  const worker = path.join(__dirname, '..', 'dist', 'worker.js');
  const limitMessage = new RegExp(`^memory ran short after ([\\d,]+) TCP streams \\(JavaScript heap \\d+ of its 64 MiB\\): .*; ${MEMORY_HINT.replace(/[().]/g, '\\$&')}$`);
  try {
    const bytes = fs.readFileSync(capture);
    const session = new CaptureSession((o, n) => bytes.subarray(o, o + n));
    await new Promise<void>((resolve, reject) => {
      const child = forkAnalysis(worker, 'inherit', 64);
      child.on('message', (m: Msg) => {
        if (takeRows(session, m, undefined)) return;
        if (m.type === 'done') { session.finish(m.result.findings, m.result.connections, m.result.problems, m.result.diagrams); child.kill(); resolve(); }
        else if (m.type === 'failed') reject(new Error(m.message));
      });
      child.on('exit', (code, signal) => { if (code || signal) reject(new Error(`analysis ended: ${code ?? signal}`)); });
      child.send({ type: 'analyze', file: capture, config: {} }); // the editor's process names the setting itself
    });
    assert.equal(session.index.count, 150_000, 'every packet indexed');
    const limits = session.findings.filter((f) => f.rule === 'tracking-limit');
    assert.equal(limits.length, 1);
    const m = limitMessage.exec(limits[0].message);
    assert.ok(m, limits[0].message);
    const tracked = Number(m[1].replace(/,/g, ''));
    assert.ok(tracked >= 2_560 && tracked < 150_000 && tracked % 256 === 0, `${tracked} streams tracked`);
    assert.equal(limits[0].frame, tracked + 1);
    // the decoded trace: a worker thread given the same heap (extension/trace.ts)
    const text = await new Promise<string>((resolve, reject) => {
      const w = new Worker(worker, { resourceLimits: { maxOldGenerationSizeMb: 64 } });
      w.on('message', (msg: Msg) => { if (msg.type === 'trace') { resolve(msg.text); void w.terminate(); } else if (msg.type === 'failed') reject(new Error(msg.message)); });
      w.on('error', reject);
      w.postMessage({ type: 'trace', file: capture, name: 'syns.pcap', limit: 50_000 });
    });
    const lines = text.split('\n');
    assert.equal(lines[50_000], '… 100000 more packets not shown (setting mptcpLens.traceLineLimit)');
    const noted = lines.flatMap((l, i) => (l.includes('tracking-limit') ? [i + 1] : []));
    assert.equal(noted.length, 1, 'one line carries the finding');
    assert.ok(noted[0] > 2_560 && noted[0] % 256 === 1, `the finding at frame ${noted[0]}`);
    assert.ok(lines[noted[0] - 1].includes(MEMORY_HINT), lines[noted[0] - 1]);
    assert.ok(!text.includes('--max-old-space-size'));
  } finally { fs.rmSync(dir, { recursive: true, force: true }); }
});

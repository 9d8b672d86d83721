// The viewer webview in headless Chromium: the built bundle (dist/webview.js), a stubbed
// acquireVsCodeApi, and the real host logic (src/viewer/host.ts) answering it from a real capture.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { handleWebviewMessage, type DocumentView } from '../src/viewer/host.ts';
import type { Columns } from '../src/viewer/index.ts';
import { CaptureSession } from '../src/viewer/session.ts';
import { browserMissing, launch } from './browser.ts';
import { repeatFrame, rewriteFrame, viewerSession } from './helpers.ts';
import { fixture } from './fixtures.ts';
import { analyzeForViewer } from '../src/viewer/analyze.ts';
import { inlineBundle, viewerHtml } from '../extension/viewerHtml.ts';

const ROOT = path.join(__dirname, '..');
const SAMPLE = path.join(ROOT, 'samples', 'key-mismatch.pcap');
const skip = browserMissing();
let browser: Browser;
let dir: string;

const THEME = `:root { --vscode-font-family: sans-serif; --vscode-font-size: 13px; --vscode-editor-font-family: monospace; --vscode-editor-font-size: 12px;
  --vscode-foreground: #cccccc; --vscode-editor-background: #1e1e1e; --vscode-descriptionForeground: #9d9d9d; --vscode-errorForeground: #f48771;
  --vscode-list-activeSelectionBackground: #04395e; --vscode-list-activeSelectionForeground: #ffffff; --vscode-list-hoverBackground: #2a2d2e;
  --vscode-editor-selectionBackground: #264f78; --vscode-textLink-foreground: #3794ff; --vscode-panel-border: #80808059; --vscode-focusBorder: #007fd4;
  --vscode-progressBar-background: #0e70c0; --vscode-editorWarning-foreground: #cca700; --vscode-editorInfo-foreground: #3794ff;
  --vscode-inputValidation-errorBackground: #5a1d1d; --vscode-inputValidation-errorBorder: #be1100; --vscode-list-inactiveSelectionBackground: #37373d; }`;

before(async () => {
  if (skip) return;
  browser = await launch();
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lens-webview-'));
});
after(async () => { await browser?.close(); if (dir) fs.rmSync(dir, { recursive: true, force: true }); });

interface Harness { page: Page; doc: DocumentView; saved: () => Promise<unknown> }

/** Opens the webview bundle in a page whose host is `doc`, optionally with saved state. */
async function open(doc: DocumentView, state?: unknown): Promise<Harness> {
  const html = path.join(dir, `h${Math.random().toString(36).slice(2)}.html`);
  // the page exactly as the extension gives it to VS Code (its CSP, the bundle written in), with the
  // theme's variables and a stand-in for VS Code's webview API put after the CSP under its nonce
  const nonce = 'test-nonce';
  const bundle = inlineBundle(fs.readFileSync(path.join(ROOT, 'dist/webview.js'), 'utf8'), fs.readFileSync(path.join(ROOT, 'dist/webview.css'), 'utf8'));
  assert.ok(bundle, 'the bundle can be written into the page');
  const page0 = viewerHtml({ nonce, cspSource: "'self'", title: doc.displayName, scriptUri: 'webview.js', styleUri: 'webview.css', bundle });
  fs.writeFileSync(html, page0.replace('<meta name="viewport"', `<style nonce="${nonce}">${THEME}</style>
<script nonce="${nonce}">window.__state = ${JSON.stringify(state ?? null)};
function acquireVsCodeApi() { return { postMessage: (m) => window.hostPost(JSON.stringify(m)), getState: () => window.__state, setState: (s) => { window.__state = s; } }; }</script>
<meta name="viewport"`));
  const page = await browser.newPage({ viewport: { width: 1400, height: 800 } });
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  const post = (m: unknown) => void page.evaluate((msg) => window.postMessage(msg, '*'), m as object).catch(() => {});
  await page.exposeFunction('hostPost', (json: string) => handleWebviewMessage(doc, JSON.parse(json), post, { openTrace: () => {}, copyKeys: () => {}, retry: () => {} }));
  await page.goto(`file://${html}`);
  (page as unknown as { errors: string[] }).errors = errors;
  return { page, doc, saved: () => page.evaluate(() => (window as unknown as { __state: unknown }).__state) };
}

const docOf = (session: CaptureSession, name = 'key-mismatch.pcap'): DocumentView => ({ displayName: name, state: 'done', progress: { packets: session.index.count, bytesRead: 0, totalBytes: 0 }, session });

const rowText = (page: Page, frame: number) => page.locator(`.rows .row[data-frame="${frame}"]`).innerText();

test('rows, summary counts and finding badges render from the host', { skip }, async () => {
  const { page } = await open(docOf(await viewerSession(SAMPLE)));
  await page.waitForSelector('.rows .row[data-frame="1"]');
  const r1 = await rowText(page, 1);
  assert.match(r1, /^1\s+0\.000000\s+tcp 0\s+10\.0\.1\.1:57992 → 10\.0\.1\.2:5201\s+S\s+0\s+MP_CAPABLE v1 SYN flags=0x01\[H\]/);
  await page.waitForFunction(() => document.getElementById('counts')!.textContent!.includes('errors'));
  assert.equal(await page.locator('#counts').innerText(), '60 packets · 1 errors, 0 warnings');
  const r3 = page.locator('.rows .row[data-frame="3"]');
  assert.match((await r3.getAttribute('class'))!, /sev-error/);
  assert.equal(await r3.locator('.c9').innerText(), '✖');
  assert.match((await r3.locator('.c9').getAttribute('title'))!, /error capable-key-mismatch: the echoed server key in the third ACK is 0x8c08771553a46fbc, but the server sent 0x8c08771553a46fbd/);
  // connections pane and findings pane
  assert.match(await page.locator('#connections').innerText(), /Connection 0 · v1[\s\S]*server 10\.0\.1\.2\s+key 0x8c08771553a46fbd\s+token 0xaa792fcf/);
  assert.match(await page.locator('#findings').innerText(), /frame 3 capable-key-mismatch/);
  assert.equal(await page.locator('#findings a.rfc').getAttribute('href'), 'https://www.rfc-editor.org/rfc/rfc8684#section-3.1');
  assert.deepEqual((page as unknown as { errors: string[] }).errors, []);
  fs.mkdirSync(path.join(ROOT, 'test-results'), { recursive: true });
  await page.screenshot({ path: path.join(ROOT, 'test-results', 'webview.png') });
  await page.close();
});

test('details: the field tree, the mismatched key flagged, its bytes highlighted, the RFC linked', { skip }, async () => {
  const { page } = await open(docOf(await viewerSession(SAMPLE)));
  await page.click('.rows .row[data-frame="3"]');
  await page.waitForSelector('#details .node-line:has-text("MPTCP MP_CAPABLE")');
  const opt = page.locator('#details .node:has(> .node-line:has-text("MPTCP MP_CAPABLE"))');
  assert.match(await opt.locator('> .node-line').innerText(), /✖\s*MPTCP MP_CAPABLE: 20 bytes RFC 8684 §3\.1/);
  const key = page.locator("#details .node-line:has-text(\"Receiver's key\")");
  assert.match(await key.innerText(), /Receiver's key: 0x8c08771553a46fbc ✗/);
  await key.click();
  const sel = await page.locator('#hex .hex-bytes .sel').allInnerTexts();
  assert.deepEqual(sel, ['8c', '08', '77', '15', '53', 'a4', '6f', 'bc']);
  assert.equal(await opt.locator('> .node-line a.rfc').getAttribute('href'), 'https://www.rfc-editor.org/rfc/rfc8684#section-3.1');
  await page.close();
});

test('filters: text, option subtype, findings only; Ctrl+F focuses the filter', { skip }, async () => {
  const { page } = await open(docOf(await viewerSession(SAMPLE)));
  await page.waitForSelector('.rows .row[data-frame="1"]');
  await page.locator('#filter-text input').fill('MP_JOIN SYN/ACK');
  await page.waitForFunction(() => document.getElementById('counts')!.textContent!.startsWith('2 packets'));
  // the count comes before the page of rows: wait for the rows themselves
  await page.waitForFunction(() => [...document.querySelectorAll('.rows .row')].every((r) => (r as HTMLElement).dataset.frame));
  assert.deepEqual(await page.locator('.rows .row').evaluateAll((rs) => rs.map((r) => (r as HTMLElement).dataset.frame)), ['13', '17']);
  await page.locator('#filter-text input').fill('');
  await page.waitForFunction(() => document.getElementById('counts')!.textContent!.startsWith('60 packets'));
  await page.locator('#filter-findings').click();
  await page.waitForFunction(() => document.getElementById('counts')!.textContent!.startsWith('1 packets'));
  await page.waitForFunction(() => [...document.querySelectorAll('.rows .row')].every((r) => (r as HTMLElement).dataset.frame));
  assert.deepEqual(await page.locator('.rows .row').evaluateAll((rs) => rs.map((r) => (r as HTMLElement).dataset.frame)), ['3']);
  await page.locator('#filter-findings').click();
  await page.waitForFunction(() => document.getElementById('counts')!.textContent!.startsWith('60 packets'));
  await page.click('.rows .row[data-frame="2"]');
  await page.keyboard.press('Control+f');
  assert.equal(await page.evaluate(() => document.activeElement?.id), 'filter-text');
  await page.close();
});

test('keyboard: arrows, Page Down, End, Home move the selection; Enter opens the details', { skip }, async () => {
  const { page, saved } = await open(docOf(await viewerSession(SAMPLE)));
  await page.click('.rows .row[data-frame="1"]');
  const selected = () => page.locator('.rows .row.selected').getAttribute('data-frame');
  await page.keyboard.press('ArrowDown');
  await page.waitForFunction(() => document.querySelector('.rows .row.selected')?.getAttribute('data-frame') === '2');
  await page.keyboard.press('End');
  await page.waitForFunction(() => document.querySelector('.rows .row.selected')?.getAttribute('data-frame') === '60');
  await page.keyboard.press('Home');
  await page.waitForFunction(() => document.querySelector('.rows .row.selected')?.getAttribute('data-frame') === '1');
  await page.keyboard.press('PageDown');
  await page.waitForFunction(() => Number(document.querySelector('.rows .row.selected')?.getAttribute('data-frame')) > 10);
  assert.ok(Number(await selected()) > 10);
  await page.keyboard.press('Enter');
  await page.waitForFunction(() => document.activeElement?.getAttribute('role') === 'treeitem');
  assert.equal((await saved() as { selected: number }).selected, Number(await selected()));
  assert.equal(await page.locator('#packet-list').getAttribute('role'), 'grid');
  await page.close();
});

test('selection, filter and scroll survive hiding and reopening (webview state)', { skip }, async () => {
  const session = await viewerSession(SAMPLE);
  const first = await open(docOf(session));
  await first.page.waitForSelector('.rows .row[data-frame="1"]');
  await first.page.locator('#filter-text input').fill('DSS');
  await first.page.waitForFunction(() => !document.getElementById('counts')!.textContent!.startsWith('60 packets'));
  await first.page.click('.rows .row >> nth=2');
  const frame = Number(await first.page.locator('.rows .row.selected').getAttribute('data-frame'));
  const state = await first.saved();
  await first.page.close();
  const again = await open(docOf(session), state);
  await again.page.waitForSelector('.rows .row.selected');
  assert.equal(Number(await again.page.locator('.rows .row.selected').getAttribute('data-frame')), frame);
  assert.equal(await again.page.locator('#filter-text').evaluate((el) => (el as HTMLInputElement).value), 'DSS');
  await again.page.waitForSelector(`#details .node-line:has-text("Frame ${frame}")`);
  await again.page.close();
});

test('a million rows: only what is on screen exists, End reaches the last row', { skip }, async () => {
  // a real capture's 60 packets repeated to 1,000,000 index rows
  const file = fs.readFileSync(SAMPLE);
  const session = new CaptureSession((o, n) => file.subarray(o, o + n));
  const chunks: Array<{ cols: Columns; n: number }> = [];
  const analysis = await analyzeForViewer({ file: SAMPLE }, { onChunk: (cols, n) => chunks.push({ cols, n }) });
  const N = 1_000_000;
  for (let done = 0; done < N;) {
    for (const c of chunks) {
      const n = Math.min(c.n, N - done);
      if (n > 0) session.appendChunk(c.cols, n);
      done += n;
    }
  }
  session.finish([], analysis.connections, [], analysis.diagrams);
  const { page } = await open(docOf(session, 'million.pcap'));
  await page.waitForFunction(() => document.getElementById('counts')!.textContent!.startsWith('1,000,000 packets'));
  await page.waitForSelector('.rows .row[data-frame="1"]');
  assert.ok(await page.locator('.rows .row').count() < 60, 'a virtual list');
  await page.click('.rows .row[data-frame="1"]');
  await page.keyboard.press('End');
  await page.waitForSelector('.rows .row[data-frame="1000000"]');
  assert.match(await rowText(page, 1000000), /^1000000\s/);
  assert.ok(await page.locator('.rows .row').count() < 60);
  await page.keyboard.press('Home');
  await page.waitForSelector('.rows .row[data-frame="1"].selected');
  // the data-sequence plot of a million rows: 183,333 data points, thinned for the canvas
  await page.click('#tab-diagrams');
  await page.waitForSelector('#dsn-plot canvas');
  const n = await page.evaluate(() => (window as unknown as { __plot: { data: Array<[number[], number[]] | null> } }).__plot.data[1]![0].length);
  assert.ok(n > 10_000 && n <= 20_001, `${n} points drawn`);
  await page.close();
});

test('capture-derived text renders inert: HTML in payload bytes and in an error message', { skip }, async () => {
  const bytes = await rewriteFrame(SAMPLE, 4, (b, f) => {
    Buffer.from('<img src=x onerror="window.__pwned=1"><script>window.__pwned=2</script>').copy(b, f.tcp!.payloadOffset);
  });
  const file = path.join(dir, 'hostile.pcap');
  fs.writeFileSync(file, bytes);
  const { page } = await open(docOf(await viewerSession(file), 'hostile.pcap'));
  await page.click('.rows .row[data-frame="4"]');
  await page.waitForSelector('#hex .hex-line');
  const ascii = (await page.locator('#hex .hex-ascii').allInnerTexts()).join('');
  assert.ok(ascii.includes('<img src=x onerror="window.__pwn'), 'shown as text');
  assert.equal(await page.evaluate(() => document.querySelectorAll('#app img, #app script').length), 0);
  assert.equal(await page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned), undefined);
  await page.close();
  // an unreadable capture: the error view says why, as text, with a retry
  const broken = new CaptureSession(() => Buffer.alloc(0));
  const doc: DocumentView = { ...docOf(broken, '<b>bad</b>.pcap'), state: 'error', error: { message: 'x.pcap: not a pcap or pcapng capture <b>bold?</b>', retry: true } };
  const e = await open(doc);
  await e.page.waitForSelector('.banner.error');
  assert.match(await e.page.locator('.banner.error').innerText(), /This capture could not be read\. x\.pcap: not a pcap or pcapng capture <b>bold\?<\/b>/);
  assert.equal(await e.page.locator('.banner.error b').count(), 0);
  assert.equal(await e.page.locator('#retry').count(), 1);
  await e.page.close();
});

test('diagrams: the ladder with its labels and the failed check, the timeline, the plot; clicking an arrow selects its packet; exports', { skip }, async () => {
  const exported: Array<{ kind: string; name: string; data: string }> = [];
  const session = await viewerSession(SAMPLE);
  const doc = docOf(session);
  const { page } = await open(doc);
  await page.waitForSelector('.rows .row[data-frame="1"]');
  await page.click('#tab-diagrams');
  await page.waitForSelector('#ladder svg .arrow');
  const labels = await page.locator('#ladder .arrow .arrow-label').allTextContents();
  assert.equal(labels.length, 12);
  assert.equal(labels[1].replace(/\s+/g, ' '), '2 MP_CAPABLE SYN/ACK');
  const bad = page.locator('#ladder .arrow.error');
  assert.equal(await bad.count(), 1);
  assert.equal(await bad.getAttribute('data-frame'), '3');
  assert.match(await bad.locator('.arrow-detail').textContent() ?? '', /capable-key-mismatch: the echoed server key/);
  assert.deepEqual(await page.locator('#ladder .lifeline-label').allTextContents(), ['client 10.0.1.1', 'client 10.0.2.1', 'server 10.0.1.2', 'server 10.0.2.2']);
  assert.equal(await page.locator('#timeline .bar').count(), 3);
  assert.match(await page.locator('#timeline .bar >> nth=0').locator('.bar-bytes').textContent() ?? '', /131,081 B/);
  await page.waitForSelector('#dsn-plot canvas');
  const legend = await page.locator('#dsn-plot .u-legend').innerText();
  assert.match(legend, /subflow 0[\s\S]*reinjections[\s\S]*Data ACK/);
  fs.mkdirSync(path.join(ROOT, 'test-results'), { recursive: true });
  await page.screenshot({ path: path.join(ROOT, 'test-results', 'diagrams.png'), fullPage: true });
  // clicking the arrow of frame 13 selects that packet
  await page.locator('#ladder .arrow[data-frame="13"]').click();
  await page.waitForSelector('.rows .row.selected[data-frame="13"]');
  // exports go to the host: an SVG with its colours, a PNG of the plot
  await page.evaluate(() => { (window as unknown as { __sent: unknown[] }).__sent = []; });
  await page.exposeFunction('recordExport', (json: string) => { exported.push(JSON.parse(json)); });
  await page.evaluate(() => {
    const orig = (window as unknown as { hostPost: (j: string) => void }).hostPost;
    (window as unknown as { hostPost: (j: string) => void }).hostPost = (j: string) => { if (JSON.parse(j).type === 'export') void (window as unknown as { recordExport: (j: string) => void }).recordExport(j); return orig(j); };
  });
  await page.click('#tab-diagrams');
  await page.locator('#export-ladder').click();
  await page.locator('#export-plot').click();
  await page.waitForFunction(() => true);
  await new Promise((r) => setTimeout(r, 300));
  const svg = exported.find((e) => e.kind === 'svg');
  const png = exported.find((e) => e.kind === 'png');
  assert.ok(svg && svg.name === 'ladder-connection-0' && svg.data.startsWith('<svg') && svg.data.includes('MP_JOIN SYN/ACK') && /stroke: rgb/.test(svg.data));
  assert.ok(png && png.data.startsWith('data:image/png;base64,') && png.data.length > 2000);
  await page.close();
});

test('the data-sequence plot of the loss capture: two subflows, the reinjection, the Data ACK; keyboard zoom and pan', { skip }, async () => {
  const { page } = await open(docOf(await viewerSession(fixture('fresh', 'loss-any.pcap')), 'loss-any.pcap'));
  await page.waitForSelector('.rows .row[data-frame="1"]');
  await page.click('#tab-diagrams');
  await page.waitForSelector('#dsn-plot canvas');
  const legend = await page.locator('#dsn-plot .u-legend').innerText();
  assert.match(legend, /subflow 0[\s\S]*subflow 1[\s\S]*reinjections[\s\S]*Data ACK/);
  const scale = () => page.evaluate(() => { const u = (window as unknown as { __plot: { scales: { x: { min: number; max: number } } } }).__plot; return [u.scales.x.min, u.scales.x.max]; });
  const [min0, max0] = await scale();
  await page.locator('#dsn-plot .u-over').focus();
  await page.keyboard.press('+');
  const [min1, max1] = await scale();
  assert.ok(max1 - min1 < max0 - min0, 'zoomed in');
  await page.keyboard.press('ArrowRight');
  const [min2] = await scale();
  assert.ok(min2 > min1, 'panned right');
  await page.keyboard.press('0');
  await page.locator('#dsn-plot').scrollIntoViewIfNeeded();
  await page.locator('#diagrams').screenshot({ path: path.join(ROOT, 'test-results', 'diagrams-loss.png') });
  await page.close();
});

void fixture;

test('a busy capture: connections and findings a page at a time, totals from the host', { skip }, async () => {
  // 1,200 MP_CAPABLE SYN/ACKs of a real capture, each on its own 4-tuple: 1,200 partial
  // connections and 1,201 findings. The lists hold a page (100 connections, 500 findings) and ask
  // for more; the whole list in the page once took 112 s for 30,000 connections.
  const file = path.join(dir, 'synacks.pcap');
  fs.writeFileSync(file, await repeatFrame(fixture('kernel', 'basic.pcap'), 2, 1200));
  const session = await viewerSession(file, 8192);
  assert.equal(session.connections.length, 1200);
  assert.equal(session.findings.length, 1201);
  const errors = session.findings.filter((f) => f.severity === 'error').length;
  const warnings = session.findings.filter((f) => f.severity === 'warning').length;
  const { page } = await open(docOf(session, 'synacks.pcap'));
  await page.waitForFunction(() => document.querySelectorAll('#connections .conn').length > 0);
  assert.equal(await page.locator('#counts').innerText(), `1,200 packets · ${errors} errors, ${warnings} warnings`);
  assert.equal(await page.locator('#connections .conn').count(), 100);
  assert.equal(await page.locator('#filter-connection vscode-option').count(), 101);
  await page.locator('#tab-connections').click();
  assert.equal(await page.locator('#more-connections').innerText(), 'Show 100 more (100 of 1,200 shown)');
  await page.locator('#more-connections').click();
  await page.waitForFunction(() => document.querySelectorAll('#connections .conn').length === 200);
  assert.equal(await page.locator('#connections .conn').nth(199).getAttribute('data-connection'), '199');
  assert.equal(await page.evaluate(() => (document.activeElement as HTMLElement).dataset.connection), '100', 'the keyboard goes on from the first new one');
  assert.equal(await page.locator('#filter-connection vscode-option').count(), 201);
  assert.equal(await page.locator('#findings .finding').count(), 500);
  await page.locator('#tab-findings').click();
  assert.equal(await page.locator('#more-findings').innerText(), 'Show 500 more (500 of 1,201 shown)');
  await page.locator('#more-findings').click();
  await page.waitForFunction(() => document.querySelectorAll('#findings .finding').length === 1000);
  assert.equal(await page.locator('#more-findings').innerText(), 'Show 201 more (1,000 of 1,201 shown)');
  await page.locator('#more-findings').click();
  await page.waitForFunction(() => document.querySelectorAll('#findings .finding').length === 1201);
  assert.equal(await page.locator('#more-findings').count(), 0);
  const last = session.findings[1200];
  assert.equal(await page.locator('#findings .finding').nth(1200).getAttribute('data-frame'), String(last.frame));
  // any connection, loaded in the lists or not, through Wireshark's field in the text filter
  await page.locator('#filter-text input').fill('mptcp.stream == 1150');
  await page.waitForFunction(() => document.getElementById('counts')!.textContent!.startsWith('1 packets'));
  await page.waitForFunction(() => [...document.querySelectorAll('.rows .row')].every((r) => (r as HTMLElement).dataset.frame));
  assert.deepEqual(await page.locator('.rows .row').evaluateAll((rs) => rs.map((r) => (r as HTMLElement).dataset.frame)), ['1151']);
  await page.locator('#filter-text input').fill('');
  await page.waitForFunction(() => document.getElementById('counts')!.textContent!.startsWith('1,200 packets'));
  // a connection of the second page filters the packets to its own
  await page.locator('#tab-connections').click();
  await page.locator('#connections .conn[data-connection="150"]').click();
  await page.waitForFunction(() => document.getElementById('counts')!.textContent!.startsWith('1 packets'));
  assert.deepEqual((page as unknown as { errors: string[] }).errors, []);
  await page.close();
});

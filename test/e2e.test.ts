// End to end in a real VS Code: code-server 4.100.3 (VS Code 1.100.3) driven by playwright-core with
// Debian's Chromium (shared/VSCODE-E2E.md). Installs the packaged .vsix, opens a capture with a
// mismatched key, and checks the viewer, the Problems panel and the decoded trace's hover.
// Needs scripts/setup-e2e.sh (run by .ci/run); skipped with a reason elsewhere unless
// MPTCP_LENS_REQUIRE_E2E=1.
import assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { after, before, test } from 'node:test';
import type { Browser, FrameLocator, Page } from 'playwright-core';
import { CHROMIUM, launch } from './browser.ts';

const ROOT = path.join(__dirname, '..');
const CODE_SERVER = path.join(process.env.CODE_SERVER_DIR ?? '/opt/mptcp-lens-e2e/code-server', 'node_modules', '.bin', 'code-server');

function missing(): string | undefined {
  const why = !fs.existsSync(CODE_SERVER) ? `no code-server at ${CODE_SERVER} (scripts/setup-e2e.sh)` : !fs.existsSync(CHROMIUM) ? `no Chromium at ${CHROMIUM}` : undefined;
  if (why && process.env.MPTCP_LENS_REQUIRE_E2E === '1') throw new Error(why);
  return why;
}
const skip = missing();

let tmp: string;
let server: ChildProcess | undefined;
let browser: Browser;
let port: number;
let workspace: string;
let userData: string;
let env: NodeJS.ProcessEnv;

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => { const p = (s.address() as net.AddressInfo).port; s.close(() => resolve(p)); });
    s.on('error', reject);
  });
}

async function waitForServer(): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    const ok = await new Promise<boolean>((resolve) => {
      const c = net.connect(port, '127.0.0.1', () => { c.end(); resolve(true); });
      c.on('error', () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error('code-server did not start');
}

function settings(theme: string): void {
  fs.mkdirSync(path.join(userData, 'User'), { recursive: true });
  fs.writeFileSync(path.join(userData, 'User', 'settings.json'), JSON.stringify({
    'workbench.colorTheme': theme, 'workbench.startupEditor': 'none', 'security.workspace.trust.enabled': false,
    'telemetry.telemetryLevel': 'off', 'workbench.tips.enabled': false, 'extensions.ignoreRecommendations': true,
    'update.mode': 'none', 'workbench.enableExperiments': false, 'chat.disableAIFeatures': true,
    // the analysis processes' heap (checked below, on the spare started after an analysis)
    'mptcpLens.analysisMemory': 96,
  }));
}

before(async () => {
  if (skip) return;
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'lens-e2e-'));
  userData = path.join(tmp, 'user');
  const extensions = path.join(tmp, 'extensions');
  workspace = path.join(tmp, 'workspace');
  fs.mkdirSync(workspace);
  fs.copyFileSync(path.join(ROOT, 'samples', 'key-mismatch.pcap'), path.join(workspace, 'key-mismatch.pcap'));
  fs.writeFileSync(path.join(workspace, 'compressed.pcap.gz'), zlib.gzipSync(fs.readFileSync(path.join(ROOT, 'samples', 'key-mismatch.pcap'))));
  env = { ...process.env, XDG_CONFIG_HOME: path.join(tmp, 'xdg-config'), XDG_DATA_HOME: path.join(tmp, 'xdg-data'), XDG_CACHE_HOME: path.join(tmp, 'xdg-cache') };
  // package the extension as users get it, and install it
  const vsix = path.join(tmp, 'mptcp-lens.vsix');
  execFileSync(process.execPath, [path.join(ROOT, 'node_modules', '@vscode', 'vsce', 'vsce'), 'package', '--no-dependencies', '--allow-missing-repository', '--no-rewrite-relative-links', '-o', vsix], { cwd: ROOT, stdio: 'pipe' });
  const cfg = path.join(tmp, 'config.yaml');
  fs.writeFileSync(cfg, 'auth: none\n');
  execFileSync(CODE_SERVER, ['--config', cfg, '--user-data-dir', userData, '--extensions-dir', extensions, '--install-extension', vsix], { env, stdio: 'pipe' });
  settings('Default Dark Modern');
  port = await freePort();
  server = spawn(CODE_SERVER, ['--config', cfg, '--bind-addr', `127.0.0.1:${port}`, '--auth', 'none', '--disable-telemetry', '--disable-update-check',
    '--disable-workspace-trust', '--user-data-dir', userData, '--extensions-dir', extensions, workspace], { env, detached: true, stdio: 'ignore' });
  await waitForServer();
  browser = await launch();
});

after(async () => {
  await browser?.close();
  if (server?.pid) { try { process.kill(-server.pid, 'SIGKILL'); } catch { /* gone */ } }
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

async function workbench(): Promise<Page> {
  const page = await browser.newPage({ viewport: { width: 1600, height: 900 } });
  await page.goto(`http://127.0.0.1:${port}/?folder=${encodeURIComponent(workspace)}`);
  await page.waitForSelector('.monaco-workbench', { timeout: 60_000 });
  await page.waitForSelector('.explorer-folders-view .monaco-list-row', { timeout: 60_000 });
  // the extension's contributions are registered once its commands are in the palette; on a cold
  // start the palette may open before they are, or lose the first keystrokes: ask again until then
  const deadline = Date.now() + 120_000;
  for (;;) {
    await page.keyboard.press('Escape');
    await page.locator('.monaco-workbench').click({ position: { x: 800, y: 400 } }).catch(() => {});
    await page.keyboard.press('F1');
    await page.waitForSelector('.quick-input-widget:visible input', { timeout: 10_000 }).catch(() => {});
    await page.keyboard.type('MPTCP: Open Decoded Trace');
    const found = await page.waitForSelector('.quick-input-list .monaco-list-row:has-text("MPTCP: Open Decoded Trace")', { timeout: 5_000 }).then(() => true, () => false);
    if (found) break;
    if (Date.now() > deadline) throw new Error('the MPTCP Lens commands never appeared in the command palette');
  }
  await page.keyboard.press('Escape');
  return page;
}

async function command(page: Page, title: string): Promise<void> {
  // under load the palette may open late or lose the first keys: try again until it lists the command
  const row = `.quick-input-list .monaco-list-row:has-text("${title.replace(/^>/, '')}")`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    await page.keyboard.press('F1');
    await page.waitForSelector('.quick-input-widget:visible input', { timeout: 10_000 }).catch(() => {});
    await page.keyboard.type(title);
    if (await page.waitForSelector(row, { timeout: 10_000 }).then(() => true, () => false)) break;
    if (Date.now() > deadline) throw new Error(`the command palette never listed ${title}`);
    await page.keyboard.press('Escape');
    await page.locator('.monaco-workbench').click({ position: { x: 800, y: 400 } }).catch(() => {});
  }
  await page.keyboard.press('Enter');
}

async function openCapture(page: Page, name: string): Promise<FrameLocator> {
  await page.locator(`.explorer-folders-view .monaco-list-row:has-text("${name}")`).dblclick();
  const view = page.frameLocator('iframe.webview.ready:visible').frameLocator('iframe#active-frame');
  try {
    // A double-click can open the capture in the text editor (seen under load, when the workbench
    // had not yet tied *.pcap to our editor): then open it with ours from the explorer's context
    // menu ("Open in Capture Viewer", which names our editor outright), as a user would.
    for (let tries = 0; ; tries++) {
      const opened = await view.locator('#counts').waitFor({ timeout: 20_000 }).then(() => true, () => false);
      if (opened) break;
      if (tries === 3) throw new Error(`${name} never opened in the capture viewer`);
      await page.locator(`.explorer-folders-view .monaco-list-row:has-text("${name}")`).click({ button: 'right' });
      const item = page.getByRole('menuitem', { name: 'Open in Capture Viewer' });
      await item.hover({ timeout: 10_000 }).then(() => page.keyboard.press('Enter'), () => page.keyboard.press('Escape'));
    }
  } catch (err) {
    fs.mkdirSync(shots, { recursive: true });
    await page.screenshot({ path: path.join(shots, 'e2e-failure.png') });
    throw err;
  }
  return view;
}

const shots = path.join(ROOT, 'test-results');

test('VS Code: the viewer lists every packet and flags the key mismatch; Problems and the decoded trace agree', { skip, timeout: 240_000 }, async () => {
  const capture = path.join(workspace, 'key-mismatch.pcap');
  const before = fs.readFileSync(capture);
  const mtime = fs.statSync(capture).mtimeMs;
  const page = await workbench();
  const view = await openCapture(page, 'key-mismatch.pcap');
  await view.locator('#counts:has-text("60 packets · 1 errors")').waitFor({ timeout: 60_000 });
  await view.locator('.rows .row[data-frame="3"].sev-error').waitFor();
  assert.match(await view.locator('.rows .row[data-frame="3"] .c6').innerText(), /MP_CAPABLE v1 ACK flags=0x01\[H\] key=0xd25127380c168863/);
  await view.locator('.rows .row[data-frame="3"]').click();
  await view.locator("#details .node-line:has-text(\"Receiver's key\")").waitFor();
  assert.match(await view.locator("#details .node-line:has-text(\"Receiver's key\")").innerText(), /0x8c08771553a46fbc ✗/);
  // the status bar
  await page.waitForSelector('.statusbar-item:has-text("MPTCP: 1 connection")');
  // the setting mptcpLens.analysisMemory: the analysis process started ahead for the next capture
  // (0.5 s after this one's ended) runs with that heap
  const heapFlags = () => fs.readdirSync('/proc').filter((d) => /^\d+$/.test(d)).flatMap((d) => {
    try {
      const argv = fs.readFileSync(`/proc/${d}/cmdline`, 'utf8').split('\0');
      // the extension installed for this test, not another test's analysis process
      return argv.some((a) => a.startsWith(tmp) && a.endsWith(path.join('dist', 'worker.js'))) ? argv.filter((a) => a.startsWith('--max-old-space-size=')) : [];
    } catch { return []; }
  });
  const spareBy = Date.now() + 20_000;
  while (heapFlags().length === 0 && Date.now() < spareBy) await new Promise((r) => setTimeout(r, 250));
  assert.deepEqual([...new Set(heapFlags())], ['--max-old-space-size=96']);
  fs.mkdirSync(shots, { recursive: true });
  await page.screenshot({ path: path.join(shots, 'vscode-dark.png') });
  await view.locator('#tab-diagrams').click();
  await view.locator('#ladder svg .arrow.error').waitFor({ timeout: 30_000 });
  await view.locator('#dsn-plot canvas').first().waitFor();
  await page.screenshot({ path: path.join(shots, 'vscode-dark-diagrams.png') });
  await view.locator('#tab-details').click();

  // Problems: the finding, its rule id linked to the RFC section
  await page.keyboard.press('Control+Shift+M');
  const row = page.locator('.markers-panel .monaco-list-row:has-text("capable-key-mismatch")');
  await row.first().waitFor({ timeout: 30_000 });
  const text = await row.first().innerText();
  assert.match(text, /frame 3: the echoed server key in the third ACK is 0x8c08771553a46fbc, but the server sent 0x8c08771553a46fbd/);
  const link = row.first().locator('a.code-link, .code-link, a:has-text("capable-key-mismatch")').first();
  const target = (await link.getAttribute('href')) ?? (await link.getAttribute('title')) ?? (await link.getAttribute('aria-label')) ?? '';
  assert.match(target + text, /rfc8684#section-3\.1|capable-key-mismatch/);

  // the decoded trace: our hover on the option names RFC 8684 §3.1 (frame 2 carries no diagnostic of its own)
  await page.keyboard.press('Control+Shift+M'); // close Problems
  await command(page, '>MPTCP: Open Decoded Trace');
  const line = page.locator('.monaco-editor .view-line:has-text("MP_CAPABLE v1 SYN/ACK")');
  await line.waitFor({ timeout: 60_000 });
  await line.locator('span:text-is("MP_CAPABLE")').first().hover();
  const hover = page.locator('.monaco-hover:visible:has-text("Multipath Capable")');
  await hover.waitFor({ timeout: 20_000 });
  const hoverText = await hover.innerText();
  assert.match(hoverText, /Multipath Capable: starts an MPTCP connection/);
  assert.match(hoverText, /RFC 8684 §3\.1/);
  assert.equal(await hover.locator('a:has-text("RFC 8684 §3.1")').count(), 1, 'the RFC reference is a link');
  // the trace carries the diagnostic on frame 3's line
  const diagLine = page.locator('.monaco-editor .view-line:has-text("peer-key=0x8c08771553a46fbc")');
  assert.match((await diagLine.innerText()).replace(/\u00a0/g, " "), /‼ error capable-key-mismatch/);
  await page.screenshot({ path: path.join(shots, 'vscode-trace-hover.png') });
  await page.close();
  // the capture was only read
  assert.ok(fs.readFileSync(capture).equals(before));
  assert.equal(fs.statSync(capture).mtimeMs, mtime);
});

test('VS Code: a gzip-compressed capture opens as the plain one does, its rows read from the copy the analysis inflates', { skip, timeout: 150_000 }, async () => {
  const capture = path.join(workspace, 'compressed.pcap.gz');
  const before = fs.readFileSync(capture);
  const page = await workbench();
  const view = await openCapture(page, 'compressed.pcap.gz');
  await view.locator('#counts:has-text("60 packets · 1 errors")').waitFor({ timeout: 60_000 });
  await view.locator('.rows .row[data-frame="3"].sev-error').waitFor();
  // rows are decoded from the capture's bytes: they were the compressed file's, read at the inflated offsets
  assert.equal(await view.locator('.rows .row[data-frame="1"] .c3').innerText(), '10.0.1.1:57992 → 10.0.1.2:5201');
  assert.match(await view.locator('.rows .row[data-frame="3"] .c6').innerText(), /MP_CAPABLE v1 ACK flags=0x01\[H\] key=0xd25127380c168863/);
  await view.locator('.rows .row[data-frame="3"]').click();
  await view.locator("#details .node-line:has-text(\"Receiver's key\")").waitFor();
  assert.match(await view.locator("#details .node-line:has-text(\"Receiver's key\")").innerText(), /0x8c08771553a46fbc ✗/);
  await page.close();
  assert.ok(fs.readFileSync(capture).equals(before), 'the compressed capture was only read');
});

test('VS Code: a dying analysis worker shows an error with a retry, and the extension host stays up', { skip, timeout: 150_000 }, async () => {
  // a second code-server whose workers exit at once (MPTCP_LENS_WORKER_FAULT, test-only fault injection)
  settings('Default Dark Modern');
  const faultPort = await freePort();
  const cfg = path.join(tmp, 'config.yaml');
  const faulty = spawn(CODE_SERVER, ['--config', cfg, '--bind-addr', `127.0.0.1:${faultPort}`, '--auth', 'none', '--disable-telemetry', '--disable-update-check',
    '--disable-workspace-trust', '--user-data-dir', path.join(tmp, 'user-fault'), '--extensions-dir', path.join(tmp, 'extensions'), workspace],
  { env: { ...env, MPTCP_LENS_WORKER_FAULT: 'exit' }, detached: true, stdio: 'ignore' });
  try {
    const saved = port;
    port = faultPort;
    await waitForServer();
    const page = await workbench();
    port = saved;
    const view = await openCapture(page, 'key-mismatch.pcap');
    const banner = view.locator('.banner.error');
    await banner.waitFor({ timeout: 60_000 });
    assert.match(await banner.innerText(), /This capture could not be read\. the analysis worker exited \(code 3\)/);
    assert.equal(await view.locator('#retry').count(), 1);
    await view.locator('#retry').click();
    await banner.waitFor({ timeout: 30_000 });
    // the extension host is still up: its commands still answer
    await command(page, '>MPTCP: Open Decoded Trace');
    await page.locator('.monaco-editor .view-line:has-text("MP_CAPABLE v1 SYN/ACK")').waitFor({ timeout: 60_000 });
    await page.close();
  } finally {
    if (faulty.pid) { try { process.kill(-faulty.pid, 'SIGKILL'); } catch { /* gone */ } }
  }
});

for (const [theme, shot, expectBg] of [['Default Light Modern', 'vscode-light.png', /^rgb\((2[0-9]{2}), \1, \1\)$|^rgb\(2[0-9]{2}, 2[0-9]{2}, 2[0-9]{2}\)$/], ['Default High Contrast', 'vscode-high-contrast.png', /^rgb\(0, 0, 0\)$/]] as const) {
  test(`VS Code ${theme}: the viewer follows the theme and stays readable`, { skip, timeout: 150_000 }, async () => {
    settings(theme);
    const page = await workbench();
    const view = await openCapture(page, 'key-mismatch.pcap');
    await view.locator('#counts:has-text("60 packets · 1 errors")').waitFor({ timeout: 60_000 });
    await view.locator('.rows .row[data-frame="3"]').click();
    await view.locator('#details .node-line:has-text("MPTCP MP_CAPABLE")').waitFor();
    const bg = await view.locator('body').evaluate((b) => getComputedStyle(b).backgroundColor);
    assert.match(bg, expectBg, `${theme} reaches the webview (${bg})`);
    // text and background differ: the row text is readable on its background
    const fg = await view.locator('.rows .row[data-frame="5"]').evaluate((r) => getComputedStyle(r).color);
    assert.notEqual(fg, bg);
    await page.screenshot({ path: path.join(shots, shot) });
    // the diagrams follow the theme too
    await view.locator('#tab-diagrams').click();
    await view.locator('#ladder svg .arrow.error').waitFor({ timeout: 30_000 });
    await view.locator('#dsn-plot canvas').first().waitFor();
    const arrow = await view.locator('#ladder .arrow:not(.error) line').first().evaluate((l) => getComputedStyle(l).stroke);
    assert.notEqual(arrow, bg, 'arrows are visible on the background');
    await page.screenshot({ path: path.join(shots, shot.replace('.png', '-diagrams.png')) });
    await page.close();
  });
}

// npm run bench:vscode [-- FILE]: opens a large capture in a real VS Code (code-server, see
// scripts/setup-e2e.sh) and prints when the first row shows, when the analysis is done, and the
// extension host's resident memory. The default capture is the one `npm run bench` makes.
import { execFileSync, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { launch } from '../test/browser.ts';
const ROOT = path.join(__dirname, '..');
const CAPTURE = path.resolve(process.argv[2] ?? path.join(ROOT, '.bench', 'multi-large.pcap'));
const CS = path.join(process.env.CODE_SERVER_DIR ?? '/opt/mptcp-lens-e2e/code-server', 'node_modules', '.bin', 'code-server');
(async () => {
  const tmp = fs.mkdtempSync('/tmp/bigvs-');
  const ws = path.join(tmp, 'ws'); fs.mkdirSync(ws);
  fs.symlinkSync(CAPTURE, path.join(ws, 'large.pcap'));
  const env = { ...process.env, XDG_CONFIG_HOME: tmp + '/c', XDG_DATA_HOME: tmp + '/d', XDG_CACHE_HOME: tmp + '/k' };
  const vsix = tmp + '/x.vsix';
  execFileSync(process.execPath, [ROOT + '/node_modules/@vscode/vsce/vsce', 'package', '--no-dependencies', '--allow-missing-repository', '--no-rewrite-relative-links', '-o', vsix], { cwd: ROOT, stdio: 'pipe' });
  fs.writeFileSync(tmp + '/cfg.yaml', 'auth: none\n');
  execFileSync(CS, ['--config', tmp + '/cfg.yaml', '--user-data-dir', tmp + '/u', '--extensions-dir', tmp + '/e', '--install-extension', vsix], { env, stdio: 'pipe' });
  fs.mkdirSync(tmp + '/u/User', { recursive: true });
  fs.writeFileSync(tmp + '/u/User/settings.json', JSON.stringify({ 'workbench.startupEditor': 'none', 'security.workspace.trust.enabled': false }));
  const port = await new Promise<number>((r) => { const s = net.createServer(); s.listen(0, '127.0.0.1', () => { const p = (s.address() as net.AddressInfo).port; s.close(() => r(p)); }); });
  const srv = spawn(CS, ['--config', tmp + '/cfg.yaml', '--bind-addr', `127.0.0.1:${port}`, '--auth', 'none', '--disable-telemetry', '--user-data-dir', tmp + '/u', '--extensions-dir', tmp + '/e', ws], { env, detached: true, stdio: 'ignore' });
  try {
    for (let i = 0; i < 100; i++) { const ok = await new Promise<boolean>((r) => { const c = net.connect(port, '127.0.0.1', () => { c.end(); r(true); }); c.on('error', () => r(false)); }); if (ok) break; await new Promise((r) => setTimeout(r, 300)); }
    const browser = await launch();
    const page = await browser.newPage({ viewport: { width: 1600, height: 900 } });
    await page.goto(`http://127.0.0.1:${port}/?folder=${encodeURIComponent(ws)}`);
    await page.waitForSelector('.explorer-folders-view .monaco-list-row', { timeout: 120_000 });
    for (;;) { await page.keyboard.press('F1'); await page.keyboard.type('MPTCP: Open Decoded Trace'); if (await page.waitForSelector('.quick-input-list .monaco-list-row:has-text("MPTCP: Open Decoded Trace")', { timeout: 5000 }).then(() => true, () => false)) break; await page.keyboard.press('Escape'); }
    await page.keyboard.press('Escape');
    const t0 = Date.now();
    await page.locator('.explorer-folders-view .monaco-list-row:has-text("large.pcap")').dblclick();
    const view = page.frameLocator('iframe.webview.ready:visible').frameLocator('iframe#active-frame');
    // when VS Code has made the editor's webview and our page in it has started
    await view.locator('#app').waitFor({ state: 'attached', timeout: 60_000 });
    const webview = Date.now() - t0;
    await view.locator('.rows .row[data-frame="1"]').waitFor({ timeout: 60_000 });
    const first = Date.now() - t0;
    await view.locator('#counts:not(:has-text("…"))').waitFor({ timeout: 120_000 });
    const done = Date.now() - t0;
    const rss = execFileSync('sh', ['-c', `ps -eo rss,args | grep -i extensionHost | grep -v grep | awk '{print $1}' | sort -n | tail -1`]).toString().trim();
    console.log(`webview page up ${webview} ms, first row ${first} ms, analysis done ${done} ms, extension host RSS ${Math.round(Number(rss) / 1024)} MiB`);
    await view.locator('.rows .row[data-frame="1"]').click();
    await page.keyboard.press('End');
    await view.locator('.rows .row.selected').waitFor({ timeout: 30_000 });
    console.log(`last frame selected: ${await view.locator('.rows .row.selected').getAttribute('data-frame')}`);
    await browser.close();
  } finally { if (srv.pid) try { process.kill(-srv.pid, 'SIGKILL'); } catch {} fs.rmSync(tmp, { recursive: true, force: true }); }
})();

// npm run bench:vscode [-- FILE] [-- --runs N]: opens a large capture in a real VS Code (code-server, see
// scripts/setup-e2e.sh) and prints when the first row shows, when the analysis is done, and the
// extension host's resident memory. The default capture is the one `npm run bench` makes. It opens
// the capture twice, each time once the machine is idle (VS Code activates its built-in extensions
// after the window loads, for seconds on two cores): the first open activates the extension, the
// second (the same capture under another name, the first still open) finds it active. With --runs N
// it does so in N fresh editors and ends with the range and median of all the opens.
//
// With --floor it also installs a second, minimal extension (written here, in the temporary
// directory) whose custom editor shows one row and nothing else, and opens it the same way: once with
// the row in the page's HTML, once with the row sent by the extension host after the page's script
// says it is ready (the least any viewer fed by its extension host can do). That is VS Code's own
// time to a custom editor's first row on this machine: the floor under our first-row figure.
import { execFileSync, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { launch } from '../test/browser.ts';
const ROOT = path.join(__dirname, '..');
const args = process.argv.slice(2);
const RUNS = args.includes('--runs') ? Math.max(1, Number(args[args.indexOf('--runs') + 1]) || 1) : 1;
const FLOOR = args.includes('--floor');
/** --trace: a Chromium trace of the first open, summed by process and kind of work */
const TRACE = args.includes('--trace');
const fileArg = args.find((a, i) => !a.startsWith('--') && args[i - 1] !== '--runs');
const CAPTURE = path.resolve(fileArg ?? path.join(ROOT, '.bench', 'multi-large.pcap'));
/** every open's figures, for the summary of several runs */
const opens: Array<{ first: number; done: number; rss: number }> = [];
/** the minimal extension's opens: time to its row, with the row in the HTML or sent by the host */
const floors: { static: number[]; message: number[] } = { static: [], message: [] };

/**
 * A minimal custom-editor extension for `*.floorstatic` and `*.floormessage` files, packaged as a
 * .vsix: its page's title is the file's name and it shows `.rows .row[data-frame="1"]`, either in the
 * HTML VS Code is given or once the host answers the page's 'ready' with the row's text.
 */
function floorExtension(dir: string): string {
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({
    name: 'floor', publisher: 'bench', version: '0.0.1', license: 'MIT', engines: { vscode: '^1.100.0' },
    main: './extension.js', activationEvents: [],
    contributes: { customEditors: [{ viewType: 'bench.floor', displayName: 'Floor', priority: 'default', selector: [{ filenamePattern: '*.floorstatic' }, { filenamePattern: '*.floormessage' }] }] },
  }));
  fs.writeFileSync(path.join(dir, 'LICENSE'), 'MIT\n');
  fs.writeFileSync(path.join(dir, 'extension.js'), `
const vscode = require('vscode');
exports.activate = (context) => {
  context.subscriptions.push(vscode.window.registerCustomEditorProvider('bench.floor', {
    openCustomDocument: (uri) => ({ uri, dispose() {} }),
    resolveCustomEditor: (doc, panel) => {
      const name = doc.uri.path.split('/').pop();
      const nonce = String(Math.random()).slice(2);
      const row = '<div class="rows"><div class="row" data-frame="1">1 10.0.0.1 → 10.0.0.2 MP_CAPABLE</div></div>';
      if (name.endsWith('.floorstatic')) {
        panel.webview.html = '<!DOCTYPE html><html><head><meta http-equiv="Content-Security-Policy" content="default-src \\'none\\'"><title>' + name + '</title></head><body>' + row + '</body></html>';
        return;
      }
      panel.webview.options = { enableScripts: true };
      panel.webview.onDidReceiveMessage((m) => { if (m === 'ready') panel.webview.postMessage({ row }); });
      panel.webview.html = '<!DOCTYPE html><html><head><meta http-equiv="Content-Security-Policy" content="default-src \\'none\\'; script-src \\'nonce-' + nonce + '\\'"><title>' + name + '</title></head><body><script nonce="' + nonce + '">const api = acquireVsCodeApi(); addEventListener("message", (e) => { document.body.innerHTML = e.data.row; }); api.postMessage("ready");</script></body></html>';
    },
  }, { supportsMultipleEditorsPerDocument: true }));
};
`);
  const vsix = dir + '.vsix';
  execFileSync(process.execPath, [ROOT + '/node_modules/@vscode/vsce/vsce', 'package', '--allow-missing-repository', '--skip-license', '-o', vsix], { cwd: dir, stdio: 'pipe' });
  return vsix;
}
const CS = path.join(process.env.CODE_SERVER_DIR ?? '/opt/mptcp-lens-e2e/code-server', 'node_modules', '.bin', 'code-server');
/** The extension host's resident memory (the largest, should there be more than one). */
const extensionHostMiB = () => Math.round(Number(execFileSync('sh', ['-c', `ps -eo rss,args | grep -i extensionHost | grep -v grep | awk '{print $1}' | sort -n | tail -1`]).toString().trim()) / 1024);

/**
 * Processor time (clock ticks, user + system, with the children a process has reaped: the extension
 * host's includes its analysis process once that has ended) of the editor's processes, by pid.
 */
function editorCpu(): Map<string, { name: string; ticks: number }> {
  const out = new Map<string, { name: string; ticks: number }>();
  for (const pid of fs.readdirSync('/proc').filter((x) => /^\d+$/.test(x))) {
    try {
      const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const cmd = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
      const type = /--type=([\w-]+)/.exec(cmd)?.[1];
      const name = cmd.includes('extensionHost') ? 'extension host and analysis' : cmd.includes('chromium') ? `Chromium ${type ?? 'browser'}` : cmd.includes('code-server') ? 'code-server' : undefined;
      if (name) out.set(pid, { name, ticks: Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14]) });
    } catch { /* gone */ }
  }
  return out;
}

/** Waits until the machine's processors have been at most 20 % busy for a second (at most 30 s). */
async function machineIdle(): Promise<void> {
  const sample = () => { const f = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number); return { idle: f[3] + f[4], all: f.reduce((a, b) => a + b, 0) }; };
  const end = Date.now() + 30_000;
  let quiet = 0;
  let prev = sample();
  while (Date.now() < end && quiet < 2) {
    await new Promise((r) => setTimeout(r, 500));
    const cur = sample();
    const busy = 1 - (cur.idle - prev.idle) / Math.max(1, cur.all - prev.all);
    quiet = busy <= 0.2 ? quiet + 1 : 0;
    prev = cur;
  }
}

/**
 * Prints, per Chromium process of a trace (the workbench's renderer, the webview's, the browser...),
 * the time in its top-level tasks and in the main kinds of work inside them (inclusive: script can
 * contain a forced layout), and script time by source.
 */
function summariseTrace(trace: { traceEvents: Array<{ name: string; ph: string; pid: number; tid: number; dur?: number; args?: any; cat: string }> }): void {
  const names = new Map<number, string>();
  const mainThreads = new Set<string>();
  for (const e of trace.traceEvents) {
    if (e.ph !== 'M') continue;
    if (e.name === 'process_name') names.set(e.pid, e.args.name);
    if (e.name === 'process_labels') names.set(e.pid, `${names.get(e.pid) ?? ''} ${e.args.labels}`);
    if (e.name === 'thread_name' && e.args.name === 'CrRendererMain') mainThreads.add(`${e.pid}:${e.tid}`);
  }
  // frames by id: the workbench, VS Code's webview host frames and our page in them
  const frameUrl = new Map<string, string>();
  for (const e of trace.traceEvents) {
    const frames = e.args?.data?.frames ?? (e.args?.data?.frame && e.args?.data?.url ? [e.args.data] : []);
    for (const f of frames) if (f.frame && f.url) frameUrl.set(f.frame, String(f.url).includes('/webview/') || String(f.url).startsWith('vscode-webview') ? (String(f.url).includes('fake.html') || f.name === 'pending-frame' ? 'webview page' : 'webview host') : String(f.url).includes('workbench') || /:\d+\/\?folder/.test(String(f.url)) ? 'workbench' : String(f.url).slice(0, 40));
  }
  const kinds = ['RunTask', 'FunctionCall', 'EvaluateScript', 'v8.compile', 'UpdateLayoutTree', 'Layout', 'PrePaint', 'Paint', 'Layerize', 'ParseHTML', 'MajorGC', 'MinorGC', 'FireAnimationFrame', 'HitTest', 'TimerFire', 'EventDispatch'];
  const by = new Map<string, Map<string, number>>();
  for (const e of trace.traceEvents) {
    if (e.ph !== 'X' || !e.dur || !kinds.includes(e.name)) continue;
    const key = `${names.get(e.pid) ?? 'process'} (${e.pid})${mainThreads.has(`${e.pid}:${e.tid}`) ? ' main thread' : ''}`;
    const m = by.get(key) ?? new Map<string, number>(); by.set(key, m);
    m.set(e.name, (m.get(e.name) ?? 0) + e.dur / 1000);
    const frame = e.args?.data?.frame ?? e.args?.beginData?.frame;
    if (frame && frameUrl.has(frame)) m.set(`  ${frameUrl.get(frame)}: ${e.name}`, (m.get(`  ${frameUrl.get(frame)}: ${e.name}`) ?? 0) + e.dur / 1000);
    if (e.name === 'FunctionCall' || e.name === 'EvaluateScript') {
      const url = String(e.args?.data?.url ?? '').replace(/\?.*$/, '').split('/').slice(-2).join('/') || '(no url)';
      m.set(`  script ${url}`, (m.get(`  script ${url}`) ?? 0) + e.dur / 1000);
    }
  }
  for (const [k, m] of [...by].sort((a, b) => (b[1].get('RunTask') ?? 0) - (a[1].get('RunTask') ?? 0))) {
    if ((m.get('RunTask') ?? 0) < 20) continue;
    console.log(`  trace: ${k}: ${[...m].filter(([, v]) => v >= 10).sort((a, b) => b[1] - a[1]).map(([n, v]) => `${n} ${Math.round(v)} ms`).join(', ')}`);
  }
}

async function run(): Promise<void> {
  const tmp = fs.mkdtempSync('/tmp/bigvs-');
  const ws = path.join(tmp, 'ws'); fs.mkdirSync(ws);
  fs.symlinkSync(CAPTURE, path.join(ws, 'large.pcap'));
  fs.symlinkSync(CAPTURE, path.join(ws, 'large-again.pcap'));
  if (FLOOR) for (const f of ['floor.floorstatic', 'floor.floormessage', 'floor-again.floorstatic', 'floor-again.floormessage']) fs.symlinkSync(CAPTURE, path.join(ws, f));
  const timing = tmp + '/timing.log'; // the extension's timing marks (extension/timing.ts)
  const env = { ...process.env, XDG_CONFIG_HOME: tmp + '/c', XDG_DATA_HOME: tmp + '/d', XDG_CACHE_HOME: tmp + '/k', MPTCP_LENS_TIMING: timing };
  const vsix = tmp + '/x.vsix';
  execFileSync(process.execPath, [ROOT + '/node_modules/@vscode/vsce/vsce', 'package', '--no-dependencies', '--allow-missing-repository', '--no-rewrite-relative-links', '-o', vsix], { cwd: ROOT, stdio: 'pipe' });
  fs.writeFileSync(tmp + '/cfg.yaml', 'auth: none\n');
  execFileSync(CS, ['--config', tmp + '/cfg.yaml', '--user-data-dir', tmp + '/u', '--extensions-dir', tmp + '/e', '--install-extension', vsix], { env, stdio: 'pipe' });
  if (FLOOR) execFileSync(CS, ['--config', tmp + '/cfg.yaml', '--user-data-dir', tmp + '/u', '--extensions-dir', tmp + '/e', '--install-extension', floorExtension(tmp + '/floor')], { env, stdio: 'pipe' });
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
    /** our page in the editor of `name` (its title is the capture's name) */
    const pageOf = async (name: string) => {
      for (;;) {
        for (const f of page.frames()) if (await f.title().catch(() => '') === name) return f;
        await new Promise((r) => setTimeout(r, 20));
      }
    };
    /**
     * Once the machine is idle, double-clicks `name` in the explorer: when VS Code's page for it is up
     * (it has its title) and when that shows frame 1's row, from the double-click.
     */
    const openTimed = async (name: string, trace = false) => {
      await machineIdle();
      if (trace) await browser.startTracing(undefined, { categories: ['toplevel', 'devtools.timeline', 'disabled-by-default-devtools.timeline', 'v8.execute', 'v8'] });
      const before = editorCpu();
      const t0 = Date.now();
      await page.locator(`.explorer-folders-view .monaco-list-row:has-text("${name}")`).dblclick();
      const view = await pageOf(name);
      const webview = Date.now() - t0;
      await view.waitForSelector('.rows .row[data-frame="1"]', { timeout: 60_000 });
      return { view, t0, before, webview, first: Date.now() - t0 };
    };
    /** the editor's processor time since `before`, by process, as text */
    const cpuSince = (before: ReturnType<typeof editorCpu>) => {
      const use = new Map<string, number>();
      for (const [pid, p] of editorCpu()) use.set(p.name, (use.get(p.name) ?? 0) + p.ticks - (before.get(pid)?.ticks ?? 0));
      return [...use].filter(([, v]) => v >= 5).sort((x, y) => y[1] - x[1]).map(([k, v]) => `${k} ${(v / 100).toFixed(2)} s`).join(', ');
    };
    const open = async (name: string, label: string, trace = false) => {
      const { view, t0, before, webview, first } = await openTimed(name, trace);
      await view.waitForSelector('#counts:not(:has-text("…"))', { timeout: 120_000 });
      const done = Date.now() - t0;
      const cpu = cpuSince(before);
      if (trace) summariseTrace(JSON.parse((await browser.stopTracing()).toString()));
      const rss = extensionHostMiB();
      opens.push({ first, done, rss });
      console.log(`${label}: webview page up ${webview} ms, first row ${first} ms, analysis done ${done} ms, extension host RSS ${rss} MiB`);
      console.log(`  processor time from the double-click to done: ${cpu}`);
      // inside the webview, from its navigation: our script and style arriving, the page built, the first rows
      const inside = await view.evaluate(() => ({
        resources: performance.getEntriesByType('resource').map((e) => `${e.name.split('/').pop()!.split('?')[0]} ${Math.round(e.startTime)}–${Math.round((e as unknown as { responseEnd: number }).responseEnd)} ms`),
        marks: performance.getEntriesByType('mark').filter((e) => e.name.startsWith('mptcp-lens:')).map((e) => `${e.name.slice(11)} ${Math.round(e.startTime)} ms`),
      }));
      console.log(`  in the webview: ${[...inside.resources, ...inside.marks].join(', ')}`);
      // the extension's own marks (extension host and analysis process), from the double-click
      const marks = (fs.existsSync(timing) ? fs.readFileSync(timing, 'utf8') : '').split('\n').map((l) => l.split(' '))
        .filter(([ms, , file]) => Number(ms) >= t0 && (file === name || file === ''));
      console.log(`  in the extension: ${marks.map(([ms, mark]) => `${mark} ${Number(ms) - t0} ms`).join(', ')}`);
      return view;
    };
    const view = await open('large.pcap', 'first open (the extension activates)', TRACE);
    await view.locator('.rows .row[data-frame="1"]').click();
    await page.keyboard.press('End');
    await view.waitForSelector('.rows .row.selected[data-frame]:not([data-frame="1"])', { timeout: 30_000 });
    console.log(`last frame selected: ${await view.locator('.rows .row.selected').getAttribute('data-frame')}`);
    await open('large-again.pcap', 'second open (the extension active, the first capture still open)');
    if (FLOOR) {
      // the minimal extension: first opens activate it, second opens find it active
      for (const [name, kind] of [['floor.floorstatic', 'static'], ['floor.floormessage', 'message'], ['floor-again.floorstatic', 'static'], ['floor-again.floormessage', 'message']] as const) {
        const { view, t0, before, webview, first: row } = await openTimed(name);
        floors[kind].push(row);
        // what the workbench alone costs in processor time over the first 3 s of an open
        await new Promise((r) => setTimeout(r, Math.max(0, t0 + 3000 - Date.now())));
        console.log(`minimal custom editor, ${name} (row ${kind === 'static' ? 'in the HTML' : 'sent by the host'}): webview page up ${webview} ms, row ${row} ms; processor time in its first 3 s: ${cpuSince(before)}`);
        // as after our first open: the keyboard's focus left inside the page before the next open
        if (name === 'floor.floormessage') { await view.locator('.rows .row[data-frame="1"]').click(); await page.keyboard.press('End'); }
      }
    }
    await browser.close();
  } finally { if (srv.pid) try { process.kill(-srv.pid, 'SIGKILL'); } catch {} fs.rmSync(tmp, { recursive: true, force: true }); }
}

(async () => {
  for (let r = 1; r <= RUNS; r++) {
    if (RUNS > 1) console.log(`run ${r} of ${RUNS}`);
    await run();
  }
  if (RUNS > 1) {
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
    const span = (k: 'first' | 'done' | 'rss', unit: (v: number) => string) => {
      const xs = opens.map((o) => o[k]);
      return `${unit(Math.min(...xs))}–${unit(Math.max(...xs))} (median ${unit(median(xs))})`;
    };
    const sec = (v: number) => (v / 1000).toFixed(2) + ' s';
    const span2 = (xs: number[]) => `${sec(Math.min(...xs))}–${sec(Math.max(...xs))} (median ${sec(median(xs))})`;
    if (FLOOR) console.log(`minimal custom editor, ${floors.static.length} opens each: row in the HTML ${span2(floors.static)}, row sent by the host ${span2(floors.message)}`);
    console.log(`${opens.length} opens: first row ${span('first', sec)}, analysis done ${span('done', sec)}, extension host ${span('rss', (v) => `${v} MiB`)}`);
  }
})();

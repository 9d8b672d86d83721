/**
 * The capture viewer: a virtual packet list (a million rows scroll: only what is on screen exists),
 * filters, the selected packet's field tree and bytes, connections and findings. It asks the host
 * for pages of rows and for one packet's details; state survives hiding through setState.
 * Capture-derived text is only ever set as textContent.
 */
import { checkedOf, setChecked, setValue, ui, valueOf } from './toolkit.ts';
import { CONNECTION_PAGE, FINDING_PAGE, type ConnectionInfo, type DetailNode, type Filter, type HostMessage, type WebviewMessage } from '../src/viewer/protocol.ts';
import type { Finding } from '../src/check/types.ts';
import type { Row } from '../src/viewer/rows.ts';
import { renderLadder, renderPlot, renderTimeline, standaloneSvg } from './diagrams.ts';

interface VsCodeApi { postMessage(m: WebviewMessage): void; getState(): unknown; setState(s: unknown): void }
declare function acquireVsCodeApi(): VsCodeApi;

interface SavedState { selected: number; filter: Filter; scrollTop: number; tab: string; timeMode: 'relative' | 'absolute' }

const vscode = acquireVsCodeApi();
const ROW_H = 22;
const PAGE = 200;
const MAX_SPACER = 8_000_000; // px: browsers cap element heights; beyond this the scroll position is scaled
const SEVERITY_NAME = ['', 'info', 'warning', 'error'];
const SEVERITY_ICON = ['', 'ℹ', '▲', '✖'];
const SUBTYPES: Array<[number, string]> = [[0, 'MP_CAPABLE'], [1, 'MP_JOIN'], [2, 'DSS'], [3, 'ADD_ADDR'], [4, 'REMOVE_ADDR'], [5, 'MP_PRIO'], [6, 'MP_FAIL'], [7, 'MP_FASTCLOSE'], [8, 'MP_TCPRST']];

const saved = (vscode.getState() as SavedState | undefined) ?? { selected: 0, filter: {}, scrollTop: 0, tab: 'tab-details', timeMode: 'relative' };
const state: SavedState = { ...saved };
const save = () => vscode.setState(state);

let total = 0;
let filterId = -1;
let done = false;
let requestSeq = 1;
// the connections and findings loaded so far: a page at a time (a busy capture has tens of
// thousands), with the totals and the findings by severity from the host
let connections: ConnectionInfo[] = [];
let connectionCount = 0;
let findings: Finding[] = [];
let findingCount = 0;
let severities = { error: 0, warning: 0, info: 0 };
let findingsByFrame = new Map<number, Finding[]>();
let asked = { connections: -1, findings: -1 };
const cache = new Map<number, Row>();
const pending = new Set<number>();
let selectedPos = -1;
let detailsRequest = 0;
const locateWaiters = new Map<number, (pos: number) => void>();

function h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Record<string, string> = {}, ...children: Array<Node | string>): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, v);
  for (const c of children) el.append(typeof c === 'string' ? document.createTextNode(c) : c);
  return el;
}

function x(tag: string, attrs: Record<string, string> = {}, ...children: Array<Node | string>): HTMLElement {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, v);
  for (const c of children) el.append(typeof c === 'string' ? document.createTextNode(c) : c);
  return el;
}

// ---------- layout ----------
const app = document.getElementById('app')!;
const textFilter = x(ui.textField, { placeholder: 'Filter: text, mptcp.stream == N, tcp.stream == N (Ctrl+F)', title: 'Text in any column; mptcp.stream == N shows connection N, tcp.stream == N subflow N (&& joins them)', 'aria-label': 'Filter packets by text', id: 'filter-text' });
const connFilter = x(ui.dropdown, { 'aria-label': 'Connection', id: 'filter-connection' });
const subflowFilter = x(ui.dropdown, { 'aria-label': 'Subflow', id: 'filter-subflow' });
const subtypeFilter = x(ui.dropdown, { 'aria-label': 'MPTCP option', id: 'filter-subtype' });
const severityFilter = x(ui.dropdown, { 'aria-label': 'Severity', id: 'filter-severity' });
const findingsOnly = x(ui.checkbox, { id: 'filter-findings' }, 'Findings only');
const timeToggle = x(ui.button, { appearance: 'secondary', id: 'time-mode', title: 'Relative or absolute time' }, 'Time: relative');
const traceButton = x(ui.button, { appearance: 'secondary', id: 'open-trace', title: 'Open the decoded trace (text, with hover annotations)' }, 'Decoded trace');
const counts = h('span', { class: 'counts', id: 'counts', 'aria-live': 'polite' });
const toolbar = h('div', { class: 'toolbar', role: 'toolbar', 'aria-label': 'Filters' }, textFilter, connFilter, subflowFilter, subtypeFilter, severityFilter, findingsOnly, timeToggle, traceButton, counts);
const progress = h('div', { class: 'progress', role: 'progressbar', 'aria-label': 'Reading the capture', 'aria-valuemin': '0', 'aria-valuemax': '100' }, h('div', { class: 'progress-bar' }));
const banner = h('div', { class: 'banner', role: 'alert', hidden: '' });

const header = h('div', { class: 'row header', role: 'row' },
  ...['No.', 'Time', 'Conn / sf', 'Source → Destination', 'Flags', 'Len', 'MPTCP', 'DSN', 'Data ACK', ''].map((t, i) => h('span', { class: `c${i}`, role: 'columnheader' }, t)));
const spacer = h('div', { class: 'spacer' });
const rowsLayer = h('div', { class: 'rows', role: 'rowgroup' });
const list = h('div', { class: 'list', role: 'grid', tabindex: '0', 'aria-label': 'Packets', 'aria-rowcount': '0', id: 'packet-list' }, rowsLayer, spacer);
const listWrap = h('div', { class: 'list-wrap' }, header, list);

const tree = h('div', { class: 'tree', role: 'tree', 'aria-label': 'Packet details', id: 'details' }, h('p', { class: 'muted' }, 'Select a packet to see its fields.'));
const hex = h('div', { class: 'hex', id: 'hex', 'aria-label': 'Packet bytes' });
const connList = h('div', { class: 'connections', id: 'connections' });
const findingList = h('div', { class: 'findings', id: 'findings', role: 'list' });
const vizConn = x(ui.dropdown, { 'aria-label': 'Connection to draw', id: 'viz-connection' });
const exportLadder = x(ui.button, { appearance: 'secondary', id: 'export-ladder' }, 'Ladder SVG');
const exportTimeline = x(ui.button, { appearance: 'secondary', id: 'export-timeline' }, 'Timeline SVG');
const exportPlot = x(ui.button, { appearance: 'secondary', id: 'export-plot' }, 'Plot PNG');
const ladderBox = h('div', { class: 'ladder-box', id: 'ladder' });
const timelineBox = h('div', { class: 'timeline-box', id: 'timeline' });
const plotBox = h('div', { class: 'plot-box', id: 'dsn-plot' });
const diagrams = h('div', { class: 'diagrams', id: 'diagrams' },
  h('div', { class: 'viz-toolbar' }, vizConn, h('span', { class: 'muted' }, 'Export:'), exportLadder, exportTimeline, exportPlot),
  h('h3', {}, 'Signalling'), ladderBox, h('h3', {}, 'Subflows'), timelineBox, h('h3', {}, 'Data sequence'), plotBox);
const panels = x(ui.panels, { class: 'side', 'activeid': state.tab },
  x(ui.panelTab, { id: 'tab-details' }, 'Details'), x(ui.panelTab, { id: 'tab-connections' }, 'Connections'), x(ui.panelTab, { id: 'tab-findings' }, 'Findings'), x(ui.panelTab, { id: 'tab-diagrams' }, 'Diagrams'),
  x(ui.panelView, { id: 'view-details' }, h('div', { class: 'details' }, tree, hex)),
  x(ui.panelView, { id: 'view-connections' }, connList),
  x(ui.panelView, { id: 'view-findings' }, findingList),
  x(ui.panelView, { id: 'view-diagrams' }, diagrams));
const mainArea = h('div', { class: 'main' }, listWrap, panels);
app.append(toolbar, progress, banner, mainArea);
const widen = () => mainArea.classList.toggle('wide-side', state.tab === 'tab-diagrams');
widen();

// ---------- filters ----------
function option(value: string, label: string): HTMLElement {
  return x(ui.option, { value }, label);
}

function fillStaticFilters(): void {
  subtypeFilter.replaceChildren(option('', 'Any option'), ...SUBTYPES.map(([v, n]) => option(String(v), n)));
  severityFilter.replaceChildren(option('', 'Any severity'), option('3', 'Errors'), option('2', 'Warnings and up'), option('1', 'Info and up'));
  fillConnectionFilters();
  setValue(textFilter, state.filter.text ?? '');
  setValue(subtypeFilter, state.filter.subtype !== undefined ? String(state.filter.subtype) : '');
  setValue(severityFilter, state.filter.severity !== undefined ? String(state.filter.severity) : '');
  setChecked(findingsOnly, !!state.filter.findingsOnly);
}

function fillConnectionFilters(): void {
  // the loaded connections, and the one chosen (restored state may name one not loaded yet)
  const chosen = state.filter.connection;
  const extra = chosen !== undefined && !connections.some((c) => c.id === chosen) ? [option(String(chosen), `Connection ${chosen}`)] : [];
  connFilter.replaceChildren(option('', 'All connections'), ...connections.map((c) => option(String(c.id), `Connection ${c.id}`)), ...extra);
  const subflows = connections.filter((c) => state.filter.connection === undefined || c.id === state.filter.connection).flatMap((c) => c.subflows);
  subflowFilter.replaceChildren(option('', 'All subflows'), ...subflows.map((s) => option(String(s.tcpStream), `Subflow ${s.tcpStream}`)));
  setValue(connFilter, state.filter.connection !== undefined ? String(state.filter.connection) : '');
  setValue(subflowFilter, state.filter.subflow !== undefined ? String(state.filter.subflow) : '');
}

function readFilters(): Filter {
  const f: Filter = {};
  const num = (el: Element) => (valueOf(el) === '' ? undefined : Number(valueOf(el)));
  const text = valueOf(textFilter).trim();
  if (text) f.text = text;
  if (num(connFilter) !== undefined) f.connection = num(connFilter);
  if (num(subflowFilter) !== undefined) f.subflow = num(subflowFilter);
  if (num(subtypeFilter) !== undefined) f.subtype = num(subtypeFilter);
  if (num(severityFilter) !== undefined) f.severity = num(severityFilter);
  if (checkedOf(findingsOnly)) f.findingsOnly = true;
  return f;
}

function applyFilter(f: Filter): void {
  state.filter = f;
  save();
  cache.clear();
  pending.clear();
  vscode.postMessage({ type: 'setFilter', filter: f });
}

let textTimer: ReturnType<typeof setTimeout> | undefined;
textFilter.addEventListener('input', () => { clearTimeout(textTimer); textTimer = setTimeout(() => applyFilter(readFilters()), 250); });
for (const el of [connFilter, subflowFilter, subtypeFilter, severityFilter, findingsOnly]) el.addEventListener('change', () => {
  const f = readFilters();
  if (el === connFilter) { delete f.subflow; state.filter = f; fillConnectionFilters(); }
  applyFilter(f);
});
timeToggle.addEventListener('click', () => {
  state.timeMode = state.timeMode === 'relative' ? 'absolute' : 'relative';
  timeToggle.textContent = `Time: ${state.timeMode}`;
  save();
  render();
});
traceButton.addEventListener('click', () => vscode.postMessage({ type: 'openTrace', frame: Math.max(1, state.selected || 1) }));
panels.addEventListener('change', () => {
  state.tab = (panels as unknown as { activeid: string }).activeid;
  save();
  widen();
  if (state.tab === 'tab-diagrams') requestViz();
});

// ---------- diagrams ----------
let vizRequest = 0;
let plot: { destroy(): void; ctx: CanvasRenderingContext2D } | undefined;
let drawn = -1;

function requestViz(): void {
  const c = valueOf(vizConn) === '' ? connections[0]?.id : Number(valueOf(vizConn));
  if (c === undefined || c === drawn) return;
  vizRequest = requestSeq++;
  vscode.postMessage({ type: 'getViz', requestId: vizRequest, connection: c });
}

vizConn.addEventListener('change', () => { drawn = -1; requestViz(); });
exportLadder.addEventListener('click', () => {
  const svg = ladderBox.querySelector('svg');
  if (svg) vscode.postMessage({ type: 'export', kind: 'svg', name: `ladder-connection-${drawn}`, data: standaloneSvg(svg) });
});
exportTimeline.addEventListener('click', () => {
  const svg = timelineBox.querySelector('svg');
  if (svg) vscode.postMessage({ type: 'export', kind: 'svg', name: `timeline-connection-${drawn}`, data: standaloneSvg(svg) });
});
exportPlot.addEventListener('click', () => {
  if (plot) vscode.postMessage({ type: 'export', kind: 'png', name: `dsn-connection-${drawn}`, data: plot.ctx.canvas.toDataURL('image/png') });
});

function fillVizConnections(): void {
  const chosen = valueOf(vizConn);
  vizConn.replaceChildren(...connections.map((c) => option(String(c.id), `Connection ${c.id}`)));
  if (connections.length) setValue(vizConn, chosen !== '' && connections.some((c) => String(c.id) === chosen) ? chosen : String(connections[0].id));
}

// ---------- virtual list ----------
function scale(): number {
  const full = total * ROW_H;
  return full > MAX_SPACER ? (full - list.clientHeight) / (MAX_SPACER - list.clientHeight) : 1;
}

function firstVisible(): number {
  return Math.floor((list.scrollTop * scale()) / ROW_H);
}

function requestPage(start: number): void {
  const page = Math.floor(start / PAGE) * PAGE;
  if (pending.has(page) || page >= total) return;
  pending.add(page);
  vscode.postMessage({ type: 'getRows', requestId: requestSeq++, filterId, start: page, count: Math.min(PAGE, total - page) });
}

function cell(cls: string, text: string, title?: string): HTMLElement {
  const el = h('span', { class: cls, role: 'gridcell' }, text);
  if (title) el.title = title;
  return el;
}

function rowElement(pos: number, r: Row | undefined): HTMLElement {
  const el = h('div', { class: 'row', role: 'row', 'aria-rowindex': String(pos + 2), 'data-pos': String(pos) });
  if (!r) { el.append(cell('c0 muted', '…')); return el; }
  el.dataset.frame = String(r.frame);
  if (r.severity) el.classList.add(`sev-${SEVERITY_NAME[r.severity]}`);
  if (r.frame === state.selected) { el.classList.add('selected'); el.setAttribute('aria-selected', 'true'); }
  const time = state.timeMode === 'relative' ? r.time.toFixed(6) : r.absTime;
  const conn = r.connection >= 0 ? `${r.connection} / ${r.subflow}` : r.subflow >= 0 ? `tcp ${r.subflow}` : '';
  const icon = r.severity ? SEVERITY_ICON[r.severity] : '';
  el.append(
    cell('c0', String(r.frame)), cell('c1', time), cell('c2', conn), cell('c3', `${r.src} → ${r.dst}`), cell('c4', r.flags),
    cell('c5', String(r.length)), cell('c6', r.options + (r.reinjectionOf ? ` (reinjection of ${r.reinjectionOf})` : ''), r.options),
    cell('c7', r.relDsn), cell('c8', r.relAck), cell(`c9 sev sev-${SEVERITY_NAME[r.severity]}`, icon, r.severity ? findingTitle(r.frame) : undefined),
  );
  return el;
}

function findingTitle(frame: number): string {
  return (findingsByFrame.get(frame) ?? []).map((f) => `${f.severity} ${f.rule}: ${f.message} (${f.rfc.doc} §${f.rfc.section})`).join('\n');
}

/** Notes when the first rows arrived (npm run bench:vscode reads it). */
function markFirstRows(): void {
  if (!performance.getEntriesByName('mptcp-lens:first-rows').length) performance.mark('mptcp-lens:first-rows');
}

function render(): void {
  const full = total * ROW_H;
  spacer.style.height = `${Math.min(full, MAX_SPACER)}px`;
  list.setAttribute('aria-rowcount', String(total + 1));
  const first = Math.max(0, firstVisible());
  const frac = (list.scrollTop * scale()) % ROW_H;
  const count = Math.ceil(list.clientHeight / ROW_H) + 1;
  const rows: HTMLElement[] = [];
  for (let pos = first; pos < Math.min(total, first + count); pos++) {
    const r = cache.get(pos);
    if (!r) requestPage(pos);
    const el = rowElement(pos, r);
    el.style.top = `${(pos - first) * ROW_H - frac}px`;
    rows.push(el);
  }
  rowsLayer.replaceChildren(...rows);
  if (cache.size > 20000) for (const k of [...cache.keys()].slice(0, cache.size - 10000)) cache.delete(k);
  counts.textContent = `${total.toLocaleString()} packets${done ? '' : '…'}${findingCount ? ` · ${severities.error} errors, ${severities.warning} warnings` : ''}`;
}

let scrollFrame = 0;
list.addEventListener('scroll', () => {
  state.scrollTop = list.scrollTop;
  if (!scrollFrame) scrollFrame = requestAnimationFrame(() => { scrollFrame = 0; render(); save(); });
});
new ResizeObserver(() => render()).observe(list);

function scrollToPos(pos: number): void {
  const first = firstVisible();
  const visible = Math.floor(list.clientHeight / ROW_H);
  if (pos < first) list.scrollTop = (pos * ROW_H) / scale();
  else if (pos >= first + visible) list.scrollTop = ((pos - visible + 1) * ROW_H) / scale();
  render();
}

function select(pos: number): void {
  if (pos < 0 || pos >= total) return;
  selectedPos = pos;
  scrollToPos(pos);
  const r = cache.get(pos);
  if (r) chooseFrame(r.frame);
  else {
    requestPage(pos);
    pendingSelect = pos;
  }
}

let pendingSelect = -1;

function chooseFrame(frame: number): void {
  state.selected = frame;
  save();
  render();
  detailsRequest = requestSeq++;
  vscode.postMessage({ type: 'getDetails', requestId: detailsRequest, frame });
}

list.addEventListener('click', (e) => {
  const row = (e.target as HTMLElement).closest('.row') as HTMLElement | null;
  if (!row?.dataset.pos) return;
  list.focus();
  select(Number(row.dataset.pos));
});

list.addEventListener('keydown', (e) => {
  const visible = Math.max(1, Math.floor(list.clientHeight / ROW_H) - 1);
  const cur = selectedPos < 0 ? firstVisible() - 1 : selectedPos;
  const moves: Record<string, number> = { ArrowDown: cur + 1, ArrowUp: cur - 1, PageDown: cur + visible, PageUp: cur - visible, Home: 0, End: total - 1 };
  if (e.key in moves) {
    e.preventDefault();
    select(Math.max(0, Math.min(total - 1, moves[e.key])));
  } else if (e.key === 'Enter' && state.selected) {
    e.preventDefault();
    (panels as unknown as { activeid: string }).activeid = 'tab-details';
    (tree.querySelector('[role=treeitem]') as HTMLElement | null)?.focus();
  }
});

document.addEventListener('keydown', (e) => {
  if ((e.ctrlKey || e.metaKey) && e.key.toLowerCase() === 'f') {
    e.preventDefault();
    (textFilter as HTMLElement).focus();
  }
});

// ---------- details and bytes ----------
let bytes: number[] = [];

function renderDetails(nodes: DetailNode[], frameBytes: number[]): void {
  bytes = frameBytes;
  const build = (n: DetailNode, depth: number): HTMLElement => {
    const li = h('div', { class: `node depth${Math.min(depth, 4)}`, role: 'treeitem', tabindex: '-1', 'aria-level': String(depth + 1) });
    const line = h('div', { class: 'node-line' });
    if (n.children?.length) {
      li.setAttribute('aria-expanded', depth < 2 || n.finding ? 'true' : 'false');
      line.append(h('span', { class: 'twisty' }, li.getAttribute('aria-expanded') === 'true' ? '▾' : '▸'));
    } else line.append(h('span', { class: 'twisty' }, ' '));
    if (n.finding) line.append(h('span', { class: `sev sev-${n.finding.severity}`, title: n.finding.message }, n.finding.severity === 'error' ? '✖' : n.finding.severity === 'warning' ? '▲' : 'ℹ'));
    line.append(h('span', { class: `label${n.derived ? ' derived' : ''}` }, n.label));
    if (n.value !== undefined) line.append(h('span', { class: 'value' }, `: ${n.value}`));
    if (n.check) line.append(h('span', { class: `check ${n.check}`, title: n.check === 'ok' ? 'verifies' : 'does not verify' }, n.check === 'ok' ? ' ✓' : ' ✗'));
    if (n.rfc) {
      const a = h('a', { href: n.rfc.url, class: 'rfc', title: `Open ${n.rfc.doc} §${n.rfc.section}` }, `${n.rfc.doc} §${n.rfc.section}`);
      line.append(' ', a);
    }
    if (n.help) line.title = n.help;
    li.append(line);
    if (n.children?.length) {
      const kids = h('div', { class: 'children', role: 'group' });
      if (li.getAttribute('aria-expanded') !== 'true') kids.hidden = true;
      for (const c of n.children) kids.append(build(c, depth + 1));
      li.append(kids);
    }
    line.addEventListener('click', (e) => {
      if ((e.target as HTMLElement).tagName === 'A') return;
      e.stopPropagation();
      for (const s of tree.querySelectorAll('.node-line.chosen')) s.classList.remove('chosen');
      line.classList.add('chosen');
      if (n.children?.length && (e.target as HTMLElement).classList.contains('twisty')) toggle(li);
      renderHex(n.offset, n.length);
    });
    li.addEventListener('keydown', (e) => {
      if (e.target !== li) return;
      const items = [...tree.querySelectorAll('[role=treeitem]')].filter((el) => !(el as HTMLElement).closest('[hidden]')) as HTMLElement[];
      const i = items.indexOf(li);
      if (e.key === 'ArrowDown') items[i + 1]?.focus();
      else if (e.key === 'ArrowUp') items[i - 1]?.focus();
      else if (e.key === 'ArrowRight' || e.key === 'ArrowLeft' || e.key === 'Enter') toggle(li, e.key === 'ArrowRight' ? true : e.key === 'ArrowLeft' ? false : undefined);
      else return;
      e.preventDefault();
    });
    li.addEventListener('focus', () => renderHex(n.offset, n.length));
    return li;
  };
  tree.replaceChildren(...nodes.map((n) => build(n, 0)));
  renderHex();
}

function toggle(li: HTMLElement, open?: boolean): void {
  const kids = li.querySelector(':scope > .children') as HTMLElement | null;
  if (!kids) return;
  const willOpen = open ?? kids.hidden;
  kids.hidden = !willOpen;
  li.setAttribute('aria-expanded', String(willOpen));
  const tw = li.querySelector(':scope > .node-line > .twisty');
  if (tw) tw.textContent = willOpen ? '▾' : '▸';
}

function renderHex(offset?: number, length?: number): void {
  const lines: HTMLElement[] = [];
  const max = Math.min(bytes.length, 8192);
  for (let o = 0; o < max; o += 16) {
    const line = h('div', { class: 'hex-line' }, h('span', { class: 'hex-off' }, o.toString(16).padStart(4, '0')));
    const hexPart = h('span', { class: 'hex-bytes' });
    const ascii = h('span', { class: 'hex-ascii' });
    for (let i = o; i < Math.min(o + 16, bytes.length); i++) {
      const b = bytes[i];
      const inSel = offset !== undefined && length !== undefined && i >= offset && i < offset + length;
      const hb = h('span', inSel ? { class: 'sel' } : {}, b.toString(16).padStart(2, '0'));
      const ab = h('span', inSel ? { class: 'sel' } : {}, b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : '.');
      hexPart.append(hb, ' ');
      ascii.append(ab);
    }
    line.append(hexPart, ascii);
    lines.push(line);
  }
  if (bytes.length > max) lines.push(h('div', { class: 'muted' }, `… ${bytes.length - max} more bytes`));
  hex.replaceChildren(...lines);
  const first = hex.querySelector('.sel');
  first?.scrollIntoView({ block: 'nearest' });
}

// ---------- connections and findings ----------
/** A button that asks the host for the next page of a list, saying how many are left. */
function moreButton(kind: 'connections' | 'findings', loaded: number, count: number, page: number): HTMLElement {
  const b = x(ui.button, { appearance: 'secondary', class: 'more', id: `more-${kind}` }, `Show ${Math.min(page, count - loaded).toLocaleString()} more (${loaded.toLocaleString()} of ${count.toLocaleString()} shown)`);
  b.addEventListener('click', () => {
    if (asked[kind] === loaded) return;
    asked[kind] = loaded;
    vscode.postMessage({ type: kind === 'connections' ? 'getConnections' : 'getFindings', from: loaded });
  });
  return b;
}

function renderConnections(): void {
  if (!connections.length) { connList.replaceChildren(h('p', { class: 'muted' }, done ? 'No MPTCP connection in this capture.' : 'Reading…')); return; }
  connList.replaceChildren(...connections.map(connectionCard));
  if (connections.length < connectionCount) connList.append(moreButton('connections', connections.length, connectionCount, CONNECTION_PAGE));
}

function connectionCard(c: ConnectionInfo): HTMLElement {
  const card = h('div', { class: 'conn', role: 'button', tabindex: '0', 'data-connection': String(c.id), title: 'Show only this connection' });
  const n = c.findings;
  card.append(
    h('div', { class: 'conn-title' }, `Connection ${c.id} · ${c.version === null ? 'version ?' : `v${c.version}`}${c.partial ? ' · partial' : ''}`,
      n.error ? h('span', { class: 'sev sev-error' }, ` ✖ ${n.error}`) : '', n.warning ? h('span', { class: 'sev sev-warning' }, ` ▲ ${n.warning}`) : ''),
    h('div', { class: 'kv' }, `client ${c.client.address ?? '?'}  key ${c.client.key ?? '?'}  token ${c.client.token ?? '?'}`),
    h('div', { class: 'kv' }, `server ${c.server.address ?? '?'}  key ${c.server.key ?? '?'}  token ${c.server.token ?? '?'}`),
    ...c.subflows.map((s) => h('div', { class: 'subflow', 'data-subflow': String(s.tcpStream) }, `sf ${s.tcpStream} ${s.kind} ${s.client} → ${s.server}${s.backup ? ' backup' : ''} · ${s.packets} pkts · ${s.bytes.toLocaleString()} B${s.rtt ? ` · RTT ${s.rtt.meanMs} ms` : ''}`)),
    h('div', { class: 'kv stats' }, statsText(c)),
    h('div', { class: 'kv muted' }, c.ended),
  );
  const copy = x(ui.button, { appearance: 'icon', title: 'Copy keys', 'aria-label': `Copy the keys of connection ${c.id}` }, '⧉');
  copy.addEventListener('click', (e) => { e.stopPropagation(); vscode.postMessage({ type: 'copyKeys', connection: c.id }); });
  card.querySelector('.conn-title')!.append(copy);
  const choose = (e: Event) => {
    const sf = (e.target as HTMLElement).closest('.subflow') as HTMLElement | null;
    state.filter = { ...readFilters(), connection: c.id };
    if (sf) state.filter.subflow = Number(sf.dataset.subflow); else delete state.filter.subflow;
    fillConnectionFilters();
    applyFilter(state.filter);
  };
  card.addEventListener('click', choose);
  card.addEventListener('keydown', (e) => { if (e.key === 'Enter') choose(e); });
  return card;
}

function addFindings(more: Finding[]): void {
  for (const f of more) {
    findings.push(f);
    const at = findingsByFrame.get(f.frame);
    if (at) at.push(f); else findingsByFrame.set(f.frame, [f]);
  }
}

function statsText(c: ConnectionInfo): string {
  const st = c.stats;
  const gp = (x: ConnectionInfo['stats']['clientToServer']) => (x.goodputBytesPerSecond !== null ? `${((x.goodputBytesPerSecond * 8) / 1e6).toFixed(2)} Mbit/s` : '?');
  return `${st.packets.toLocaleString()} pkts, ${st.duration.toFixed(3)} s · goodput → ${gp(st.clientToServer)}, ← ${gp(st.serverToClient)} · reinjected ${st.reinjectedBytes.toLocaleString()} B · out of order ${st.clientToServer.outOfOrderSegments + st.serverToClient.outOfOrderSegments} · dup Data ACKs ${st.clientToServer.duplicateDataAcks + st.serverToClient.duplicateDataAcks}`;
}

function renderFindings(): void {
  if (!findings.length) { findingList.replaceChildren(h('p', { class: 'muted' }, done ? 'No findings.' : 'Reading…')); return; }
  findingList.replaceChildren(...findings.map(findingItem));
  if (findings.length < findingCount) findingList.append(moreButton('findings', findings.length, findingCount, FINDING_PAGE));
}

function findingItem(f: Finding): HTMLElement {
  const item = h('div', { class: `finding sev-${f.severity}`, role: 'listitem', tabindex: '0', 'data-frame': String(f.frame), 'data-rule': f.rule },
    h('span', { class: `sev sev-${f.severity}` }, f.severity === 'error' ? '✖' : f.severity === 'warning' ? '▲' : 'ℹ'),
    h('span', { class: 'f-frame' }, ` frame ${f.frame} `), h('span', { class: 'f-rule' }, f.rule), h('div', { class: 'f-msg' }, f.message),
    h('a', { href: f.rfc.url, class: 'rfc' }, `${f.rfc.doc} §${f.rfc.section}`));
  const go = (e: Event) => { if ((e.target as HTMLElement).tagName !== 'A') void reveal(f.frame); };
  item.addEventListener('click', go);
  item.addEventListener('keydown', (e) => { if (e.key === 'Enter') go(e); });
  return item;
}

async function reveal(frame: number): Promise<void> {
  let pos = await locate(frame);
  if (pos < 0) {
    // not in the filtered list: drop the filter
    state.filter = {};
    fillStaticFilters();
    applyFilter({});
    await new Promise((r) => setTimeout(r, 0));
    pos = await locate(frame);
  }
  if (pos >= 0) { list.focus(); select(pos); }
}

function locate(frame: number): Promise<number> {
  const requestId = requestSeq++;
  return new Promise((resolve) => {
    locateWaiters.set(requestId, resolve);
    vscode.postMessage({ type: 'locate', requestId, frame });
  });
}

// ---------- messages ----------
window.addEventListener('message', (e: MessageEvent<HostMessage>) => {
  const m = e.data;
  switch (m.type) {
    case 'init':
      done = m.state !== 'loading';
      progress.hidden = done;
      banner.hidden = true;
      document.title = m.file;
      break;
    case 'progress': {
      const pct = m.totalBytes ? Math.floor((m.bytesRead / m.totalBytes) * 100) : 0;
      (progress.firstChild as HTMLElement).style.width = `${pct}%`;
      progress.setAttribute('aria-valuenow', String(pct));
      break;
    }
    case 'count':
      if (m.filterId !== filterId) { filterId = m.filterId; cache.clear(); pending.clear(); }
      if (m.rows) { // the first page, sent along when the page starts
        m.rows.forEach((r, i) => cache.set(i, r));
        markFirstRows();
      }
      total = m.total;
      done = m.done;
      progress.hidden = done;
      render();
      break;
    case 'rows': {
      if (m.filterId !== filterId) break;
      markFirstRows();
      pending.delete(m.start);
      m.rows.forEach((r, i) => cache.set(m.start + i, r));
      if (pendingSelect >= m.start && pendingSelect < m.start + m.rows.length) {
        const r = cache.get(pendingSelect)!;
        pendingSelect = -1;
        chooseFrame(r.frame);
      }
      render();
      break;
    }
    case 'summary':
      connections = m.connections;
      connectionCount = m.connectionCount;
      findings = [];
      findingsByFrame = new Map();
      addFindings(m.findings);
      findingCount = m.findingCount;
      severities = m.severities;
      asked = { connections: -1, findings: -1 };
      // the count before it says whether all is through (a filter may still be going on)
      progress.hidden = done;
      fillConnectionFilters();
      fillVizConnections();
      renderConnections();
      renderFindings();
      if (state.tab === 'tab-diagrams') { drawn = -1; requestViz(); }
      if (m.problems.length) {
        banner.hidden = false;
        banner.className = 'banner warn';
        banner.textContent = m.problems.map((p) => `${p.message} (byte offset ${p.offset}); packets before it were read.`).join(' ');
      }
      render();
      break;
    case 'connections': {
      if (m.from !== connections.length) break; // a page already taken (or of an earlier summary)
      const wasOnMore = document.activeElement?.id === 'more-connections';
      connections = connections.concat(m.connections);
      fillConnectionFilters();
      fillVizConnections();
      renderConnections();
      // the keyboard goes on from the first of the new ones, not from the top of the page
      if (wasOnMore) (connList.children[m.from] as HTMLElement | undefined)?.focus();
      break;
    }
    case 'findings': {
      if (m.from !== findings.length) break;
      const wasOnMore = document.activeElement?.id === 'more-findings';
      addFindings(m.findings);
      renderFindings();
      render();
      if (wasOnMore) (findingList.children[m.from] as HTMLElement | undefined)?.focus();
      break;
    }
    case 'details':
      if (m.requestId === detailsRequest) renderDetails(m.tree, m.bytes);
      break;
    case 'viz': {
      if (m.requestId !== vizRequest) break;
      drawn = m.connection;
      const pick = (frame: number) => void reveal(frame);
      ladderBox.replaceChildren(renderLadder(m.ladder, pick));
      timelineBox.replaceChildren(renderTimeline(m.timeline, pick));
      plot?.destroy();
      plotBox.replaceChildren();
      plot = renderPlot(m.plot, plotBox) as unknown as { destroy(): void; ctx: CanvasRenderingContext2D };
      (window as unknown as { __plot?: unknown }).__plot = plot;
      break;
    }
    case 'located':
      locateWaiters.get(m.requestId)?.(m.position);
      locateWaiters.delete(m.requestId);
      break;
    case 'reveal':
      void reveal(m.frame);
      break;
    case 'error': {
      progress.hidden = true;
      banner.hidden = false;
      banner.className = 'banner error';
      banner.replaceChildren(h('strong', {}, 'This capture could not be read. '), document.createTextNode(m.message));
      if (m.retry) {
        const b = x(ui.button, { id: 'retry' }, 'Retry');
        b.addEventListener('click', () => vscode.postMessage({ type: 'retry' }));
        banner.append(' ', b);
      }
      break;
    }
    default:
      break;
  }
});

fillStaticFilters();
timeToggle.textContent = `Time: ${state.timeMode}`;
renderConnections();
renderFindings();
performance.mark('mptcp-lens:ready'); // for npm run bench:vscode: when the page is built and asks for its state
vscode.postMessage({ type: 'ready' });
// restore the filter and the selection the user had
if (Object.keys(state.filter).length) vscode.postMessage({ type: 'setFilter', filter: state.filter });
requestAnimationFrame(() => {
  list.scrollTop = state.scrollTop;
  if (state.selected) {
    detailsRequest = requestSeq++;
    vscode.postMessage({ type: 'getDetails', requestId: detailsRequest, frame: state.selected });
  }
});

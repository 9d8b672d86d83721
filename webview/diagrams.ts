/**
 * The Diagrams tab: a ladder (sequence diagram) of the MPTCP signalling, a subflow timeline (both
 * SVG, tied to their packets: click selects the packet), and the data-sequence plot (uPlot on a
 * canvas, made for large series: zoom by dragging, wheel to zoom, double-click to reset).
 * Exports: SVG for the ladder and timeline, PNG for the plot. Labels are set as text only.
 */
import uPlot from 'uplot';
import type { Ladder, Timeline } from '../src/viz/model.ts';
import type { DsnPlot } from '../src/viz/series.ts';

const NS = 'http://www.w3.org/2000/svg';

function svgEl<K extends keyof SVGElementTagNameMap>(tag: K, attrs: Record<string, string | number>, text?: string): SVGElementTagNameMap[K] {
  const el = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  if (text !== undefined) el.textContent = text;
  return el;
}

/** A theme colour from VS Code's variables, resolved now (for canvas drawing and for exports). */
export function themeColor(name: string, fallback: string): string {
  return getComputedStyle(document.body).getPropertyValue(name).trim() || fallback;
}

export const PALETTE = ['--vscode-charts-blue', '--vscode-charts-orange', '--vscode-charts-green', '--vscode-charts-purple', '--vscode-charts-yellow', '--vscode-charts-red'];
const FALLBACK = ['#3794ff', '#d18616', '#89d185', '#b180d7', '#cca700', '#f14c4c'];
export const seriesColor = (i: number) => themeColor(PALETTE[i % PALETTE.length], FALLBACK[i % FALLBACK.length]);

export function renderLadder(l: Ladder, onSelect: (frame: number) => void): SVGSVGElement {
  const COL = 260;
  const ROW = 34;
  const TOP = 40;
  const width = Math.max(2, l.lifelines.length) * COL;
  const height = TOP + (l.arrows.length + 1) * ROW;
  const svg = svgEl('svg', { class: 'ladder', width, height, viewBox: `0 0 ${width} ${height}`, role: 'img', 'aria-label': `Ladder diagram of connection ${l.connection}` });
  svg.append(svgEl('title', {}, `MPTCP connection ${l.connection} signalling`));
  const x = new Map(l.lifelines.map((ln, i) => [ln.id, COL / 2 + i * COL]));
  const defs = svgEl('defs', {});
  for (const sev of ['normal', 'error', 'warning']) {
    const m = svgEl('marker', { id: `arrow-${sev}`, viewBox: '0 0 10 10', refX: 9, refY: 5, markerWidth: 7, markerHeight: 7, orient: 'auto-start-reverse' });
    m.append(svgEl('path', { d: 'M0,0 L10,5 L0,10 z', class: `head ${sev}` }));
    defs.append(m);
  }
  svg.append(defs);
  for (const ln of l.lifelines) {
    const cx = x.get(ln.id)!;
    svg.append(svgEl('text', { x: cx, y: 18, class: 'lifeline-label', 'text-anchor': 'middle' }, ln.label));
    svg.append(svgEl('line', { x1: cx, y1: 26, x2: cx, y2: height - 6, class: 'lifeline' }));
  }
  l.arrows.forEach((a, i) => {
    const y = TOP + i * ROW + 18;
    const x1 = x.get(a.from)!;
    const x2 = x.get(a.to)!;
    const sev = a.severity === 'error' ? 'error' : a.severity === 'warning' ? 'warning' : 'normal';
    const g = svgEl('g', { class: `arrow ${sev}`, 'data-frame': a.frame, tabindex: 0, role: 'button', 'aria-label': `frame ${a.frame}: ${a.label}` });
    g.append(svgEl('title', {}, `frame ${a.frame}, ${a.time.toFixed(6)} s, subflow ${a.subflow}: ${a.label} ${a.detail}${a.finding ? `\n${a.finding}` : ''}`));
    g.append(svgEl('line', { x1, y1: y, x2: x2 + (x2 > x1 ? -2 : 2), y2: y, 'marker-end': `url(#arrow-${sev})` }));
    const mid = (x1 + x2) / 2;
    g.append(svgEl('text', { x: mid, y: y - 5, 'text-anchor': 'middle', class: 'arrow-label' }, `${a.frame}  ${a.label}`));
    g.append(svgEl('text', { x: mid, y: y + 12, 'text-anchor': 'middle', class: 'arrow-detail' }, a.finding ? a.finding.split('\n')[0].slice(0, 90) : a.detail));
    g.addEventListener('click', () => onSelect(a.frame));
    g.addEventListener('keydown', (e) => { if ((e as KeyboardEvent).key === 'Enter') onSelect(a.frame); });
    svg.append(g);
  });
  return svg;
}

export function renderTimeline(t: Timeline, onSelect: (frame: number) => void): SVGSVGElement {
  const LEFT = 330, RIGHT = 110, ROW = 28, TOP = 24;
  const width = 1000;
  const height = TOP + t.bars.length * ROW + 24;
  const span = Math.max(t.duration, 1e-6);
  const sx = (v: number) => LEFT + (v / span) * (width - LEFT - RIGHT);
  const svg = svgEl('svg', { class: 'timeline', width, height, viewBox: `0 0 ${width} ${height}`, role: 'img', 'aria-label': `Subflow timeline of connection ${t.connection}` });
  svg.append(svgEl('title', {}, `Subflows of MPTCP connection ${t.connection}`));
  svg.append(svgEl('text', { x: LEFT, y: 14, class: 'axis' }, '0 s'));
  svg.append(svgEl('text', { x: width - RIGHT, y: 14, class: 'axis', 'text-anchor': 'end' }, `${t.duration.toFixed(3)} s`));
  t.bars.forEach((b, i) => {
    const y = TOP + i * ROW;
    const g = svgEl('g', { class: 'bar', 'data-subflow': b.subflow });
    g.append(svgEl('text', { x: 4, y: y + 16, class: 'bar-label' }, b.label));
    g.append(svgEl('rect', { x: sx(b.start), y: y + 4, width: Math.max(2, sx(b.end) - sx(b.start)), height: ROW - 10, class: 'bar-body' }));
    for (const [s, e] of b.backup) g.append(svgEl('rect', { x: sx(s), y: y + 4, width: Math.max(2, sx(e) - sx(s)), height: ROW - 10, class: 'bar-backup' }, undefined));
    for (const ev of b.events) {
      const m = svgEl('g', { class: 'event', 'data-frame': ev.frame, tabindex: 0, role: 'button', 'aria-label': `frame ${ev.frame}: ${ev.label}` });
      m.append(svgEl('title', {}, `frame ${ev.frame}, ${ev.time.toFixed(6)} s: ${ev.label}`));
      m.append(svgEl('line', { x1: sx(ev.time), y1: y + 1, x2: sx(ev.time), y2: y + ROW - 3 }));
      m.addEventListener('click', () => onSelect(ev.frame));
      g.append(m);
    }
    g.append(svgEl('text', { x: width - 4, y: y + 16, class: 'bar-bytes', 'text-anchor': 'end' }, `${b.bytes.toLocaleString()} B`));
    svg.append(g);
  });
  return svg;
}

/** The DSN plot; returns the uPlot instance (its canvas is what the PNG export saves). */
export function renderPlot(p: DsnPlot, el: HTMLElement): uPlot {
  const series = [...p.subflows, p.reinjections, p.dataAck];
  const fg = themeColor('--vscode-foreground', '#ccc');
  const grid = themeColor('--vscode-panel-border', '#80808059');
  const opts: uPlot.Options = {
    mode: 2,
    width: Math.max(400, el.clientWidth || 900),
    height: 320,
    title: `Data sequence numbers, ${p.direction}`,
    scales: { x: { time: false }, y: {} },
    axes: [
      { label: 'seconds since the first packet', stroke: fg, grid: { stroke: grid } },
      { label: 'relative DSN', stroke: fg, grid: { stroke: grid }, size: 80 },
    ],
    legend: { show: true },
    cursor: { drag: { x: true, y: true, uni: 20 } },
    series: [
      {},
      ...series.map((s, i) => {
        const isAck = s === p.dataAck;
        const isRe = s === p.reinjections;
        const color = isAck ? themeColor('--vscode-charts-foreground', fg) : isRe ? themeColor('--vscode-charts-red', '#f14c4c') : seriesColor(i);
        return isAck
          ? { label: s.label, stroke: color, width: 1.5, points: { show: false } } as uPlot.Series
          : { label: s.label, stroke: color, fill: color, paths: uPlot.paths.points!(), points: { show: true, size: isRe ? 9 : 4, fill: color, stroke: color }, width: 0 } as uPlot.Series;
      }),
    ],
    hooks: {
      ready: [(u) => {
        // keyboard: arrows pan, + and - zoom, 0 resets (the plot is focusable)
        u.over.tabIndex = 0;
        u.over.setAttribute('aria-label', 'Data sequence plot: arrows pan, + and - zoom, 0 resets, drag to zoom, double-click resets');
        u.over.addEventListener('keydown', (e) => {
          const { min, max } = u.scales.x;
          if (min === undefined || max === undefined) return;
          const w = max - min;
          const k = (e as KeyboardEvent).key;
          if (k === 'ArrowLeft' || k === 'ArrowRight') u.setScale('x', { min: min + (k === 'ArrowLeft' ? -0.2 : 0.2) * w, max: max + (k === 'ArrowLeft' ? -0.2 : 0.2) * w });
          else if (k === '+' || k === '=') u.setScale('x', { min: min + w * 0.2, max: max - w * 0.2 });
          else if (k === '-') u.setScale('x', { min: min - w * 0.25, max: max + w * 0.25 });
          else if (k === '0') u.setData(u.data, true);
          else return;
          e.preventDefault();
        });
        // wheel zooms the x scale around the cursor
        u.over.addEventListener('wheel', (e) => {
          e.preventDefault();
          const { min, max } = u.scales.x;
          if (min === undefined || max === undefined) return;
          const at = u.posToVal(e.offsetX, 'x');
          const k = e.deltaY < 0 ? 0.8 : 1.25;
          u.setScale('x', { min: at - (at - min) * k, max: at + (max - at) * k });
        }, { passive: false });
      }],
    },
  };
  const data = [null, ...series.map((s) => [s.xs, s.ys])] as unknown as uPlot.AlignedData;
  return new uPlot(opts, data, el);
}

/** An SVG with its theme colours written into it, so that it looks the same outside VS Code. */
export function standaloneSvg(svg: SVGSVGElement): string {
  const clone = svg.cloneNode(true) as SVGSVGElement;
  const src = svg.querySelectorAll('*');
  const dst = clone.querySelectorAll('*');
  src.forEach((el, i) => {
    const cs = getComputedStyle(el);
    const d = dst[i] as SVGElement;
    for (const p of ['fill', 'stroke', 'stroke-width', 'stroke-dasharray', 'font-family', 'font-size', 'opacity']) {
      const v = cs.getPropertyValue(p);
      if (v) d.style.setProperty(p, v);
    }
  });
  clone.setAttribute('xmlns', NS);
  clone.style.setProperty('background', themeColor('--vscode-editor-background', '#fff'));
  return new XMLSerializer().serializeToString(clone);
}

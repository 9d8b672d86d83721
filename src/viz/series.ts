/** The data-sequence plot's series, from the packet index: DSN against time per subflow, reinjections, the Data ACK. */
import type { PacketIndex } from '../viewer/index.ts';

export interface Series { label: string; subflow?: number; xs: number[]; ys: number[] }

export interface DsnPlot {
  connection: number;
  /** which way the plotted data flows */
  direction: 'client → server' | 'server → client';
  subflows: Series[];
  reinjections: Series;
  dataAck: Series;
  /** points the plot holds before thinning */
  points: number;
}

/** Keeps at most `max` points: the first, the last and evenly spaced ones between. */
function thin(s: Series, max: number): Series {
  if (s.xs.length <= max) return s;
  const step = s.xs.length / max;
  const xs: number[] = [];
  const ys: number[] = [];
  for (let i = 0; i < max; i++) { const k = Math.floor(i * step); xs.push(s.xs[k]); ys.push(s.ys[k]); }
  xs.push(s.xs[s.xs.length - 1]);
  ys.push(s.ys[s.ys.length - 1]);
  return { ...s, xs, ys };
}

export function dsnPlot(index: PacketIndex, connection: number, maxPerSeries = 20000): DsnPlot {
  const c = index.cols;
  const t0 = index.count ? c.tsSec[0] + c.tsNsec[0] / 1e9 : 0;
  // the direction that carried more data
  const bytes = [0, 0];
  for (let i = 0; i < index.count; i++) if (c.conn[i] === connection && c.side[i] >= 0 && c.payload[i] > 0) bytes[c.side[i]] += c.payload[i];
  const sender = bytes[1] > bytes[0] ? 1 : 0;
  const bySubflow = new Map<number, Series>();
  const re: Series = { label: 'reinjections', xs: [], ys: [] };
  const ack: Series = { label: 'Data ACK', xs: [], ys: [] };
  let points = 0;
  for (let i = 0; i < index.count; i++) {
    if (c.conn[i] !== connection) continue;
    const t = c.tsSec[i] + c.tsNsec[i] / 1e9 - t0;
    if (c.side[i] === sender && c.payload[i] > 0 && !Number.isNaN(c.relDsn[i])) {
      const sf = c.stream[i];
      let s = bySubflow.get(sf);
      if (!s) { s = { label: `subflow ${sf}`, subflow: sf, xs: [], ys: [] }; bySubflow.set(sf, s); }
      s.xs.push(t);
      s.ys.push(c.relDsn[i]);
      points++;
      if (c.reinjOf[i]) { re.xs.push(t); re.ys.push(c.relDsn[i]); }
    } else if (c.side[i] === 1 - sender && !Number.isNaN(c.relAck[i])) {
      ack.xs.push(t);
      ack.ys.push(c.relAck[i]);
      points++;
    }
  }
  return {
    connection,
    direction: sender === 0 ? 'client → server' : 'server → client',
    subflows: [...bySubflow.values()].sort((a, b) => a.subflow! - b.subflow!).map((s) => thin(s, maxPerSeries)),
    reinjections: thin(re, maxPerSeries),
    dataAck: thin(ack, maxPerSeries),
    points,
  };
}

/** The data-sequence plot's series, from the packet index: DSN against time per subflow, reinjections, the Data ACK. */
import type { PagedIndex } from '../viewer/index.ts';

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

/**
 * A series being collected that keeps at most `max` of its `total` points: the first, the last and
 * evenly spaced ones between, so a plot of millions of packets holds only what it draws.
 */
class Thinned {
  readonly xs: number[] = [];
  readonly ys: number[] = [];
  private seen = 0;
  private kept = 0;
  private next = 0;
  private readonly step: number;
  constructor(readonly label: string, readonly subflow: number | undefined, private readonly total: number, private readonly max: number) {
    this.step = total > max ? total / max : 1;
  }
  push(x: number, y: number): void {
    const k = this.seen++;
    if (k === this.next && this.kept < this.max) {
      this.xs.push(x);
      this.ys.push(y);
      this.kept++;
      this.next = Math.floor(this.kept * this.step);
    }
    // a thinned series ends on its last point as well
    if (k === this.total - 1 && this.total > this.max) { this.xs.push(x); this.ys.push(y); }
  }
  series(): Series {
    return this.subflow === undefined ? { label: this.label, xs: this.xs, ys: this.ys } : { label: this.label, subflow: this.subflow, xs: this.xs, ys: this.ys };
  }
}

export function dsnPlot(index: PagedIndex, connection: number, maxPerSeries = 20000): DsnPlot {
  const first = index.count ? index.page(0) : undefined;
  const t0 = first ? first.cols.tsSec[0] + first.cols.tsNsec[0] / 1e9 : 0;
  // first pass: the direction that carried more data, and how many points each series will have
  const bytes = [0, 0];
  const dataPoints = [new Map<number, number>(), new Map<number, number>()];
  const reinjected = [0, 0];
  const acks = [0, 0];
  index.scan(({ cols: c, n }) => {
    for (let j = 0; j < n; j++) {
      if (c.conn[j] !== connection) continue;
      const side = c.side[j];
      if (side < 0) continue;
      if (c.payload[j] > 0) bytes[side] += c.payload[j];
      if (c.payload[j] > 0 && !Number.isNaN(c.relDsn[j])) {
        const m = dataPoints[side];
        m.set(c.stream[j], (m.get(c.stream[j]) ?? 0) + 1);
        if (c.reinjOf[j]) reinjected[side]++;
      }
      if (!Number.isNaN(c.relAck[j])) acks[side]++; // a Data ACK point when this side is the receiver
    }
  });
  const sender = bytes[1] > bytes[0] ? 1 : 0;
  const bySubflow = new Map<number, Thinned>();
  for (const [sf, count] of dataPoints[sender]) bySubflow.set(sf, new Thinned(`subflow ${sf}`, sf, count, maxPerSeries));
  const re = new Thinned('reinjections', undefined, reinjected[sender], maxPerSeries);
  const ack = new Thinned('Data ACK', undefined, acks[1 - sender], maxPerSeries);
  let points = 0;
  index.scan(({ cols: c, n }) => {
    for (let j = 0; j < n; j++) {
      if (c.conn[j] !== connection) continue;
      const t = c.tsSec[j] + c.tsNsec[j] / 1e9 - t0;
      if (c.side[j] === sender && c.payload[j] > 0 && !Number.isNaN(c.relDsn[j])) {
        bySubflow.get(c.stream[j])!.push(t, c.relDsn[j]);
        points++;
        if (c.reinjOf[j]) re.push(t, c.relDsn[j]);
      } else if (c.side[j] === 1 - sender && !Number.isNaN(c.relAck[j])) {
        ack.push(t, c.relAck[j]);
        points++;
      }
    }
  });
  return {
    connection,
    direction: sender === 0 ? 'client → server' : 'server → client',
    subflows: [...bySubflow.values()].sort((a, b) => a.subflow! - b.subflow!).map((s) => s.series()),
    reinjections: re.series(),
    dataAck: ack.series(),
    points,
  };
}

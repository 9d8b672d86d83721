import { appendTight, emptyObjects } from './lists.ts';

/** A set of half-open [start, end) ranges of 64-bit sequence numbers, merged as they are added. */
export class IntervalSet {
  /** the ranges in order (read only: replaced, not only changed, as ranges are added) */
  ranges: Array<[bigint, bigint]> = emptyObjects();
  /** more ranges than this: the set stops tracking and says it overflowed */
  overflowed = false;

  constructor(private readonly maxRanges = 65536) {}

  add(start: bigint, end: bigint): void {
    if (end <= start || this.overflowed) return;
    const r = this.ranges;
    // data mostly arrives in order: it extends the last range, or follows it
    const n = r.length;
    if (n === 0) { this.ranges = appendTight(r, [start, end]); return; }
    const last = r[n - 1];
    if (start >= last[0] && start <= last[1]) { if (end > last[1]) last[1] = end; return; }
    if (start > last[1]) {
      const grown = (this.ranges = appendTight(r, [start, end]));
      if (grown.length > this.maxRanges) { this.overflowed = true; grown.length = 0; }
      return;
    }
    // first range whose end >= start
    let lo = 0, hi = r.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (r[mid][1] < start) lo = mid + 1; else hi = mid;
    }
    let i = lo;
    let s = start, e = end;
    let j = i;
    while (j < r.length && r[j][0] <= e) {
      if (r[j][0] < s) s = r[j][0];
      if (r[j][1] > e) e = r[j][1];
      j++;
    }
    r.splice(i, j - i, [s, e]);
    if (r.length > this.maxRanges) { this.overflowed = true; r.length = 0; }
  }

  /** whether [start, end) is wholly inside one range */
  covers(start: bigint, end: bigint): boolean {
    for (const [s, e] of this.ranges) if (s <= start && end <= e) return true;
    return false;
  }
}

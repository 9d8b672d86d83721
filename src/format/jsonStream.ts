/**
 * JSON written piece by piece, byte for byte as JSON.stringify(value, null, 2) would write it, so
 * that a report of tens of thousands of connections never exists whole as objects or as one string.
 * A `LazyArray` inside the value is made one element at a time as it is written.
 */

/** An array whose elements are made when written (or when JSON.stringify asks, through toJSON). */
export class LazyArray<S, T> {
  constructor(readonly source: readonly S[], readonly make: (s: S) => T) {}
  toJSON(): T[] {
    return this.source.map(this.make);
  }
}

const pad = (depth: number) => '\n' + '  '.repeat(depth);

/** Writes `value` as JSON.stringify(value, null, 2) would, through `write`, in pieces. */
export function writeJson(value: unknown, write: (s: string) => void, depth = 0): void {
  if (value instanceof LazyArray) {
    if (value.source.length === 0) { write('[]'); return; }
    write('[');
    for (let i = 0; i < value.source.length; i++) {
      write((i ? ',' : '') + pad(depth + 1));
      writeWhole(value.make(value.source[i]), write, depth + 1);
    }
    write(pad(depth) + ']');
    return;
  }
  if (!holdsLazy(value)) { writeElement(value, write, depth); return; }
  if (Array.isArray(value)) {
    if (value.length === 0) { write('[]'); return; }
    write('[');
    value.forEach((v, i) => {
      write((i ? ',' : '') + pad(depth + 1));
      writeElement(v, write, depth + 1);
    });
    write(pad(depth) + ']');
    return;
  }
  const entries = Object.entries(value as object).filter(([, v]) => v !== undefined && typeof v !== 'function' && typeof v !== 'symbol');
  if (entries.length === 0) { write('{}'); return; }
  write('{');
  entries.forEach(([k, v], i) => {
    write((i ? ',' : '') + pad(depth + 1) + JSON.stringify(k) + ': ');
    writeJson(v, write, depth + 1);
  });
  write(pad(depth) + '}');
}

/** One value as an element (in an array, undefined and functions are null, as JSON.stringify has it). */
function writeElement(v: unknown, write: (s: string) => void, depth: number): void {
  if (v instanceof LazyArray || holdsLazy(v)) { writeJson(v, write, depth); return; }
  writeWhole(v, write, depth);
}

/**
 * One value as an element, in one piece. A LazyArray's elements are written so, unsearched: they
 * are each a connection or a finding, and one made of LazyArrays is written right all the same,
 * through their toJSON (searching each of 30,000 connections' values was 1.5 % of writing them).
 */
function writeWhole(v: unknown, write: (s: string) => void, depth: number): void {
  if (depth === 0) { write(JSON.stringify(v, null, 2) ?? 'null'); return; }
  // indented `depth` levels by JSON.stringify itself, inside `depth` one-element arrays whose lines
  // are then cut off: re-indenting its text afterwards (a replace of every line break) took 40 % of
  // writing a report of 30,000 connections, the arrays' extra lines under a third of that (an element
  // alone in an array, undefined or a function is null, as above)
  let w: unknown = v;
  for (let i = 0; i < depth; i++) w = [w];
  const s = JSON.stringify(w, null, 2);
  write(s.slice(depth * depth + 3 * depth, s.length - depth * depth - depth));
}

/**
 * whether a plain object or array has a LazyArray within three levels (one deeper is still written
 * right, by JSON.stringify through its toJSON, only not in pieces)
 */
function holdsLazy(v: unknown, level = 0): boolean {
  if (v === null || typeof v !== 'object' || level > 3) return false;
  if (v instanceof LazyArray) return true;
  if (typeof (v as { toJSON?: unknown }).toJSON === 'function') return false;
  for (const x of Array.isArray(v) ? v : Object.values(v)) if (holdsLazy(x, level + 1)) return true;
  return false;
}

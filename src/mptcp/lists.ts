/** Short lists kept per stream and connection, made to take no more room than they hold. */

/** up to this many elements a list is copied to its exact size on each addition, then pushed onto */
const TIGHT = 8;

/**
 * `list` with `item` at its end: while the list is short, a new array of exactly its size; after
 * that `list` itself, pushed onto. An array pushed onto from empty makes room for 17 elements (V8's
 * first growth), and a busy capture keeps a dozen short lists per connection for its whole length:
 * about 1.3 KB a connection of spare room, which the garbage collector copies with the rest. The
 * caller stores the result in place of `list` (nothing else may hold on to a list built this way).
 */
export function appendTight<T>(list: T[], item: T): T[] {
  if (list.length >= TIGHT) { list.push(item); return list; }
  return list.concat([item]); // exact size (a copy then pushed onto would grow again)
}

/**
 * appendTight for a list of records of four numbers laid out flat (a, b, c, d, a, b, c, d, …):
 * exact size while it holds up to TIGHT records, then pushed onto. The caller stores the result.
 */
export function appendTight4(list: number[], a: number, b: number, c: number, d: number): number[] {
  if (list.length >= TIGHT * 4) { list.push(a, b, c, d); return list; }
  // the four in an array: concat(a, b, c, d) made a list of boxed numbers with holes (V8's
  // HOLEY_ELEMENTS) where this keeps one of plain numbers (PACKED_SMI_ELEMENTS, or DOUBLE)
  return list.concat([a, b, c, d]);
}

/**
 * An empty list of V8's elements kind for objects (PACKED_ELEMENTS), the kind of every list with
 * an object in it. `[]` is a list of small integers to V8 (PACKED_SMI_ELEMENTS), another hidden
 * class: a hot site that has seen lists of only one kind is deoptimized when the other comes by
 * (the first packet without MPTCP options, a side's first mapping), and compiled again.
 */
export function emptyObjects<T>(): T[] {
  const list: T[] = [undefined as T];
  list.pop();
  return list;
}

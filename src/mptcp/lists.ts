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
  return list.concat(a, b, c, d);
}

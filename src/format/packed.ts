/**
 * Texts kept deflated together: the summaries of the connections one retirement lets go (a busy
 * capture's connection summary is about 2 KB of JSON, mostly the same keys; a batch of them deflates
 * to a seventh or less). Read back a text at a time; the last few batches read stay inflated, so
 * that reading the connections in order inflates each batch about once.
 */
import { deflateRawSync, inflateRawSync } from 'node:zlib';

/** batches kept inflated at once */
const INFLATED = 8;
const inflated = new Map<PackedTexts, string[]>();

export class PackedTexts {
  /** the deflated texts, one byte a character (so that the heap's budget counts them) */
  private readonly packed: string;
  readonly count: number;

  constructor(texts: readonly string[]) {
    if (texts.some((t) => t.includes('\n'))) throw new Error('PackedTexts: a text holds a line end');
    this.count = texts.length;
    this.packed = deflateRawSync(texts.join('\n')).toString('latin1');
  }

  /** bytes the batch keeps */
  get size(): number {
    return this.packed.length;
  }

  text(index: number): string {
    let texts = inflated.get(this);
    if (texts === undefined) {
      texts = inflateRawSync(Buffer.from(this.packed, 'latin1')).toString('utf8').split('\n');
      if (inflated.size >= INFLATED) inflated.delete(inflated.keys().next().value!); // the least recently read
    } else inflated.delete(this);
    inflated.set(this, texts);
    return texts[index];
  }
}

/**
 * Errors the core reports to its callers. Every failure that reaches a user is a
 * CaptureError with one line of text: what went wrong, in which file, and where.
 */
export class CaptureError extends Error {
  readonly file: string;
  readonly offset: number | undefined;
  readonly frame: number | undefined;

  constructor(file: string, reason: string, offset?: number, frame?: number) {
    const where: string[] = [];
    if (frame !== undefined) where.push(`frame ${frame}`);
    if (offset !== undefined) where.push(`byte offset ${offset}`);
    super(`${file}: ${reason}${where.length ? ` (at ${where.join(', ')})` : ''}`);
    this.name = 'CaptureError';
    this.file = file;
    this.offset = offset;
    this.frame = frame;
  }
}

/** A problem found while reading that did not stop the read (a cut record, a bad block). */
export interface ReadProblem {
  offset: number;
  /** the frame number the problem concerns, or the frame after the last good one */
  frame: number;
  message: string;
}

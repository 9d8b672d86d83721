import * as fs from 'node:fs';

/** Random access to the bytes of a capture, so that any record can be re-read by offset. */
export interface ByteSource {
  readonly name: string;
  readonly size: number;
  /** Copies up to `length` bytes at `position` into `target` at `targetOffset`; returns how many. */
  readInto(target: Buffer, targetOffset: number, length: number, position: number): number;
  close(): void;
}

export class FileSource implements ByteSource {
  readonly name: string;
  readonly size: number;
  private fd: number;

  constructor(path: string, displayName = path) {
    this.name = displayName;
    // Opened read-only: nothing the user opened is ever written.
    this.fd = fs.openSync(path, 'r');
    this.size = fs.fstatSync(this.fd).size;
  }

  readInto(target: Buffer, targetOffset: number, length: number, position: number): number {
    let done = 0;
    while (done < length) {
      const n = fs.readSync(this.fd, target, targetOffset + done, length - done, position + done);
      if (n === 0) break;
      done += n;
    }
    return done;
  }

  close(): void {
    if (this.fd >= 0) fs.closeSync(this.fd);
    this.fd = -1;
  }
}

export class BufferSource implements ByteSource {
  readonly size: number;
  constructor(readonly name: string, private readonly bytes: Uint8Array) {
    this.size = bytes.length;
  }

  readInto(target: Buffer, targetOffset: number, length: number, position: number): number {
    const end = Math.min(this.size, position + length);
    if (end <= position) return 0;
    target.set(this.bytes.subarray(position, end), targetOffset);
    return end - position;
  }

  close(): void {}
}

/**
 * A sliding window over a ByteSource: `ensure(pos, len)` makes [pos, pos+len) readable
 * in `buf` at `pos - base`, refilling in large chunks so that small records cost no syscall.
 */
export class ChunkWindow {
  buf: Buffer;
  base = 0;
  filled = 0;

  constructor(private readonly src: ByteSource, chunkSize = 4 << 20) {
    this.buf = Buffer.allocUnsafe(chunkSize);
  }

  /** Returns the number of bytes available from pos, up to len (fewer only at end of file). */
  ensure(pos: number, len: number): number {
    if (pos >= this.base && pos + len <= this.base + this.filled) return len;
    if (len > this.buf.length) this.buf = Buffer.allocUnsafe(Math.max(len, this.buf.length * 2));
    this.base = pos;
    this.filled = this.src.readInto(this.buf, 0, this.buf.length, pos);
    return Math.min(len, this.filled);
  }
}

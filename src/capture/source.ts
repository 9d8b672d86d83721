import * as fs from 'node:fs';
import { CaptureError } from '../errors.ts';

/** A read that failed (a disk's EIO, a network file system gone): one line naming the input and where. */
function readError(name: string, err: unknown, position: number): CaptureError {
  return new CaptureError(name, `read error (${((err as Error)?.message ?? String(err)).split('\n')[0]})`, position);
}

/**
 * Opens a scratch file of ours (made empty by createTempFile) for writing, without truncating it at
 * open: ext4 takes a file truncated that way for one being replaced and, when it is closed, starts
 * writing all its data to disk (auto_da_alloc) — 44 ms and 83 MB of disk writes for the index of a
 * 1.1 M-packet capture, which is read back from the page cache and removed unread by the disk.
 * A file with data already (not made by us) is emptied first; one missing is made.
 */
export function openScratchFile(file: string): number {
  const fd = fs.openSync(file, fs.constants.O_WRONLY | fs.constants.O_CREAT, 0o600);
  try {
    if (fs.fstatSync(fd).size > 0) fs.ftruncateSync(fd, 0);
  } catch (err) {
    fs.closeSync(fd);
    throw err;
  }
  return fd;
}

/** Random access to the bytes of a capture, so that any record can be re-read by offset. */
export interface ByteSource {
  readonly name: string;
  /** bytes in all; Infinity for a stream, whose end is where reading returns nothing */
  readonly size: number;
  /** read forward only, each byte once (a pipe): ChunkWindow then keeps what it has not used yet */
  readonly sequential?: boolean;
  /** Copies up to `length` bytes at `position` into `target` at `targetOffset`; returns how many. */
  readInto(target: Buffer, targetOffset: number, length: number, position: number): number;
  /** how far reading has got, when that is not the position (a compressed file: its compressed bytes) */
  progress?(): { done: number; total: number };
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
      let n: number;
      try {
        n = fs.readSync(this.fd, target, targetOffset + done, length - done, position + done);
      } catch (err) {
        throw readError(this.name, err, position + done);
      }
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

const pause = new Int32Array(new SharedArrayBuffer(4));

/**
 * A forward-only source over a file descriptor: standard input, a pipe (`dumpcap -w - |`), read
 * synchronously as the scanners read files. A read returns what the pipe holds (at least a byte,
 * or nothing at its end), so that a live capture's packets are handled as they arrive.
 */
export class DescriptorSource implements ByteSource {
  readonly size = Infinity;
  readonly sequential = true;
  /** bytes handed out so far */
  private pos = 0;
  /** bytes read ahead by peek, handed out first */
  private ahead: Buffer = Buffer.alloc(0);

  constructor(readonly name: string, private readonly fd: number, private readonly beforeRead?: () => void) {}

  /** The first `n` bytes (fewer at the end of the input), without consuming them. */
  peek(n: number): Buffer {
    while (this.ahead.length < n) {
      const b = Buffer.allocUnsafe(n - this.ahead.length);
      const got = this.read(b, 0, b.length);
      if (got === 0) break;
      this.ahead = Buffer.concat([this.ahead, b.subarray(0, got)]);
    }
    return this.ahead.subarray(0, n);
  }

  readInto(target: Buffer, targetOffset: number, length: number, position: number): number {
    if (position !== this.pos) throw new Error(`${this.name}: read at ${position}, but the input is at ${this.pos} (it reads forward only)`);
    let n: number;
    if (this.ahead.length > 0) {
      n = Math.min(length, this.ahead.length);
      this.ahead.copy(target, targetOffset, 0, n);
      this.ahead = this.ahead.subarray(n);
    } else {
      n = this.read(target, targetOffset, length);
    }
    this.pos += n;
    return n;
  }

  private read(target: Buffer, offset: number, length: number): number {
    this.beforeRead?.();
    for (;;) {
      try {
        return fs.readSync(this.fd, target, offset, length, null);
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code === 'EOF') return 0; // Windows: the writer closed the pipe
        // a descriptor left non-blocking: wait a millisecond for the writer
        if (code !== 'EAGAIN') throw readError(this.name, err, this.pos);
        Atomics.wait(pause, 0, 0, 1);
      }
    }
  }

  close(): void {}
}

/** the first read of a ChunkWindow over a file (see ChunkWindow.first) */
const FIRST_READ = 1 << 16;

/**
 * A sliding window over a ByteSource: `ensure(pos, len)` makes [pos, pos+len) readable
 * in `buf` at `pos - base`, refilling in large chunks so that small records cost no syscall.
 */
export class ChunkWindow {
  buf!: Buffer;
  /**
   * `buf`'s ArrayBuffer and where `buf` starts in it, for views of its records: a typed array's
   * `.buffer` is a call into V8's runtime, 100 instructions a record when read for each
   */
  arrayBuffer!: ArrayBufferLike;
  bufOffset = 0;
  /** `buf` as a plain Uint8Array (ScanOptions.take reads records where they lie in it) */
  bytes!: Uint8Array;
  /** `buf` as a DataView: a record header's 32-bit fields in one load each, where four bytes took four */
  view!: DataView;
  base = 0;
  filled = 0;

  constructor(private readonly src: ByteSource, chunkSize = 1 << 20) {
    this.use(Buffer.allocUnsafe(chunkSize));
  }

  private use(b: Buffer): void {
    this.buf = b;
    this.arrayBuffer = b.buffer;
    this.bufOffset = b.byteOffset;
    this.bytes = new Uint8Array(b.buffer, b.byteOffset, b.length);
    this.view = new DataView(b.buffer, b.byteOffset, b.length);
  }

  /**
   * Whether the window has not been filled yet: its first read is short (FIRST_READ), so that a
   * scan's first records already go through a refill. V8 compiles a scan loop after a few thousand
   * records; a call it had never seen made (the first refill, after a megabyte) was its cue to
   * throw that code away.
   */
  private first = true;

  /** How far a refill for `len` bytes reads: FIRST_READ (or `len`) the first time, else the whole buffer. */
  private readSize(len: number): number {
    const size = this.first ? Math.max(len, Math.min(FIRST_READ, this.buf.length)) : this.buf.length;
    this.first = false;
    return size;
  }

  /** Returns the number of bytes available from pos, up to len (fewer only at end of file). */
  ensure(pos: number, len: number): number {
    if (pos >= this.base && pos + len <= this.base + this.filled) return len;
    if (this.src.sequential) return this.ensureForward(pos, len);
    if (len > this.buf.length) this.use(Buffer.allocUnsafe(Math.max(len, this.buf.length * 2)));
    this.base = pos;
    this.filled = this.src.readInto(this.buf, 0, this.readSize(len), pos);
    return Math.min(len, this.filled);
  }

  /**
   * A forward-only source: the bytes from `pos` the window holds move to its start (they cannot be
   * read again), bytes before `pos` not yet read are skipped, and reading stops as soon as `len`
   * bytes are there — a live capture's next packet may be seconds away.
   */
  private ensureForward(pos: number, len: number): number {
    const end = this.base + this.filled;
    if (pos < this.base) throw new Error(`${this.src.name}: window moved back from ${this.base} to ${pos} over a forward-only input`);
    let keep = 0;
    if (pos < end) {
      keep = end - pos;
      this.buf.copyWithin(0, pos - this.base, this.filled);
    } else {
      // skip what lies between the window's end and pos
      for (let at = end; at < pos;) {
        const n = this.src.readInto(this.buf, 0, Math.min(this.buf.length, pos - at), at);
        if (n === 0) { this.base = at; this.filled = 0; return 0; }
        at += n;
      }
    }
    if (len > this.buf.length) {
      const bigger = Buffer.allocUnsafe(Math.max(len, this.buf.length * 2));
      this.buf.copy(bigger, 0, 0, keep);
      this.use(bigger);
    }
    this.base = pos;
    this.filled = keep;
    const room = this.readSize(len);
    while (this.filled < len) {
      const n = this.src.readInto(this.buf, this.filled, room - this.filled, pos + this.filled);
      if (n === 0) break;
      this.filled += n;
    }
    return Math.min(len, this.filled);
  }
}

import * as fs from 'node:fs';
import * as zlib from 'node:zlib';
import { CaptureError } from '../errors.ts';
import { FileSource, type ByteSource } from './source.ts';
import { cutWarning, GunzipSource, isGzip } from './gunzip.ts';

export interface OpenedCapture {
  source: ByteSource;
  gzip: boolean;
  /** a problem of the container (a gzip stream cut short): the capture inside was read as far as it goes */
  warning?: string;
  /** where the warning's problem lies: the (decompressed) capture's end */
  warningOffset: number;
  /** closes the file (and stops inflating a compressed one) */
  close(): void;
}

/** Describes a file-system error in a few words, for one-line messages. */
export function describeFsError(err: unknown): string {
  const code = (err as NodeJS.ErrnoException)?.code;
  switch (code) {
    case 'ENOENT': return 'no such file';
    case 'EACCES': case 'EPERM': return 'permission denied';
    case 'EISDIR': return 'is a directory, not a capture file';
    case 'ENOSPC': return 'no space left to decompress into';
    default: return (err as Error)?.message?.split('\n')[0] ?? String(err);
  }
}

/**
 * Whether `file` names a pipe (a FIFO, or bash's `<(command)`, which is /dev/fd/N): read once,
 * forward only, as standard input is — never seekable, so never opened for random access.
 */
export function isPipe(file: string): boolean {
  try {
    const st = fs.statSync(file);
    return st.isFIFO() || st.isSocket();
  } catch {
    return false;
  }
}

/**
 * Opens a capture. A plain one is read by offset. A gzip-compressed one (as Wireshark opens them)
 * is read as a worker thread inflates it (GunzipSource), forward only; `decompressInto` names a
 * file it is written to as well, for a caller that re-reads records by offset afterwards (the
 * viewer), which owns that file. The user's file is only ever read.
 */
export async function openCapture(file: string, opts: { decompressInto?: string } = {}): Promise<OpenedCapture> {
  let st: fs.Stats;
  try {
    st = fs.statSync(file);
  } catch (err) {
    throw new CaptureError(file, describeFsError(err));
  }
  if (st.isDirectory()) throw new CaptureError(file, 'is a directory, not a capture file');
  if (!st.isFile()) throw new CaptureError(file, 'is not a regular file');
  let head: Buffer;
  try {
    const fd = fs.openSync(file, 'r');
    head = Buffer.alloc(2);
    fs.readSync(fd, head, 0, 2, 0);
    fs.closeSync(fd);
  } catch (err) {
    throw new CaptureError(file, describeFsError(err));
  }
  if (isGzip(head)) {
    const source = new GunzipSource(file, file, opts.decompressInto);
    return {
      source, gzip: true,
      // a download cut short: what was inflated is read, as Wireshark does, and said
      get warning() { return source.cut ? cutWarning(source.inflated) : undefined; },
      get warningOffset() { return source.inflated; },
      close: () => source.close(),
    };
  }
  let source: FileSource;
  try {
    source = new FileSource(file);
  } catch (err) {
    throw new CaptureError(file, describeFsError(err));
  }
  return { source, gzip: false, warningOffset: source.size, close: () => source.close() };
}

/**
 * Inflates gzip-compressed bytes held in memory (a capture from a virtual file system); a stream
 * cut short gives what it holds and a warning.
 */
export function gunzipBytes(name: string, bytes: Uint8Array): { bytes: Buffer; warning?: string } {
  try {
    return { bytes: zlib.gunzipSync(bytes) };
  } catch (err) {
    const cut = (err as NodeJS.ErrnoException).code === 'Z_BUF_ERROR' || /unexpected end of file/i.test((err as Error).message);
    if (!cut) throw new CaptureError(name, `gzip data is damaged (${(err as Error).message})`);
    const partial = zlib.gunzipSync(bytes, { finishFlush: zlib.constants.Z_SYNC_FLUSH });
    return { bytes: partial, warning: cutWarning(partial.length) };
  }
}

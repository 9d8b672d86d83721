import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { pipeline } from 'node:stream/promises';
import * as zlib from 'node:zlib';
import { CaptureError } from '../errors.ts';
import { FileSource, type ByteSource } from './source.ts';

export interface OpenedCapture {
  source: ByteSource;
  gzip: boolean;
  /** a problem of the container (a gzip stream cut short): the capture inside was read as far as it goes */
  warning?: string;
  /** closes the file and removes any temporary decompressed copy */
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
 * Opens a capture for random access. A gzip-compressed capture (as Wireshark opens them) is
 * decompressed once into a private temporary file, so that records can be re-read by offset and
 * a capture larger than memory still works. The user's file is only ever read.
 */
export async function openCapture(file: string): Promise<OpenedCapture> {
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
  if (st.size >= 2 && head[0] === 0x1f && head[1] === 0x8b) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mptcp-lens-'));
    const tmp = path.join(dir, 'capture');
    let warning: string | undefined;
    try {
      await pipeline(fs.createReadStream(file), zlib.createGunzip(), fs.createWriteStream(tmp, { mode: 0o600 }));
    } catch (err) {
      // a download cut short: keep what decompressed, as Wireshark does
      const cut = (err as NodeJS.ErrnoException).code === 'Z_BUF_ERROR' || /unexpected end of file/i.test((err as Error).message);
      if (cut && fs.existsSync(tmp) && fs.statSync(tmp).size > 0) {
        warning = `gzip data ends early after ${fs.statSync(tmp).size} decompressed bytes (a cut download?)`;
      } else {
      fs.rmSync(dir, { recursive: true, force: true });
      const msg = (err as NodeJS.ErrnoException).code?.startsWith('Z_') || /unexpected end|incorrect header/i.test((err as Error).message)
        ? `gzip data is damaged (${(err as Error).message})` : describeFsError(err);
      throw new CaptureError(file, msg);
      }
    }
    const source = new FileSource(tmp, file);
    return { source, gzip: true, warning, close() { source.close(); fs.rmSync(dir, { recursive: true, force: true }); } };
  }
  let source: FileSource;
  try {
    source = new FileSource(file);
  } catch (err) {
    throw new CaptureError(file, describeFsError(err));
  }
  return { source, gzip: false, close: () => source.close() };
}

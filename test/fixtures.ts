import * as fs from 'node:fs';
import * as path from 'node:path';
import { SUPPORTED_FIELDS } from '../src/format/fields.ts';

export const FIXTURES = path.join(__dirname, 'fixtures');

export const fixture = (...p: string[]) => path.join(FIXTURES, ...p);

/** Every capture fixture (not the golden files or licences). */
export function captureFixtures(): string[] {
  const out: string[] = [];
  for (const dir of ['kernel', 'tcpdump', 'ptcpdump', 'fresh']) {
    for (const f of fs.readdirSync(path.join(FIXTURES, dir)).sort()) {
      if (/\.(pcap|pcapng)$/.test(f)) out.push(path.join(FIXTURES, dir, f));
    }
  }
  return out;
}

/** The fields the golden files hold: those of the issue, which tshark 4.0 knows. */
export const GOLDEN_FIELDS = SUPPORTED_FIELDS.filter((f) => !['frame.len', 'frame.cap_len', 'tcp.seq_raw', 'tcp.ack_raw', 'tcp.len', 'tcp.hdr_len'].includes(f));

export function goldenPath(capture: string): string {
  const rel = path.relative(FIXTURES, capture).replace(/[\\/]/g, '__');
  return path.join(FIXTURES, 'golden', `${rel}.tsv`);
}

/** The decoded trace document: the `mptcp-lens decode` text, line N = frame N, findings on their line. */
import { checkCapture } from '../analyze.ts';
import { decodeLine, findingsSuffix } from '../format/decode.ts';

export async function decodedTrace(input: { file: string } | { bytes: Uint8Array; name: string }, limit: number, memoryHint?: string): Promise<{ text: string; lines: number; truncated: boolean }> {
  const lines: string[] = [];
  const tb = {};
  let truncated = false;
  const r = await checkCapture(input, {}, {
    memoryHint,
    onPacket: (f, facts) => {
      if (lines.length < limit) lines.push(decodeLine(f, facts, tb));
      else truncated = true;
    },
  });
  for (const f of r.findings) {
    const i = f.frame - 1;
    if (i < lines.length) lines[i] += findingsSuffix([f]);
  }
  if (truncated) lines.push(`… ${r.scan.packets - limit} more packets not shown (setting mptcpLens.traceLineLimit)`);
  return { text: lines.join('\n') + '\n', lines: lines.length, truncated };
}

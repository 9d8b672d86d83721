/**
 * Wireshark's stream fields in the viewer's text filter: `mptcp.stream == 5`, `tcp.stream == 12`
 * (`eq` for `==`; several joined by `&&` or `and`). They are answered from the packet index, like
 * the connection and subflow lists, so any connection of a busy capture can be shown at once (those
 * lists offer the connections loaded so far, a page of 100 at a time). Any other text is text to find.
 */
export interface StreamTerms {
  /** mptcp.stream: the connection's number */
  connection?: number;
  /** tcp.stream: the subflow's (TCP stream's) number */
  subflow?: number;
  /** two terms name different numbers for one field: no packet can pass */
  contradiction: boolean;
}

const TERM = /^(mptcp|tcp)\.stream\s*(?:==|\beq\b)\s*(\d{1,9})$/i;
const JOIN = /\s*&&\s*|\s+and\s+/i;

/** The stream terms the text consists of, or undefined when it is (also) something else. */
export function streamTerms(text: string): StreamTerms | undefined {
  const parts = text.trim().split(JOIN);
  const out: StreamTerms = { contradiction: false };
  for (const part of parts) {
    const m = TERM.exec(part);
    if (!m) return undefined;
    const field = m[1].toLowerCase() === 'mptcp' ? 'connection' : 'subflow';
    const n = Number(m[2]);
    if (out[field] !== undefined && out[field] !== n) out.contradiction = true;
    out[field] = n;
  }
  return out;
}

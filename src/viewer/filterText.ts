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
  /** two terms (or a term and the lists' choice) name different numbers for one field: no packet can pass */
  contradiction: boolean;
}

const TERM = /^(mptcp|tcp)\.stream\s*(?:==|\beq\b)\s*(\d{1,9})$/i;
const JOIN = /\s*&&\s*|\s+and\s+/i;

/**
 * The stream terms the text consists of, together with the connection and subflow already chosen
 * (`chosen`: the lists'), or undefined when the text is (also) something else.
 */
export function streamTerms(text: string, chosen: { connection?: number; subflow?: number } = {}): StreamTerms | undefined {
  const parts = text.trim().split(JOIN);
  const out: StreamTerms = { contradiction: false };
  if (chosen.connection !== undefined) out.connection = chosen.connection;
  if (chosen.subflow !== undefined) out.subflow = chosen.subflow;
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

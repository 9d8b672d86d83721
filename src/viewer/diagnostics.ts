/** From findings to what a diagnostic shows, without VS Code (the extension turns it into vscode.Diagnostic). */
import type { RuleSetting } from '../check/checker.ts';
import type { Finding, Severity } from '../check/types.ts';

export interface DiagnosticData {
  /** 0-based line: frame N is line N-1 of the decoded trace */
  line: number;
  message: string;
  severity: Severity;
  code: { value: string; target: string };
  source: string;
  related: Array<{ frame: number; message: string }>;
}

export function findingToDiagnostic(f: Finding): DiagnosticData {
  return {
    line: Math.max(0, f.frame - 1),
    message: `frame ${f.frame}: ${f.message} (${f.rfc.doc} §${f.rfc.section})`,
    severity: f.severity,
    code: { value: f.rule, target: f.rfc.url },
    source: 'MPTCP Lens',
    related: [
      { frame: f.frame, message: `frame ${f.frame} in the decoded trace` },
      ...f.relatedFrames.map((fr) => ({ frame: fr, message: `related: frame ${fr}` })),
    ],
  };
}

/** Reads the `mptcpLens.rules` setting: only known levels are kept. */
export function ruleSettings(raw: unknown): Record<string, RuleSetting> {
  const out: Record<string, RuleSetting> = {};
  if (typeof raw !== 'object' || raw === null) return out;
  for (const [k, v] of Object.entries(raw)) {
    if (v === 'off' || v === 'info' || v === 'warning' || v === 'error') out[k] = v;
  }
  return out;
}

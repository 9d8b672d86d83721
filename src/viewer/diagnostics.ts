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

/**
 * VS Code's Problems panel takes at most this many diagnostics per file (its extension host keeps
 * the rest and sends the first 1,000 by severity, with "Not showing N further errors and warnings").
 */
export const MAX_DIAGNOSTICS = 1000;

/**
 * The findings to hand to the Problems panel: all when they are at most `max`; else `max - 1`, errors first, then warnings, then
 * information, each kind in capture order (as VS Code would choose them), and a line that says how
 * many are left out and where they all are. Creating a diagnostic for each of a busy capture's
 * 100,000s of findings would only fill the extension host with objects VS Code never shows.
 */
export function diagnosticFindings(findings: readonly Finding[], max = MAX_DIAGNOSTICS): { shown: Finding[]; more?: { line: number; count: number; message: string } } {
  if (findings.length <= max) return { shown: [...findings] };
  const shown: Finding[] = [];
  // max - 1 findings and the line saying how many more: VS Code would cut a 1,001st
  for (const sev of ['error', 'warning', 'info'] as const) {
    for (const f of findings) {
      if (shown.length === max - 1) break;
      if (f.severity === sev) shown.push(f);
    }
  }
  const n = findings.length - shown.length;
  const last = shown[shown.length - 1];
  return {
    shown,
    more: {
      line: Math.max(0, last.frame - 1),
      count: n,
      message: `${n.toLocaleString('en-US')} more findings are not listed here (the Problems panel takes ${max.toLocaleString('en-US')} a file): the capture viewer's Findings pane and \`mptcp-lens check\` list all ${findings.length.toLocaleString('en-US')}`,
    },
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

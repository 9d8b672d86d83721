/** Findings as compiler-style text, JSON and SARIF 2.1.0. */
import type { CheckedCapture } from '../analyze.ts';
import { RULES } from '../check/rules/index.ts';
import type { Finding, Severity } from '../check/types.ts';
import { formatRef, rfcRef } from '../rfc.ts';
import { LazyArray } from './jsonStream.ts';
import { connectionJson } from './summary.ts';

export function findingText(file: string, f: Finding): string {
  return `${file}:frame ${f.frame}: ${f.severity} ${f.rule}: ${f.message} (${formatRef(f.rfc)} ${f.rfc.url})`;
}

export function countBySeverity(findings: Finding[]): Record<Severity, number> {
  const n: Record<Severity, number> = { error: 0, warning: 0, info: 0 };
  for (const f of findings) n[f.severity]++;
  return n;
}

export function captureSummaryLine(c: CheckedCapture, shown: Finding[]): string {
  const n = countBySeverity(shown);
  const conns = c.tracker.connections.length;
  const extra = [...c.suppressed.values()].reduce((a, b) => a + b, 0);
  const problems = c.scan.problems.length ? `, ${c.scan.problems.length} read problem${c.scan.problems.length > 1 ? 's' : ''}` : '';
  return `${c.file}: ${c.scan.packets} packets, ${conns} MPTCP connection${conns === 1 ? '' : 's'}: ${n.error} error${n.error === 1 ? '' : 's'}, ${n.warning} warning${n.warning === 1 ? '' : 's'}, ${n.info} info${extra ? ` (${extra} more not listed)` : ''}${problems}`;
}

const findingJson = (f: Finding) => ({
  rule: f.rule, severity: f.severity, frame: f.frame, relatedFrames: f.relatedFrames,
  connection: f.connection ?? null, subflow: f.subflow ?? null, message: f.message, rfc: f.rfc,
});

/**
 * One capture of the JSON report. Its connections and findings are made one at a time when it is
 * written with writeJson (or all at once by JSON.stringify).
 */
export function captureJson(capture: CheckedCapture, findings: Finding[]) {
  return {
    file: capture.file,
    packets: capture.scan.packets,
    problems: capture.scan.problems,
    connections: new LazyArray(capture.tracker.connections, connectionJson),
    findings: new LazyArray(findings, findingJson),
    suppressed: Object.fromEntries(capture.suppressed),
  };
}

export function reportJson(captures: Array<{ capture: CheckedCapture; findings: Finding[] }>) {
  return { captures: captures.map(({ capture, findings }) => captureJson(capture, findings)) };
}

const sarifLevel: Record<Severity, string> = { error: 'error', warning: 'warning', info: 'note' };

/** SARIF 2.1.0, with each rule's help URI pointing at its RFC section. */
export function reportSarif(captures: Array<{ file: string; findings: Finding[]; offsets?: (frame: number) => number | undefined }>, version: string) {
  const rules = RULES.map((r) => {
    const ref = rfcRef(r.meta.topic, 1);
    return {
      id: r.meta.id,
      name: r.meta.id.replace(/(^|-)([a-z])/g, (_, __, c: string) => c.toUpperCase()),
      shortDescription: { text: r.meta.description },
      helpUri: ref.url,
      help: { text: `${r.meta.description} See ${formatRef(ref)}: ${ref.url}` },
      defaultConfiguration: { level: sarifLevel[r.meta.severity] },
    };
  });
  const index = new Map(RULES.map((r, i) => [r.meta.id, i]));
  return {
    $schema: 'https://json.schemastore.org/sarif-2.1.0.json',
    version: '2.1.0',
    runs: [{
      tool: { driver: { name: 'mptcp-lens', version, informationUri: 'https://www.rfc-editor.org/rfc/rfc8684', rules } },
      artifacts: captures.map(({ file }) => ({ location: { uri: toUri(file) }, mimeType: 'application/vnd.tcpdump.pcap' })),
      results: captures.flatMap(({ file, findings, offsets }, artifactIndex) => findings.map((f) => {
        const off = offsets?.(f.frame);
        return {
          ruleId: f.rule,
          ruleIndex: index.get(f.rule) ?? -1,
          level: sarifLevel[f.severity],
          message: { text: `frame ${f.frame}: ${f.message} (${formatRef(f.rfc)})` },
          locations: [{
            physicalLocation: {
              artifactLocation: { uri: toUri(file), index: artifactIndex },
              ...(off !== undefined ? { region: { byteOffset: off } } : {}),
            },
            logicalLocations: [{ name: `frame ${f.frame}`, kind: 'element' }],
          }],
          properties: { frame: f.frame, relatedFrames: f.relatedFrames, connection: f.connection ?? null, subflow: f.subflow ?? null, rfc: f.rfc },
        };
      })),
    }],
  };
}

function toUri(file: string): string {
  return file.split(/[\\/]/).map(encodeURIComponent).join('/');
}

/** The rule catalogue as Markdown, generated from each rule's metadata. */
export function ruleCatalogueMarkdown(): string {
  const lines = ['# Rule catalogue', '', 'Generated from the rules\' metadata by `mptcp-lens rules --markdown`; do not edit by hand.', '',
    '| id | severity | what it catches | RFC 8684 | RFC 6824 |', '|---|---|---|---|---|'];
  for (const r of RULES) {
    const v1 = rfcRef(r.meta.topic, 1);
    const v0 = rfcRef(r.meta.topic, 0);
    lines.push(`| \`${r.meta.id}\` | ${r.meta.severity} | ${r.meta.description} | [§${v1.section}](${v1.url}) | ${v0.doc === 'RFC 6824' ? `[§${v0.section}](${v0.url})` : '—'} |`);
  }
  return lines.join('\n') + '\n';
}

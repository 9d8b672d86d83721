/**
 * RFC references. Every field and finding links to the section that defines it; a v0 connection
 * cites RFC 6824, a v1 connection RFC 8684 (see shared/RFC-MAP.md).
 */
export type RfcDoc = 'RFC 8684' | 'RFC 6824' | 'RFC 793' | 'RFC 9293';

export interface RfcRef {
  doc: RfcDoc;
  section: string;
  url: string;
}

export type Topic =
  | 'option' | 'capable' | 'join' | 'dss' | 'mapping' | 'dataAck' | 'dataFin' | 'prio' | 'pathManagement'
  | 'addAddr' | 'removeAddr' | 'fastclose' | 'tcprst' | 'fallback' | 'errors' | 'iana';

const SECTIONS: Record<Topic, { v1: string; v0: string | null; title: string }> = {
  option: { v1: '3', v0: '3', title: 'MPTCP Operations: An Overview' },
  capable: { v1: '3.1', v0: '3.1', title: 'Connection Initiation' },
  join: { v1: '3.2', v0: '3.2', title: 'Starting a New Subflow' },
  dss: { v1: '3.3', v0: '3.3', title: 'General MPTCP Operation' },
  mapping: { v1: '3.3.1', v0: '3.3.1', title: 'Data Sequence Mapping' },
  dataAck: { v1: '3.3.2', v0: '3.3.2', title: 'Data Acknowledgments' },
  dataFin: { v1: '3.3.3', v0: '3.3.3', title: 'Closing a Connection' },
  prio: { v1: '3.3.8', v0: '3.3.8', title: 'Subflow Policy' },
  pathManagement: { v1: '3.4', v0: '3.4', title: 'Address Knowledge Exchange (Path Management)' },
  addAddr: { v1: '3.4.1', v0: '3.4.1', title: 'Address Advertisement' },
  removeAddr: { v1: '3.4.2', v0: '3.4.2', title: 'Remove Address' },
  fastclose: { v1: '3.5', v0: '3.5', title: 'Fast Close' },
  tcprst: { v1: '3.6', v0: null, title: 'Subflow Reset' },
  fallback: { v1: '3.7', v0: '3.6', title: 'Fallback' },
  errors: { v1: '3.8', v0: '3.7', title: 'Error Handling' },
  iana: { v1: '7', v0: '8', title: 'IANA Considerations' },
};

/** The section for a topic in the document that governs `version` (0: RFC 6824, else RFC 8684). */
export function rfcRef(topic: Topic, version: number | undefined): RfcRef {
  const s = SECTIONS[topic];
  const v0 = version === 0 && s.v0 !== null;
  const doc: RfcDoc = v0 ? 'RFC 6824' : 'RFC 8684';
  const section = v0 ? (s.v0 as string) : s.v1;
  return { doc, section, url: `https://www.rfc-editor.org/rfc/${doc === 'RFC 6824' ? 'rfc6824' : 'rfc8684'}#section-${section}` };
}

export function rfcTitle(topic: Topic): string {
  return SECTIONS[topic].title;
}

export function formatRef(r: RfcRef): string {
  return `${r.doc} §${r.section}`;
}

/** One captured packet as the file stores it: where it is, how long, when, on which link. */
export interface CaptureRecord {
  /** 1-based, like Wireshark's frame.number */
  frame: number;
  /** offset of the packet bytes in the (decompressed) capture file */
  dataOffset: number;
  caplen: number;
  origlen: number;
  /** whole seconds since the epoch */
  tsSec: number;
  /** nanoseconds within the second */
  tsNsec: number;
  linkType: number;
  interfaceId: number;
}

export type CaptureFormat = 'pcap' | 'pcap-ns' | 'pcapng';

export interface CaptureInfo {
  format: CaptureFormat;
  /** byte order of the (first) section */
  bigEndian: boolean;
  gzip: boolean;
  /** link types of the interfaces, by interface id (pcap: one) */
  linkTypes: number[];
  snaplen: number;
}

/**
 * Receives each record with the bytes it carries. `data` is a view into the reader's
 * chunk and is valid only during the call; copy what must outlive it.
 */
export type RecordSink = (rec: CaptureRecord, data: Uint8Array) => void;

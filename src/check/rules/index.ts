import type { Rule } from '../types.ts';
import { capableAlgorithm } from './capable-algorithm.ts';
import { capableFallback } from './capable-fallback.ts';
import { capableKeyChanged, capableKeyMismatch } from './capable-keys.ts';
import { capableVersionMismatch } from './capable-version-mismatch.ts';
import { checksumMissing } from './checksum-missing.ts';
import { tokenCollision } from './token-collision.ts';
import { joinHmacAckRule, joinHmacSynAckRule, joinIncomplete, joinRejected, joinUnknownToken } from './join.ts';
import { addAddrEchoUnmatched, addAddrHmacLegacy, addAddrHmacRule, addAddrNotEchoed, addressIdConflict, cFlagViolated, removeAddrUnknown } from './addresses.ts';
import { dataAckRegression, dataAckUnsent, dataAfterDataFin, dssChecksumRule, infiniteMapping, mappingConflict, mpFail } from './data.ts';
import { fastcloseKey, tcprst } from './closing.ts';
import { optionLength, optionUnknown } from './options.ts';
import { captureTruncated, handshakeNotCaptured, trackingLimit } from './capture.ts';

/** Every rule, in catalogue order. */
export const RULES: readonly Rule[] = [
  capableKeyMismatch, capableKeyChanged, capableVersionMismatch, capableAlgorithm, capableFallback, tokenCollision,
  checksumMissing, joinUnknownToken, joinHmacSynAckRule, joinHmacAckRule, joinIncomplete, joinRejected,
  addressIdConflict, cFlagViolated, dssChecksumRule, mappingConflict, dataAckRegression, dataAckUnsent,
  dataAfterDataFin, infiniteMapping, addAddrHmacRule, addAddrHmacLegacy, addAddrNotEchoed, addAddrEchoUnmatched,
  removeAddrUnknown, fastcloseKey, mpFail, tcprst, optionLength, optionUnknown, handshakeNotCaptured, captureTruncated,
  trackingLimit,
];

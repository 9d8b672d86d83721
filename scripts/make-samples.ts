// Writes samples/key-mismatch.pcap: the real kernel capture test/fixtures/kernel/basic.pcap with one
// bit of the server key that the client echoes in its third ACK (frame 3) flipped, so that the
// checker reports capable-key-mismatch there. `npm start` and the VS Code tests open it.
//   node --import tsx scripts/make-samples.ts
import * as fs from 'node:fs';
import { optionOffset, rewriteFrame } from '../test/helpers.ts';

(async () => {
  fs.copyFileSync('test/fixtures/kernel/basic.pcap', 'samples/basic.pcap');
  const bytes = await rewriteFrame('test/fixtures/kernel/basic.pcap', 3, (b, f) => { b[optionOffset(f, b, 0) + 12 + 7] ^= 0x01; });
  fs.writeFileSync('samples/key-mismatch.pcap', bytes);
  console.log('samples/basic.pcap, samples/key-mismatch.pcap');
})();

// Writes tshark's field output for every capture fixture to test/fixtures/golden/, so that the
// differential test (test/fields.test.ts) runs without tshark. Needs tshark (Debian: tshark).
//   npm run golden
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { GOLDEN_FIELDS, captureFixtures, goldenPath } from '../test/fixtures.ts';

let version: string;
try {
  version = execFileSync('tshark', ['--version'], { encoding: 'utf8' }).split('\n')[0];
} catch {
  console.error('golden: tshark is not installed (apt-get install tshark)');
  process.exit(2);
}
const args = ['-T', 'fields', '-E', 'occurrence=a', '-E', 'aggregator=,', ...GOLDEN_FIELDS.flatMap((f) => ['-e', f])];
for (const file of captureFixtures()) {
  const out = execFileSync('tshark', ['-r', file, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], maxBuffer: 1 << 28 });
  const dest = goldenPath(file);
  fs.mkdirSync(path.dirname(dest), { recursive: true });
  fs.writeFileSync(dest, out);
  console.log(`${path.relative(process.cwd(), dest)}: ${out.split('\n').length - 1} frames`);
}
fs.writeFileSync(path.join(path.dirname(goldenPath(captureFixtures()[0])), 'TSHARK_VERSION'), version + '\n');

// Decoding alone, for the benchmark: reader, dissector and tracker over a file, no checker, no output.
import { analyzeFile } from '../src/analyze.ts';

analyzeFile(process.argv[2]).then((a) => {
  process.stderr.write(`${a.scan.packets} packets, ${a.tracker.connections.length} connections\n`);
});

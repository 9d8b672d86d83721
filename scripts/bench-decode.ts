// Decoding alone, for the benchmark: reader, dissector and tracker over a file, no checker, no output.
// Prints the packets, the connections and the time the pass took inside the process (without
// Node's start-up), so that the benchmark can give both.
import { analyzeFile } from '../src/analyze.ts';

const t0 = performance.now();
analyzeFile(process.argv[2]).then((a) => {
  const ms = performance.now() - t0;
  process.stderr.write(`${a.scan.packets} packets, ${a.tracker.connections.length} connections, ${ms.toFixed(0)} ms in process\n`);
});

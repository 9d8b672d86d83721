// The extension host's side of opening a capture, without VS Code, for the benchmark: the analysis
// child process (dist/worker.js) hands the index over through a temporary file into a session, as
// extension/captureDocument.ts does (with the same src/viewer/analysisProcess.ts). Prints when the
// first rows arrive, when the analysis is done, and the host's peak resident memory (the child's is
// not the host's).
import * as path from 'node:path';
import { createIndexFile, forkAnalysis, takeRows, type WorkerMessage, type WorkerRequest } from '../src/viewer/analysisProcess.ts';
import { CaptureSession } from '../src/viewer/session.ts';

const file = process.argv[2];
const session = new CaptureSession(() => Buffer.alloc(0));
const index = createIndexFile();
let peak = 0;
const sample = () => { peak = Math.max(peak, process.memoryUsage().rss); };
const timer = setInterval(sample, 10);
const t0 = performance.now();
let first = 0;
const child = forkAnalysis(path.join(__dirname, 'worker.js'), 'inherit');
child.on('message', (m: WorkerMessage) => {
  if (takeRows(session, m, index)) {
    if (!first) first = performance.now() - t0;
    sample();
  } else if (m.type === 'done') {
    session.finish(m.result.findings, m.result.connections, m.result.problems, m.result.diagrams);
    sample();
    clearInterval(timer);
    const done = performance.now() - t0;
    console.log(JSON.stringify({ packets: session.index.count, firstRowsMs: Math.round(first), doneMs: Math.round(done), hostPeakMiB: Math.round(peak / 2 ** 20), indexMiB: Math.round(session.index.residentBytes() / 2 ** 20), pageReads: session.index.reads }));
    child.kill();
    index.close();
  } else if (m.type === 'failed') {
    console.error(`bench-viewer: ${m.message}`);
    process.exit(2);
  }
});
child.send({ type: 'analyze', file, config: {}, indexFile: index.path } satisfies WorkerRequest);

// The extension host's side of opening a capture, without VS Code, for the benchmark: the analysis
// child process (dist/worker.js) hands the index over through a temporary file into a session, as
// extension/captureDocument.ts does. Prints when the first rows arrive, when the analysis is done,
// and the host's peak resident memory (the child's is not the host's).
import { fork } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { CaptureSession } from '../src/viewer/session.ts';
import type { WorkerMessage, WorkerRequest } from '../extension/worker.ts';

const file = process.argv[2];
const session = new CaptureSession(() => Buffer.alloc(0));
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mptcp-lens-bench-'));
const indexFile = path.join(dir, 'index');
fs.writeFileSync(indexFile, '');
const fd = fs.openSync(indexFile, 'r');
let peak = 0;
const sample = () => { peak = Math.max(peak, process.memoryUsage().rss); };
const timer = setInterval(sample, 10);
const t0 = performance.now();
let first = 0;
const child = fork(path.join(__dirname, 'worker.js'), [], { execArgv: [], serialization: 'advanced', stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
child.on('message', (m: WorkerMessage) => {
  if (m.type === 'chunkFile') {
    session.appendChunkFromFile(fd, m.position, m.n, m.expected);
    if (!first) first = performance.now() - t0;
    sample();
  } else if (m.type === 'done') {
    session.finish(m.result.findings, m.result.connections, m.result.problems, m.result.diagrams);
    sample();
    clearInterval(timer);
    const done = performance.now() - t0;
    console.log(JSON.stringify({ packets: session.index.count, firstRowsMs: Math.round(first), doneMs: Math.round(done), hostPeakMiB: Math.round(peak / 2 ** 20), indexMiB: Math.round(session.index.byteSize() / 2 ** 20) }));
    child.kill();
    fs.closeSync(fd);
    fs.rmSync(dir, { recursive: true, force: true });
  } else if (m.type === 'failed') {
    console.error(`bench-viewer: ${m.message}`);
    process.exit(2);
  }
});
child.send({ type: 'analyze', file, config: {}, indexFile } satisfies WorkerRequest);

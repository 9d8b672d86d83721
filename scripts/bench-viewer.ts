// The extension host's side of opening a capture, without VS Code, for the benchmark: the analysis
// child process (dist/worker.js) writes the index to a temporary file and the session reads its
// pages back, as extension/captureDocument.ts does (with the same src/viewer/analysisProcess.ts).
// Prints when the first rows arrive, when the analysis is done, the host's peak resident memory (the
// child's is not the host's), and then what scrolling costs once it is done: pages of 50 rows at
// random places, a filter over every row, the data-sequence plot of the first connection.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { createIndexFile, createTempFile, forkAnalysis, takeRows, type WorkerMessage, type WorkerRequest } from '../src/viewer/analysisProcess.ts';
import { CaptureSession } from '../src/viewer/session.ts';
import { isGzipFile } from '../src/capture/gunzip.ts';

const file = process.argv[2];
// a gzip-compressed capture: the analysis writes it inflated to a file the session reads, as the editor does
const captureFd = fs.openSync(file, 'r');
const inflated = isGzipFile(captureFd) ? createTempFile('capture') : undefined;
const fd = inflated?.fd ?? captureFd;
const session = new CaptureSession((offset, length) => {
  const b = Buffer.allocUnsafe(length);
  return b.subarray(0, fs.readSync(fd, b, 0, length, offset));
});
const index = createIndexFile();
let peak = 0;
const sample = () => { peak = Math.max(peak, process.memoryUsage().rss); };
const timer = setInterval(sample, 10);
const t0 = performance.now();
let first = 0;
const ms = (f: () => void) => { const t = performance.now(); f(); return performance.now() - t; };
const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * p))];

const child = forkAnalysis(path.join(__dirname, 'worker.js'), 'inherit');
child.on('message', (m: WorkerMessage) => {
  if (takeRows(session, m, index)) {
    if (!first) first = performance.now() - t0;
    sample();
  } else if (m.type === 'done') {
    session.finish(m.result.findings, m.result.connections, m.result.problems, m.result.diagrams);
    const done = performance.now() - t0;
    child.kill();
    index.unlink();
    inflated?.unlink();
    // scrolling: pages of 50 rows at random places (a fixed sequence), as the viewer asks for them
    let seed = 1;
    const rnd = () => { seed = (seed * 1103515245 + 12345) % 2 ** 31; return seed / 2 ** 31; };
    const n = session.index.count;
    const pages = Array.from({ length: 200 }, () => ms(() => session.rows(Math.floor(rnd() * Math.max(1, n - 50)), 50)));
    const filterMs = ms(() => session.setFilter({ subflow: 1 }));
    const filtered = session.total();
    session.setFilter({});
    const plotMs = ms(() => session.viz(0));
    sample();
    clearInterval(timer);
    console.log(JSON.stringify({
      packets: n, firstRowsMs: Math.round(first), doneMs: Math.round(done), hostPeakMiB: Math.round(peak / 2 ** 20),
      indexMiB: Math.round(session.index.residentBytes() / 2 ** 20), pageMedianMs: +pct(pages, 0.5).toFixed(2), pageP99Ms: +pct(pages, 0.99).toFixed(2),
      filterMs: Math.round(filterMs), filtered, plotMs: Math.round(plotMs),
    }));
    index.close();
    inflated?.close();
  } else if (m.type === 'failed') {
    console.error(`bench-viewer: ${m.message}`);
    process.exit(2);
  }
});
child.send({ type: 'analyze', file, config: {}, indexFile: index.path, decompressInto: inflated?.path } satisfies WorkerRequest);

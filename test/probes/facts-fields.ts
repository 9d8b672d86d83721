// Run by tracker.test.ts in a process of its own (node --allow-natives-syntax --import tsx): whether
// a reader optimized by V8 on a real capture's packet facts stays optimized when a field of theirs
// that never held a value of another kind gets one (multi.pcap has no reinjection and no Data ACK
// below its mark). A fresh process, as the CLI's is: the test runner's own process has made other
// objects of these kinds before, which V8 remembers. Prints one JSON line.
import { analyzeFile } from '../../src/analyze.ts';
import type { PacketFacts } from '../../src/mptcp/model.ts';
import { fixture } from '../fixtures.ts';

const prepare = new Function('f', '%PrepareFunctionForOptimization(f)') as (f: unknown) => void;
const optimizeNext = new Function('f', '%OptimizeFunctionOnNextCall(f)') as (f: unknown) => void;
const optimized = new Function('f', 'return (%GetOptimizationStatus(f) & 16) !== 0') as (f: unknown) => boolean;

void (async () => {
  const facts: PacketFacts[] = [];
  await analyzeFile(fixture('kernel', 'multi.pcap'), { onPacket: (_f, x) => { facts.push(x); } });
  const results = [];
  for (const [field, value, was] of [['reinjectionOf', 1234, undefined], ['dataAckBelow', true, false], ['side', 1, undefined], ['mappingFrame', 9, undefined]] as const) {
    const fresh = facts.filter((x) => x[field] === was);
    const read = new Function('x', `return x.${field} === ${was} ? 1 : 0;`) as (x: PacketFacts) => number;
    prepare(read);
    for (const x of fresh) read(x);
    optimizeNext(read);
    read(fresh[0]);
    const before = optimized(read);
    (fresh[1] as unknown as Record<string, unknown>)[field] = value;
    read(fresh[2]);
    results.push({ field, candidates: fresh.length, before, after: optimized(read) });
  }
  console.log(JSON.stringify(results));
})();

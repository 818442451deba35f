// Preloaded into the benchmarked daemon (NODE_OPTIONS=--import, with --expose-gc): every
// HEAP_PROBE_MS it collects garbage fully, then appends V8's retained heap and code figures to
// HEAP_PROBE_OUT as one JSON line. A retained heap that grows with polls is a leak; RSS alone
// moves with when V8 chooses to give pages back.
import { appendFileSync } from 'node:fs';
import { setInterval } from 'node:timers';
import v8 from 'node:v8';

const out = process.env.HEAP_PROBE_OUT;
const every = Number(process.env.HEAP_PROBE_MS ?? 10_000);
if (out) {
  setInterval(() => {
    globalThis.gc?.();
    const heap = v8.getHeapStatistics();
    const code = v8.getHeapCodeStatistics();
    const line = {
      at: Date.now(),
      heapUsed: heap.used_heap_size,
      heapTotal: heap.total_heap_size,
      external: heap.external_memory,
      code: code.code_and_metadata_size + code.bytecode_and_metadata_size,
      scriptSource: code.external_script_source_size,
    };
    appendFileSync(out, `${JSON.stringify(line)}\n`);
  }, every).unref();
}

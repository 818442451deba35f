// A process that writes to an embedded store until it is killed, for the crash tests: it enrolls
// `writer-1`, then records reports as fast as it can, several in flight, and prints the id of each
// event once its report has resolved (durable), one per line. Run: node --import tsx THIS DATA_DIR.
import { EmbeddedFleetStore } from '../../controller/src/store/embedded-fleet-store.js';
import { buildChange, buildFacts, buildReport } from './controller.js';

const dir = process.argv[2];
if (!dir) throw new Error('usage: embedded-store-writer.ts DATA_DIR');
const store = await EmbeddedFleetStore.open(dir);
await store.register('writer-1', buildFacts(), 'hash-writer-1', new Date());
process.stdout.write('enrolled\n');
const writer = async (): Promise<never> => {
  for (;;) {
    const event = buildChange('shop', '1.0.0', '1.1.0', 'applied');
    await store.recordReport(buildReport('writer-1', { events: [event] }), new Date());
    process.stdout.write(`${event.id}\n`);
  }
};
await Promise.all([writer(), writer(), writer(), writer()]);

// The fleet simulator's baseline: Koa with no middleware. POSTs get 204 without their body being
// parsed (the same baseline as bench/controller-reports.ts); a GET answers the JSON stored for its
// path in the file named by the first argument (the controller's own answers, copied after its
// run), serialized by Koa on each request as the controller's are.
import { readFileSync } from 'node:fs';
import Koa from 'koa';

const bodies = process.argv[2] ? JSON.parse(readFileSync(process.argv[2], 'utf8')) : {};
const app = new Koa();
app.use((ctx) => {
  if (ctx.method === 'GET' && ctx.path in bodies) ctx.body = bodies[ctx.path];
  else ctx.status = 204;
});
const server = app.listen(0, '127.0.0.1', () => process.stdout.write(`bare koa listening on http://127.0.0.1:${server.address().port}\n`));
for (const signal of ['SIGTERM', 'SIGINT']) process.once(signal, () => process.exit(0));

// Issue 16 §3: the progress of an operator's request, shared. A request handed to duck run gets
// the step records the daemon appends beside it in <state>/requests/ while it is still being
// carried out (this process plays the daemon with the queue's own functions, on real files); the
// console's POST /api/acts?follow=1 answers an id at once and GET /api/acts/:id/events streams the
// act's records and its result as server-sent events, to a late page too (real `duck console`).
import { readdir } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { answerRequest, progressAppender, requestsDir, submitRequest, takeRequests } from '../../agent/src/adapters/request-queue.js';
import type { ProgressRecord } from '../../agent/src/core/request-progress.js';
import { progressRecordOf } from '../../agent/src/core/request-progress.js';
import type { AgentNode } from '../../examples/harness/agent-node.js';
import { makeTempDir, removeTempDir } from '../../examples/harness/tmp.js';
import type { ChannelHost } from '../helpers/channel-builder.js';
import { startChannelHost } from '../helpers/channel-builder.js';
import { publishBasicChannel } from '../helpers/channel-fixtures.js';
import type { Served } from '../helpers/console.js';
import { call, login, serveConsole, sessionOf, stopConsole } from '../helpers/console.js';

/** A hang guard, not a measurement: a step that never comes fails the test instead of hanging it. */
const GUARD_MS = 30_000;

function within<T>(what: string, promise: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const guard = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: nothing after ${GUARD_MS / 1000} s`)), GUARD_MS);
  });
  return Promise.race([promise, guard]).finally(() => clearTimeout(timer));
}

const Queue = suite('a request handed to duck run: its steps as they come');

Queue('the waiting side gets each step record while the request is still unanswered, in order; the progress file goes with the answer', async () => {
  const stateDir = await makeTempDir('duck-progress-');
  try {
    const seen: ProgressRecord[] = [];
    let heard: (() => void) | null = null;
    const next = (): Promise<void> => new Promise((resolve) => (heard = resolve));
    let firstHeard = next();
    // This process is "duck run": alive, so the waiting side waits for it.
    const waiting = submitRequest(stateDir, process.pid, { kind: 'fetch' }, {
      onProgress: (r) => {
        seen.push(r);
        heard?.();
      },
    });
    const daemon = (async () => {
      let taken: Array<{ id: string }> = [];
      while (taken.length === 0) {
        taken = await takeRequests(stateDir);
        if (taken.length === 0) await sleep(20);
      }
      const id = taken[0]!.id;
      const progress = progressAppender(stateDir, id);
      const first = progressRecordOf('change', { app: 'shop', steps: ['stop', 'up'] }, new Date())!;
      progress.add(first);
      // The answer is held back until the waiting side has printed the first step: it came live.
      await within('the first step record', firstHeard);
      firstHeard = next();
      progress.add(progressRecordOf('step', { app: 'shop', step: 'stop', ms: 5 }, new Date())!);
      progress.add(progressRecordOf('step', { app: 'shop', step: 'up', ms: 7 }, new Date())!);
      progress.add(progressRecordOf('outcome', { app: 'shop', outcome: 'applied', reason: 'ok' }, new Date())!);
      await progress.flushed();
      await answerRequest(stateDir, id, { ok: true, lines: ['done'], changes: [] });
    })();
    const [result] = await within('the answer', Promise.all([waiting, daemon]));
    assert.equal(result.lines, ['done']);
    assert.equal(
      seen.map((r) => [r.event, r.fields.step ?? null]),
      [
        ['change', null],
        ['step', 'stop'],
        ['step', 'up'],
        ['outcome', null],
      ],
    );
    assert.equal(await readdir(requestsDir(stateDir)), [], 'no request, answer or progress file is left behind');
  } finally {
    await removeTempDir(stateDir);
  }
});

Queue.run();

interface Ctx {
  host: ChannelHost;
  node: AgentNode;
  served: Served;
  cookie: string;
}

const Follow = suite<Ctx>('console: an act followed by server-sent events', {} as Ctx);

Follow.before(async (ctx) => {
  ctx.host = await startChannelHost('duck-follow-');
  const fresh = await ctx.host.fresh();
  await publishBasicChannel(fresh.ch, ctx.host.rootKey);
  ctx.node = fresh.node;
  ctx.served = await serveConsole(ctx.node, '--port', '0');
  ctx.cookie = sessionOf(await login(ctx.served.origin, ctx.served.token));
});

Follow.after(async (ctx) => {
  if (ctx.served) await stopConsole(ctx.served);
  await ctx.host?.close();
});

/** The events of a server-sent-events body, in order. */
function sseEvents(text: string): Array<{ id: string | null; event: string; data: unknown }> {
  return text
    .split('\n\n')
    .filter((block) => block.trim() !== '')
    .map((block) => {
      const field = (name: string): string | null => block.split('\n').find((l) => l.startsWith(`${name}: `))?.slice(name.length + 2) ?? null;
      return { id: field('id'), event: field('event') ?? 'message', data: JSON.parse(field('data') ?? 'null') as unknown };
    });
}

Follow('POST /api/acts?follow=1 answers 202 with an id at once; its events end with one done carrying the result, to a late page too', async (ctx) => {
  const { origin } = ctx.served;
  const started = await call(origin, '/api/acts?follow=1', { method: 'POST', headers: { origin, cookie: ctx.cookie }, body: { kind: 'fetch' } });
  assert.is(started.status, 202, started.text);
  const id = String(started.body?.id);
  assert.match(id, /^[0-9a-f-]{36}$/);
  const stream = await call(origin, `/api/acts/${id}/events`, { headers: { cookie: ctx.cookie } });
  assert.is(stream.status, 200, stream.text);
  assert.match(String(stream.headers['content-type']), /^text\/event-stream/);
  const events = sseEvents(stream.text);
  assert.is(events.at(-1)!.event, 'done');
  assert.is(events.filter((e) => e.event === 'done').length, 1);
  const result = events.at(-1)!.data as { ok: boolean; data?: { channel?: { commit?: string } } };
  assert.is(result.ok, true, stream.text);
  assert.match(String(result.data?.channel?.commit), /^[0-9a-f]{40}$/, 'the result is the fetch one, as the synchronous form answers it');
  // A page that connects again after the end hears the same, from the start.
  const again = await call(origin, `/api/acts/${id}/events`, { headers: { cookie: ctx.cookie } });
  assert.equal(sseEvents(again.text), events);
});

Follow('a bad act is refused at once with the field; an unknown id is a 404; the synchronous form still answers the result', async (ctx) => {
  const { origin } = ctx.served;
  const bad = await call(origin, '/api/acts?follow=1', { method: 'POST', headers: { origin, cookie: ctx.cookie }, body: { kind: 'start' } });
  assert.is(bad.status, 400);
  assert.match(String(bad.body?.message), /app must be a non-empty string/);
  const unknown = await call(origin, '/api/acts/00000000-0000-0000-0000-000000000000/events', { headers: { cookie: ctx.cookie } });
  assert.is(unknown.status, 404);
  const sync = await call(origin, '/api/acts', { method: 'POST', headers: { origin, cookie: ctx.cookie }, body: { kind: 'fetch' } });
  assert.is(sync.status, 200, sync.text);
  assert.is(sync.body?.ok, true);
  const noSession = await call(origin, `/api/acts/anything/events`);
  assert.is(noSession.status, 401);
});

Follow.run();

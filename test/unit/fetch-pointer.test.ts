// Issue 17 §4: the fetch stage with a tip pointer — how many requests reach the git host. A fake
// transport counts the ref requests; the rules are core/pointer-policy's, applied by fetchChannel.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { DuckError, toDuckError } from '../../schemas/errors.js';
import { fetchChannel } from '../../agent/src/channel/accept-channel.js';
import { POINTER_FALLBACK_MS, POINTER_SAFETY_NET_MS } from '../../agent/src/core/pointer-policy.js';
import type { AcceptedAnchor } from '../../agent/src/core/agent-state.js';
import type { ChannelTransport, GitObjects, PointerMemory } from '../../agent/src/ports.js';

const A = 'a'.repeat(40);
const B = 'b'.repeat(40);
const LIE = 'f'.repeat(40);
const T0 = Date.parse('2026-11-23T12:00:00.000Z');
const MIN = 60_000;

interface Host {
  transport: ChannelTransport;
  /** Ref requests made. */
  asked: number;
  serverTip: string;
  pointer: string | Error;
  memory: PointerMemory;
}

function host(): Host {
  const held = new Set<string>();
  let local: string | null = null;
  const memory: PointerMemory = { gitAskedAt: T0, fallbackAt: null, spread: 1, unconfirmed: null };
  const h: Host = {
    asked: 0,
    serverTip: A,
    pointer: A,
    memory,
    transport: {
      objects: { has: async (oid: string) => held.has(oid) } as GitObjects,
      pointer: {
        url: 'https://cdn.example.test/tip',
        memory,
        read: async () => {
          if (h.pointer instanceof Error) throw new DuckError('fetch', h.pointer.message, { field: '/channel/pointer' });
          return h.pointer;
        },
      },
      localTip: async () => local,
      remoteTip: async () => {
        h.asked++;
        return h.serverTip;
      },
      fetch: async () => {
        held.add(h.serverTip);
        local = h.serverTip;
        return h.serverTip;
      },
      reset: async () => undefined,
    },
  };
  return h;
}

const anchor = (commit: string): AcceptedAnchor => ({ commit, signerFingerprint: 'F', signerName: 'root', committedAt: new Date(T0).toISOString(), acceptedAt: new Date(T0).toISOString(), channelVersion: 1 });

async function poll(h: Host, at: number, previous: AcceptedAnchor | null): Promise<{ tip?: string; error?: DuckError; pointerFailure?: boolean }> {
  try {
    const r = await fetchChannel(h.transport, previous, at);
    return { tip: r.tip, pointerFailure: r.pointerFailure !== undefined };
  } catch (err) {
    return { error: toDuckError(err) };
  }
}

test('while the pointer names the accepted commit, no poll reaches the git host', async () => {
  const h = host();
  assert.is((await poll(h, T0, null)).tip, A);
  assert.is(h.asked, 1);
  for (let i = 1; i <= 20; i++) assert.is((await poll(h, T0 + i * MIN, anchor(A))).tip, A);
  assert.is(h.asked, 1);
});

test('the pointer moved: one ref request, and the new tip', async () => {
  const h = host();
  await poll(h, T0, null);
  h.serverTip = B;
  h.pointer = B;
  assert.is((await poll(h, T0 + MIN, anchor(A))).tip, B);
  assert.is(h.asked, 2);
});

test('the safety net asks the git host once the last ask is an hour old, whatever the pointer says', async () => {
  const h = host();
  await poll(h, T0, null);
  await poll(h, T0 + POINTER_SAFETY_NET_MS - MIN, anchor(A));
  assert.is(h.asked, 1);
  await poll(h, T0 + POINTER_SAFETY_NET_MS, anchor(A));
  assert.is(h.asked, 2);
});

test('an unreadable pointer falls back to git at once, then at most every 10 min, saying when', async () => {
  const h = host();
  await poll(h, T0, null);
  h.pointer = new Error('HTTP 502');
  const first = await poll(h, T0 + MIN, anchor(A));
  assert.is(first.tip, A);
  assert.ok(first.pointerFailure, 'the pointer failure travels with the fetched tip');
  assert.is(h.asked, 2);
  const waiting = await poll(h, T0 + 2 * MIN, anchor(A));
  assert.is(waiting.error?.code, 'fetch');
  assert.is(waiting.error?.data.gitAt, new Date(T0 + MIN + POINTER_FALLBACK_MS).toISOString());
  assert.is(h.asked, 2);
  await poll(h, T0 + MIN + POINTER_FALLBACK_MS, anchor(A));
  assert.is(h.asked, 3);
});

test('a pointer naming a commit no git source has is asked about once, then bounded like a failed pointer', async () => {
  const h = host();
  await poll(h, T0, null);
  h.pointer = LIE;
  assert.is((await poll(h, T0 + MIN, anchor(A))).tip, A, 'the git host answers with its own tip');
  assert.is(h.asked, 2);
  for (let i = 2; i <= 10; i++) {
    const r = await poll(h, T0 + i * MIN, anchor(A));
    assert.match(r.error?.message ?? '', /not the tip of any git source/);
  }
  assert.is(h.asked, 2);
  await poll(h, T0 + MIN + POINTER_FALLBACK_MS, anchor(A));
  assert.is(h.asked, 3);
});

test.run();

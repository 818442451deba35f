// Issue 17 §4: the tip pointer decides whether a poll asks the git host at all; an unreadable
// pointer falls back to git, bounded; the git host is asked at least hourly whatever it says.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parsePointer, POINTER_FALLBACK_MS, POINTER_SAFETY_NET_MS, pointerVerdict, safetyNetDue } from '../../agent/src/core/pointer-policy.js';

const NOW = Date.parse('2026-11-23T12:00:00.000Z');
const ID = 'a'.repeat(40);

test('a pointer naming what the node holds asks nothing of the git host', () => {
  assert.equal(pointerVerdict({ now: NOW, named: ID, held: true, gitAskedAt: NOW - 5 * 60_000, fallbackAt: null, spread: 1 }), { ask: 'none' });
});

test('a pointer naming another commit sends the node to the git host', () => {
  assert.equal(pointerVerdict({ now: NOW, named: ID, held: false, gitAskedAt: NOW, fallbackAt: null, spread: 1 }), { ask: 'git', why: 'moved' });
});

test('the safety net: the git host is asked once the last ask is an hour old, whatever the pointer says', () => {
  assert.equal(pointerVerdict({ now: NOW, named: ID, held: true, gitAskedAt: NOW - POINTER_SAFETY_NET_MS, fallbackAt: null, spread: 1 }), { ask: 'git', why: 'safety-net' });
});

test('the safety net spreads a fleet: each process asks between half an hour and an hour after its last ask', () => {
  const asked = NOW - POINTER_SAFETY_NET_MS / 2;
  assert.is(pointerVerdict({ now: NOW, named: ID, held: true, gitAskedAt: asked, fallbackAt: null, spread: 0 }).ask, 'git');
  assert.is(pointerVerdict({ now: NOW, named: ID, held: true, gitAskedAt: asked, fallbackAt: null, spread: 0.5 }).ask, 'none');
  assert.is(safetyNetDue(0, 0.5), 0.75 * POINTER_SAFETY_NET_MS);
});

test('a failed pointer falls back to git at once, then no more often than the bound', () => {
  assert.equal(pointerVerdict({ now: NOW, named: null, held: false, gitAskedAt: NOW, fallbackAt: null, spread: 1 }), { ask: 'git', why: 'fallback' });
  assert.equal(pointerVerdict({ now: NOW, named: null, held: false, gitAskedAt: NOW, fallbackAt: NOW - 60_000, spread: 1 }), { ask: 'wait', until: NOW - 60_000 + POINTER_FALLBACK_MS });
  assert.equal(pointerVerdict({ now: NOW, named: null, held: false, gitAskedAt: NOW, fallbackAt: NOW - POINTER_FALLBACK_MS, spread: 1 }), { ask: 'git', why: 'fallback' });
});

test('a pointer file holds one commit id, SHA-1 or SHA-256, with or without a newline', () => {
  assert.is(parsePointer(`${ID}\n`), ID);
  assert.is(parsePointer(`\uFEFF${ID}\r\n`), ID);
  assert.is(parsePointer('b'.repeat(64)), 'b'.repeat(64));
  for (const bad of ['', 'main', ID.toUpperCase(), `${ID} extra`, 'a'.repeat(41), `${ID}\n${ID}\n`, '<html>']) assert.is(parsePointer(bad), null, bad);
});

test.run();

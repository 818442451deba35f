// The console's API as the pages use it. The session is an HttpOnly cookie the page never sees: a
// 401 anywhere means "log in again" (the shell shows how). Writes are POSTs from this origin: the
// server checks Origin on every one.

export class LoggedOut extends Error {
  constructor(message) {
    super(message);
    this.name = 'LoggedOut';
  }
}

export class ApiError extends Error {
  constructor(status, message, body) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.body = body;
  }
}

async function answer(res, path) {
  let body = null;
  try {
    body = await res.json();
  } catch {
    body = null;
  }
  if (res.status === 401) throw new LoggedOut(body?.message ?? 'log in first');
  if (!res.ok) throw new ApiError(res.status, body?.message ?? `${path} answered ${res.status}`, body);
  return body;
}

export async function getJson(path) {
  return answer(await fetch(path, { credentials: 'same-origin', headers: { Accept: 'application/json' } }), path);
}

export async function postJson(path, body = {}) {
  const res = await fetch(path, { method: 'POST', credentials: 'same-origin', headers: { 'Content-Type': 'application/json', Accept: 'application/json' }, body: JSON.stringify(body) });
  return answer(res, path);
}

/** Exchanges the one-time link's token for the session cookie. */
export function login(token) {
  return postJson('/api/login', { token });
}

/** What `duck status --json` says about this node. */
export function status() {
  return getJson('/api/status');
}

/**
 * Server-sent events from `path`: `onEvent(type, data)` for each event named in `types`; returns
 * a function that closes the stream. With `onError`, a cut stream is closed and `onError()` called
 * once; without it, EventSource reconnects by itself (with Last-Event-ID, so nothing repeats).
 */
export function events(path, types, onEvent, onError) {
  const source = new EventSource(path, { withCredentials: true });
  for (const type of types) source.addEventListener(type, (e) => onEvent(type, JSON.parse(e.data)));
  if (onError) {
    source.addEventListener('error', () => {
      source.close();
      onError();
    });
  }
  return () => source.close();
}

/**
 * One operator act (`{ kind: 'start', app }`, `{ kind: 'restore', backupId }`…) through the node's
 * one writer; answers `{ ok, lines, changes, error? }` as the CLI's --json does.
 */
export function act(request) {
  return postJson('/api/acts', request);
}

/** The channel's notices in force on this node, each body as safe HTML, with when it was acknowledged. */
export function announcements() {
  return getJson('/api/announcements');
}

/** Acknowledges a notice through the node's one writer; answers `{ ok, acknowledged: { id, at } }`. */
export function acknowledge(id) {
  return postJson(`/api/announcements/${encodeURIComponent(id)}/ack`);
}

/** Per installed app its containers' state and health (`{ apps: [{ app, version, containers, … }] }`). */
export function services() {
  return getJson('/api/services');
}

/**
 * An app's logs live from its last `tail` lines per container: `onLines(lines)` per batch,
 * `onEnd(reason)` once when the follow ends by itself or the stream is cut. No reconnect: a new
 * stream would start again from the tail and show its lines twice. Returns the close.
 */
export function logStream(app, tail, { onLines, onEnd }) {
  let closed = false;
  const finish = (reason) => {
    if (closed) return;
    closed = true;
    close();
    onEnd(reason);
  };
  const path = `/api/apps/${encodeURIComponent(app)}/logs/stream?tail=${tail}`;
  const close = events(path, ['lines', 'end'], (type, data) => (type === 'lines' ? onLines(data) : finish(data.reason)), () =>
    finish('the log stream was cut (the console stopped, or the session ended)'),
  );
  return () => {
    closed = true;
    close();
  };
}

/** The overlay's values (or why it is invalid), the node's zone, and agent.yaml's read-only settings. */
export function overlay() {
  return getJson('/api/overlay');
}

/** One overlay edit (`{ edit: 'pin', app, version }`, `{ edit: 'windows', windows }`…), comments kept. */
export function editOverlay(edit) {
  return postJson('/api/overlay', edit);
}

/** The backup store per app, as `duck backups` lists it. */
export function backups() {
  return getJson('/api/backups');
}

/** The node's history, newest first: `{ limit, app }` (app '' or absent: every app). */
export function history({ limit, app } = {}) {
  const query = new URLSearchParams();
  if (limit) query.set('limit', String(limit));
  if (app) query.set('app', app);
  return getJson(`/api/history?${query}`);
}

/** Builds the diagnostics bundle on the node and answers what it holds; nothing is sent. */
export function diagnosticsPreview() {
  return postJson('/api/diagnostics');
}

/** Sends the bundle the preview built (by its id) to the controller. */
export function diagnosticsUpload(id) {
  return postJson(`/api/diagnostics/${encodeURIComponent(id)}/upload`);
}

/**
 * One act followed live: answers `{ id }` at once; `/api/acts/<id>/events` then streams its step
 * records (`step`) and its result (`done`), the same records `duck upgrade` prints.
 */
export function followAct(request) {
  return postJson('/api/acts?follow=1', request);
}

/** What the upgrade confirmation shows for `app`: `{ current, target, decision, reason, notes }`. */
export function upgradeOffer(app) {
  return getJson(`/api/upgrades/${encodeURIComponent(app)}`);
}

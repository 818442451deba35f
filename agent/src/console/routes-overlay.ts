// The overlay from the console's pages (DESIGN §4.1, §4.9): what it says now, and the edits the CLI's
// `duck pin`, `hold`, `schedule` make, plus approval, windows and compose overrides. Each edit is the
// same pure edit of core/overlay-edits the CLI applies, so the operator's comments survive alike;
// the file is written only once the edited overlay passes the overlay's schema and checks.
import type { OverlayFile } from '../../../schemas/index.js';
import { DuckError, toDuckError } from '../../../schemas/errors.js';
import type { OverlayEdit } from '../core/overlay-edits.js';
import { invalidName, removeHold, removePin, removeSchedule, setCompose, setHold, setOverlayKey, setPin, setSchedule } from '../core/overlay-edits.js';
import { holdUntilProblem, scheduleAtProblem } from '../core/overlay-times.js';
import type { ConsoleRoute, RouteCall } from './routes.js';

/** What agent.yaml says that the settings page shows and does not edit: it is not the overlay. */
export interface AgentSettings {
  readonly file: string;
  readonly channel: { readonly url: string; readonly branch: string; readonly interval: string };
  readonly trustKeys: ReadonlyArray<{ readonly name: string; readonly fingerprint: string }>;
  readonly backupsDir: string;
}

export interface OverlayDeps {
  /** The overlay's path, as agent.yaml names it. */
  readonly file: string;
  /** The overlay as the agent reads it; a config error naming the field when it is invalid. */
  read(): Promise<OverlayFile>;
  /** Applies the edit keeping comments and key order; writes nothing when the result is invalid. */
  edit(edit: OverlayEdit): Promise<OverlayFile>;
  /** Refuses an app (schedule) or release (pin) the last accepted commit lacks, as the CLI does. */
  requireInChannel(target: { app: string; version?: string }, act: 'pin' | 'schedule'): Promise<void>;
  agentSettings(): Promise<AgentSettings>;
  /** The node's IANA zone: a bare hold date and windows without a zone are read in it. */
  zone(): string;
  clock(): Date;
}

/** One edit a page asks for: the document edit, what to check in the channel first, and what it did. */
export interface PageOverlayEdit {
  readonly edit: OverlayEdit;
  readonly check: { readonly target: { app: string; version?: string }; readonly act: 'pin' | 'schedule' } | null;
  readonly summary: string;
}

const EDIT_KINDS = ['pin', 'unpin', 'hold', 'unhold', 'schedule', 'unschedule', 'approval', 'windows', 'compose'] as const;

/**
 * Pure: the edit a page's JSON asks for, its fields checked as the CLI checks its flags (names,
 * times in the future). The values themselves (a window, compose files) are left to the overlay's
 * schema, which sees them in place and names their field (`/windows/0/start`).
 */
export function pageOverlayEdit(body: unknown, now: Date, zone: string): PageOverlayEdit {
  const b = (body ?? {}) as Record<string, unknown>;
  const refuse = (field: string, message: string): never => {
    throw new DuckError('usage', `${field}: ${message}`, { field });
  };
  const text = (field: string, optional = false): string | undefined => {
    const v = b[field];
    if (optional && (v === undefined || v === null || v === '')) return undefined;
    if (typeof v !== 'string' || v.trim() === '') return refuse(field, 'must be a non-empty string');
    return v;
  };
  const name = (field: 'app' | 'version'): string => {
    const v = text(field) as string;
    const bad = invalidName(field, v);
    return bad ? refuse(field, bad) : v;
  };
  const kind = b.edit;
  if (typeof kind !== 'string' || !(EDIT_KINDS as readonly string[]).includes(kind)) refuse('edit', `must be one of ${EDIT_KINDS.join(', ')}`);
  switch (kind as (typeof EDIT_KINDS)[number]) {
    case 'pin': {
      const [app, version] = [name('app'), name('version')];
      return { edit: (doc) => void setPin(doc, app, version), check: { target: { app, version }, act: 'pin' }, summary: `pinned ${app} to ${version}` };
    }
    case 'unpin': {
      const app = name('app');
      return { edit: (doc) => void removePin(doc, app), check: null, summary: `unpinned ${app}` };
    }
    case 'hold': {
      const reason = text('reason') as string;
      const until = text('until', true);
      const problem = until === undefined ? null : holdUntilProblem('until', until, now, zone);
      if (problem) refuse('until', problem);
      return { edit: (doc) => void setHold(doc, reason, until), check: null, summary: `held: ${reason}${until ? ` until ${until}` : ''}` };
    }
    case 'unhold':
      return { edit: (doc) => void removeHold(doc), check: null, summary: 'removed the hold' };
    case 'schedule': {
      const app = name('app');
      const at = text('at') as string;
      const problem = scheduleAtProblem('at', at, now);
      if (problem) refuse('at', problem);
      return { edit: (doc) => void setSchedule(doc, app, at), check: { target: { app }, act: 'schedule' }, summary: `scheduled the upgrade of ${app} at ${at}` };
    }
    case 'unschedule': {
      const app = name('app');
      return { edit: (doc) => void removeSchedule(doc, app), check: null, summary: `cancelled the scheduled upgrade of ${app}` };
    }
    case 'approval': {
      const approval = b.approval ?? null;
      return { edit: (doc) => void setOverlayKey(doc, 'approval', approval), check: null, summary: approval === null ? 'approval back to the default (auto)' : `approval: ${String(approval)}` };
    }
    case 'windows': {
      const windows = b.windows ?? null;
      const summary = windows === null ? "windows: the group's again" : Array.isArray(windows) && windows.length === 0 ? 'windows: none (changes start at once)' : 'windows set';
      return { edit: (doc) => void setOverlayKey(doc, 'windows', windows), check: null, summary };
    }
    case 'compose': {
      const app = name('app');
      const override = b.override ?? null;
      if (override !== null && (typeof override !== 'object' || Array.isArray(override))) refuse('override', 'must be an object with files and env, or null to remove it');
      const edit: OverlayEdit = (doc) => void setCompose(doc, app, override as Record<string, unknown> | null);
      return { edit, check: null, summary: override === null ? `removed the compose overrides of ${app}` : `set the compose overrides of ${app}` };
    }
  }
}

/**
 * `GET /api/overlay`: the overlay's values (or why it is invalid), the node's zone, and agent.yaml's
 * settings the page shows read-only. `POST /api/overlay`: one edit; a refusal answers 400 with the
 * field it names, and leaves the file as it was.
 */
export function overlayRoutes(deps: OverlayDeps): ConsoleRoute[] {
  return [
    {
      method: 'GET',
      pattern: '/api/overlay',
      handle: async (call) => {
        const agent = await deps.agentSettings();
        let overlay: OverlayFile | null = null;
        let error: { message: string; field: string | null } | null = null;
        try {
          overlay = await deps.read();
        } catch (err) {
          const e = toDuckError(err);
          error = { message: e.message, field: (e.data.field as string | undefined) ?? null };
        }
        call.send(200, { ok: true, file: deps.file, overlay, error, zone: deps.zone(), agent });
      },
    },
    {
      method: 'POST',
      pattern: '/api/overlay',
      handle: async (call) => {
        try {
          const asked = pageOverlayEdit(await call.json(), deps.clock(), deps.zone());
          if (asked.check) await deps.requireInChannel(asked.check.target, asked.check.act);
          const overlay = await deps.edit(asked.edit);
          call.send(200, { ok: true, file: deps.file, summary: asked.summary, overlay });
        } catch (err) {
          refused(call, toDuckError(err));
        }
      },
    },
  ];
}

/** A refused edit is the operator's to fix (400), naming the field; an unwritable file is the node's (500). */
function refused(call: RouteCall, e: DuckError): void {
  const status = e.code === 'io' ? 500 : 400;
  call.send(status, { ok: false, code: e.code, message: e.message, field: (e.data.field as string | undefined) ?? null });
}

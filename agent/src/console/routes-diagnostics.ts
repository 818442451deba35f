import { randomUUID } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { DuckError, toDuckError } from '../../../schemas/errors.js';
import type { ConsoleRoute } from './routes.js';

/** What `duck diagnostics` built: each file of the archive, its size and how many values were redacted. */
export interface BuiltBundle {
  readonly archive: string;
  readonly files: readonly { readonly path: string; readonly bytes: number; readonly redactions: number }[];
  readonly bytes: number;
}

export interface DiagnosticsDeps {
  /** The controller's URL, or null when agent.yaml has no controller section (nothing to upload to). */
  readonly controller: string | null;
  /** Builds a new bundle on the node; nothing leaves it. */
  build(): Promise<BuiltBundle>;
  /** Uploads the archive with the agent's own token (enrolling first when it never did). */
  upload(archive: string): Promise<{ id: string; bytes: number; sha256: string }>;
}

interface Preview {
  readonly archive: string;
  /** An upload was tried: the archive is kept whatever came of it (the operator may send it by hand). */
  offered: boolean;
}

/**
 * `POST /api/diagnostics`: builds the bundle and answers what it holds, under an id;
 * `POST /api/diagnostics/:id/upload`: sends that very archive, after the operator's click (consent
 * is asked on the page, as the CLI asks on the terminal). The page names a preview by its id, never
 * by a path: it can only send what this console built and showed.
 */
export function diagnosticsRoutes(deps: DiagnosticsDeps): ConsoleRoute[] {
  const previews = new Map<string, Preview>();
  return [
    {
      method: 'POST',
      pattern: '/api/diagnostics',
      handle: async (call) => {
        // A preview nobody sent is replaced by the new one: page visits do not pile up archives.
        for (const [id, p] of previews) {
          if (p.offered) continue;
          previews.delete(id);
          await rm(p.archive, { force: true });
        }
        const bundle = await deps.build();
        const id = randomUUID();
        previews.set(id, { archive: bundle.archive, offered: false });
        call.send(200, { id, archive: bundle.archive, files: bundle.files, bytes: bundle.bytes, redactions: bundle.files.reduce((n, f) => n + f.redactions, 0), controller: deps.controller });
      },
    },
    {
      method: 'POST',
      pattern: '/api/diagnostics/:id/upload',
      handle: async (call) => {
        const preview = previews.get(call.params.id!);
        if (!preview) throw new DuckError('not-found', 'this bundle is no longer offered (the console restarted or built a newer one): reload the page', { field: 'id' });
        if (deps.controller === null) throw new DuckError('config', `agent.yaml has no controller section: nothing to upload to; the archive is kept at ${preview.archive}`, { field: '/controller' });
        preview.offered = true;
        try {
          const uploaded = await deps.upload(preview.archive);
          call.send(200, { ok: true, controller: deps.controller, archive: preview.archive, uploaded });
        } catch (err) {
          const e = toDuckError(err);
          // The controller's failure is the page's to show; the archive stays for a later try.
          call.send(502, { ok: false, code: e.code, message: `the upload to ${deps.controller} failed: ${e.message}; nothing was lost, the archive is kept at ${preview.archive}`, archive: preview.archive });
        }
      },
    },
  ];
}

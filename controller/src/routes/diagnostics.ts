// Diagnostics bundles: agents upload (their own token), people list and download (admin).
// The bundle is built and sent only with the operator's consent (DESIGN §4.8); here it is stored
// under a name the controller makes, never the client's.
import { randomUUID } from 'node:crypto';
import { createReadStream } from 'node:fs';
import type Router from '@koa/router';
import type { AppDeps } from '../deps.js';
import { diagnosticPath, receiveUpload, sanitizeFilename } from '../diagnostics-files.js';
import { HttpError } from '../http-error.js';
import { requireAdmin, requireAgent, type AgentAuthState, type AuthDeps } from '../middleware/auth.js';
import { declaredLength, refuseTooLarge } from '../middleware/body.js';

const GZIP_TYPES = new Set(['application/gzip', 'application/x-gzip', 'application/octet-stream']);

export function diagnosticsRoutes(router: Router, deps: AppDeps, auth: AuthDeps): void {
  const cap = deps.settings.maxDiagnosticsBytes;

  router.post('/api/v1/diagnostics', requireAgent(auth), async (ctx) => {
    const type = (ctx.get('Content-Type').split(';')[0] ?? '').trim().toLowerCase();
    if (!GZIP_TYPES.has(type)) {
      throw new HttpError(415, 'unsupported-media-type', `expected Content-Type application/gzip, got ${type || 'none'}`);
    }
    const length = declaredLength(ctx.req);
    if (length !== null && length > cap) return refuseTooLarge(ctx, cap, 'the diagnostics bundle');
    const id = randomUUID();
    const received = await receiveUpload(ctx.req, deps.settings.dataDir, id, cap);
    if (!received.ok && received.refusal === 'too-large') return refuseTooLarge(ctx, cap, 'the diagnostics bundle');
    if (!received.ok) throw new HttpError(400, 'invalid', `the diagnostics bundle is not a gzip-compressed tar (what duck diagnostics makes): ${received.problem}`);
    const { agentId } = ctx.state as AgentAuthState;
    const record = {
      id,
      agentId,
      filename: sanitizeFilename(ctx.get('X-Duck-Filename') || undefined, `${id}.tar.gz`),
      bytes: received.bytes,
      sha256: received.sha256,
      receivedAt: deps.now().toISOString(),
    };
    await deps.store.addDiagnostic(record);
    deps.log({ event: 'diagnostics', agentId, id, bytes: record.bytes });
    ctx.status = 201;
    ctx.body = { id, bytes: record.bytes, sha256: record.sha256 };
  });

  router.get('/api/v1/diagnostics', requireAdmin(auth), async (ctx) => {
    const agent = typeof ctx.query.agent === 'string' && ctx.query.agent !== '' ? ctx.query.agent : undefined;
    ctx.body = { diagnostics: await deps.store.diagnostics(agent) };
  });

  router.get('/api/v1/diagnostics/:id', requireAdmin(auth), async (ctx) => {
    const record = await deps.store.getDiagnostic(ctx.params.id ?? '');
    if (!record) throw new HttpError(404, 'not-found', `no diagnostics bundle ${ctx.params.id}`);
    ctx.type = 'application/gzip';
    ctx.length = record.bytes;
    // The display name was sanitized on upload to [A-Za-z0-9._-], so it cannot break the header.
    ctx.set('Content-Disposition', `attachment; filename="${record.filename}"`);
    ctx.body = createReadStream(diagnosticPath(deps.settings.dataDir, record.id));
  });
}

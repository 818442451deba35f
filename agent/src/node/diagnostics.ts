import { readFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { DuckError } from '../../../schemas/errors.js';
import { appLayout } from '../apply/app-layout.js';
import type { Bundle } from '../diagnostics/bundle.js';
import { buildBundle, defaultArchiveName } from '../diagnostics/bundle.js';
import type { DiagnosticsAnswer } from '../ports.js';
import { currentEnrollment } from '../report/enrollment.js';
import { runningBuild } from './agent-decision.js';
import { agentIdOf } from './decisions.js';
import type { NodeParts } from './wiring.js';

/** `duck diagnostics` (DESIGN §4.8): the bundle of this node, and its upload after consent. */

/** Where the archive goes unless the operator says: a timestamped file in the current directory. */
export function defaultArchive(node: NodeParts): string {
  return resolve(defaultArchiveName(hostname(), node.clock()));
}

/**
 * Where the console's bundles go: under the state directory (owner-only, like the state they copy),
 * since the console's working directory may be anywhere, `/` under systemd.
 */
export function stateArchive(node: NodeParts): string {
  return join(node.config.stateDir, 'diagnostics', defaultArchiveName(hostname(), node.clock()));
}

export function buildNodeBundle(node: NodeParts, archive: string): Promise<Bundle> {
  const { config } = node;
  const state = node.state.read();
  return buildBundle(
    {
      configFile: config.file,
      overlayFile: config.overlay,
      secrets: [config.channel.token, config.controller?.enrollToken].filter((s): s is string => Boolean(s)),
      secretFiles: config.controller?.enrollTokenFile ? [config.controller.enrollTokenFile] : [],
      state,
      dirs: [config.stateDir, config.apply.appsDir, config.apply.backupsDir],
      projects: Object.keys(state.apps)
        .sort()
        .map((app) => ({ app, project: appLayout(config.apply.appsDir, app).project })),
      composeVersion: () => node.composeVersion(),
      duckVersion: async () => runningBuild().version,
    },
    archive,
  );
}

/**
 * Uploads with the agent's own token. A node not enrolled yet is enrolled by the writer first
 * (`enroll`: the daemon when it runs), so this command never writes the state itself.
 */
export async function uploadBundle(node: NodeParts, archive: string, enroll: () => Promise<NodeParts>): Promise<DiagnosticsAnswer> {
  const client = node.controller;
  if (!client) throw new DuckError('usage', `${node.config.file} has no controller section: nothing to upload to; the archive is kept at ${archive}`, { file: node.config.file, field: '/controller' });
  const enrolledNode = enrollmentOf(node) ? node : await enroll();
  const enrollment = enrollmentOf(enrolledNode);
  if (!enrollment) throw new DuckError('internal', `the agent did not enroll with ${client.url}`);
  return client.uploadDiagnostics(enrollment.token, basename(archive), await readFile(archive));
}

function enrollmentOf(node: NodeParts) {
  const agentId = agentIdOf(node.config, node.state.read());
  return agentId && node.controller ? currentEnrollment(node.state.read(), node.controller.url, agentId) : null;
}

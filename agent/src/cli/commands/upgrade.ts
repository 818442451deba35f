import { defineCommand } from 'citty';
import { configPath } from '../../agent-config.js';
import { openAgent, verifyChannel } from '../../agent.js';
import { acquireInstanceLock } from '../../adapters/instance-lock.js';
import { loadOverlay } from '../../adapters/overlay-file.js';
import { applyEnvFor, createApplyServices } from '../../apply-wiring.js';
import { DuckError } from '../../core/errors.js';
import { desiredAndPlan } from '../../desired-state.js';
import { reconcileOnce } from '../../reconcile.js';
import { configArg, jsonArg } from '../common-args.js';
import { createLogger } from '../logger.js';
import { createOutput } from '../output.js';
import { ask } from '../prompt.js';

export default defineCommand({
  meta: {
    name: 'upgrade',
    description:
      'Move now to the version the channel (or a pin) asks for, outside windows and manual approval: shows current and target versions and the release notes, asks, then applies with backup, health check and rollback',
  },
  args: {
    app: { type: 'positional', required: false, description: 'only this app (default: every app with a pending change)' },
    yes: { type: 'boolean', description: 'do not ask', default: false },
    force: { type: 'boolean', description: "go ahead although the app holds its update lock", default: false },
    ...configArg,
    ...jsonArg,
  },
  async run({ args }) {
    const out = createOutput(args.json);
    const agent = await openAgent(configPath(args.config));
    const lock = await acquireInstanceLock(agent.config.stateDir, 'duck upgrade');
    try {
      const only = args.app ? new Set([args.app]) : null;
      const accepted = await verifyChannel(agent);
      const view = { commit: accepted.anchor.commit, content: accepted.content, tree: accepted.tree };
      const upgradeNow = only ?? 'all';
      const { desired } = await desiredAndPlan(agent, view, { upgradeNow });
      const moving = desired.apps.filter((a) => a.decision === 'apply' && (!only || only.has(a.app)));
      if (only && !desired.apps.some((a) => a.app === args.app)) throw new DuckError('usage', `no app "${args.app}" in this node's group or overlay`);
      for (const a of desired.apps.filter((x) => x.decision === 'wait' && (!only || only.has(x.app)))) out.line(`${a.app}: not moving: ${a.reason}`);
      if (moving.length === 0) {
        out.line('nothing to upgrade');
        out.result({ ok: true, changes: [] });
        return;
      }
      for (const a of moving) {
        out.line(`${a.app}: ${a.current ?? 'not installed'} -> ${a.desired}`);
        if (a.release?.notes) out.line(a.release.notes.trim().replace(/^/gm, '    '));
      }
      if (!args.yes && (await ask('Apply now? [y/N] ', '--yes')).toLowerCase() !== 'y') {
        out.line('nothing changed');
        out.result({ ok: true, changes: [], cancelled: true });
        return;
      }
      const log = createLogger('text', process.stderr);
      const services = await createApplyServices(agent, log);
      const env = applyEnvFor(agent, services, { overlay: await loadOverlay(agent.config.overlay), log, force: args.force });
      const report = await reconcileOnce(agent, env, { fetch: false, upgradeNow, only: new Set(moving.map((a) => a.app)) });
      for (const c of report.changes) out.line(`${c.app}: ${c.outcome} (${c.from ?? 'nothing'} -> ${c.to}): ${c.reason}`);
      out.result({ ok: report.changes.every((c) => c.outcome === 'applied'), changes: report.changes });
      if (report.changes.some((c) => c.outcome !== 'applied')) process.exitCode = 1;
    } finally {
      await lock.release();
    }
  },
});

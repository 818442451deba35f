import { platform as osPlatform, arch } from 'node:process';
import { defineCommand } from 'citty';
import { DuckError } from '../../../../schemas/errors.js';
import type { AgentRelease } from '../../core/agent-build.js';
import { platformKey } from '../../core/agent-build.js';
import { decideAgentOnNode } from '../../node/agent-decision.js';
import { readAcceptedLocally } from '../../node/decisions.js';
import { openNode } from '../node-handle.js';
import { configPath, loadAgentConfig } from '../../node/config.js';
import { failureOf, readReleaseFile, updaterDeps } from '../../node/self-update.js';
import { currentVersion } from '../../self-update/builds.js';
import type { UpdateResult } from '../../self-update/updater.js';
import { resumeUpdate, runUpdate } from '../../self-update/updater.js';
import { configArg, jsonArg } from '../common-args.js';
import { createLogger } from '../logger.js';
import { createOutput, EXIT } from '../output.js';
import { ask } from '../prompt.js';
import { COMMAND_META } from './meta.js';

// Exit codes: 0 the new build runs and proved healthy, nothing to do, or --check; 1 the update
// failed before the switch (download, sha256, stage, self-test) or was rolled back after it, or
// another updater runs; 2 usage, or the update waits (a hold, a version that failed here); 3 the
// release file is invalid.
export default defineCommand({
  meta: COMMAND_META['self-update'],
  args: {
    check: { type: 'boolean', description: 'show the running and target versions and the notes; change nothing', default: false },
    yes: { type: 'boolean', description: 'do not ask', default: false },
    retry: { type: 'boolean', description: 'try a version that failed on this node again, although its release has not changed', default: false },
    resume: { type: 'boolean', description: 'only finish a self-update a killed updater left (what a restart of the update unit runs)', default: false },
    'release-file': { type: 'string', description: "a target release read from a file (agents/<version>/agent.yaml's format) instead of the accepted commit", valueHint: 'path' },
    ...configArg,
    ...jsonArg,
  },
  async run({ args }) {
    const out = createOutput(args.json);
    const config = await loadAgentConfig(configPath(args.config, process.env));
    const log = createLogger('text', process.stderr);
    const deps = updaterDeps(config, { log, killAt: process.env.DUCK_FAULT_KILL_AT || null, progress: process.stderr });
    if (args.resume) {
      const left = await resumeUpdate(deps);
      if (left === null) out.line('no self-update in flight');
      return report(out, left ?? { outcome: 'none', from: deps.running, to: deps.running, step: null, reason: 'no self-update in flight' });
    }
    const platform = platformKey(osPlatform, arch);
    const running = (await currentVersion(config.selfUpdate.buildsDir)) ?? deps.running;
    let release: AgentRelease;
    if (args['release-file']) {
      release = await readReleaseFile(args['release-file']);
      out.line(`agent: ${running} -> ${release.version} (${platform})`);
    } else {
      // The target the accepted commit asks for (the group's agent.version or the overlay's pin.agent),
      // decided as the daemon decides it; --yes is the operator's say over the windows and manual approval.
      const node = await openNode(args.config);
      const accepted = await readAcceptedLocally(node);
      if (!accepted) throw new DuckError('usage', 'no channel commit accepted yet: run duck verify first');
      // As the daemon decides first (its reason, when the update is due anyway); then with --yes as the operator's say.
      let decision = await decideAgentOnNode(node, accepted, { running, retry: args.retry });
      if (decision.decision === 'wait' && args.yes && !args.check) decision = await decideAgentOnNode(node, accepted, { running, requested: true, retry: args.retry });
      out.line(`agent: ${running}${decision.target && decision.target !== running ? ` -> ${decision.target}` : ''} (${platform}): ${decision.decision}: ${decision.reason}`);
      if (decision.release?.notes) out.line(decision.release.notes.trim().replace(/^/gm, '    '));
      if (args.check || decision.decision === 'none' || decision.release === null) {
        out.result({ ok: true, current: running, target: decision.target, decision: decision.decision, reason: decision.reason, platform });
        return;
      }
      if (decision.decision === 'wait') {
        out.result({ ok: false, current: running, target: decision.target, decision: decision.decision, reason: decision.reason, platform });
        process.exitCode = EXIT.usage;
        return;
      }
      release = decision.release;
    }
    if (release.notes && args['release-file']) out.line(release.notes.trim().replace(/^/gm, '    '));
    const failed = await failureOf(config, release.version);
    const blocked = failed !== null && failed.releaseDigest === release.digest && !args.retry;
    if (failed && args['release-file']) out.line(`${release.version} failed here at ${failed.at} (${failed.step}): ${failed.reason}${blocked ? ' — pass --retry to try it again' : ''}`);
    if (args.check) {
      out.result({ ok: true, current: running, target: release.version, platform, failed });
      return;
    }
    if (blocked) throw new DuckError('usage', `${release.version} failed on this node and its release has not changed: pass --retry to try it again`);
    if (!args.yes && (await ask('Update now? [y/N] ', '--yes')).toLowerCase() !== 'y') {
      out.line('nothing changed');
      out.result({ ok: true, cancelled: true });
      return;
    }
    report(out, await runUpdate({ release, platform }, deps));
  },
});

function report(out: ReturnType<typeof createOutput>, result: UpdateResult): void {
  const ok = result.outcome === 'applied' || result.outcome === 'none';
  out.line(`${result.outcome}: ${result.reason}`);
  out.result({ ok, ...result });
  if (!ok) process.exitCode = EXIT.error;
}

import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { defineCommand } from 'citty';
import { durationMs } from '../../../../../schemas/duration.js';
import { DuckError } from '../../../../../schemas/errors.js';
import { watchRolloutGate } from '../../../release/gate-watch.js';
import { parseFailureLimit, parseMinNodes } from '../../../release/rollout-gate.js';
import { jsonArg } from '../../common-args.js';
import { createOutput, EXIT } from '../../output.js';

export const TOKEN_ENV = 'DUCK_CONTROLLER_TOKEN';

function flagDuration(text: string, option: string): number {
  const ms = durationMs(text);
  if (ms === null) throw new DuckError('usage', `${option}: "${text}" is not a duration like 30s, 10m or 1h`, { field: option });
  return ms;
}

/** The token from --token-file (trimmed), else the environment; never from a flag, so it stays out of process lists. */
async function controllerToken(file: string | undefined): Promise<string> {
  if (file) {
    const path = resolve(file);
    const text = await readFile(path, 'utf8').catch((err: NodeJS.ErrnoException) => {
      throw new DuckError('config', `${path}: cannot read the token file: ${err.code ?? err.message}`, { file: path });
    });
    if (text.trim() === '') throw new DuckError('config', `${path}: the token file is empty`, { file: path });
    return text.trim();
  }
  const env = process.env[TOKEN_ENV];
  if (!env) throw new DuckError('usage', `a controller token is needed: --token-file <file> or $${TOKEN_ENV} (the read-only token is enough)`, { field: '--token-file' });
  return env;
}

export default defineCommand({
  meta: {
    name: 'gate',
    description:
      "Ask the controller whether a version proved itself in a group: exit 0 when it runs healthy on --min-nodes nodes and at most --max-failed failed by the release's fault, 3 when more failed, 1 when neither by the end of --wait. For CI, before promoting the next group.",
  },
  args: {
    controller: { type: 'string', description: 'the controller URL', valueHint: 'url', required: true },
    group: { type: 'string', description: 'the group the version rolls out to', required: true },
    app: { type: 'string', description: 'the app', required: true },
    version: { type: 'string', description: 'the version to judge', required: true },
    'min-nodes': { type: 'string', description: 'nodes that must run it healthy', default: '1' },
    'max-failed': { type: 'string', description: "release failures allowed: a count (2) or a share of the rollout's nodes (10%)", default: '0%' },
    wait: { type: 'string', description: 'keep reading this long while the rollout is not decided (default: one reading)', valueHint: 'duration' },
    interval: { type: 'string', description: 'time between readings while waiting', valueHint: 'duration', default: '15s' },
    'token-file': { type: 'string', description: `a file holding the controller token, the read-only one is enough (default: $${TOKEN_ENV})`, valueHint: 'file' },
    ...jsonArg,
  },
  async run({ args }) {
    const out = createOutput(args.json);
    const criteria = { minNodes: parseMinNodes(args['min-nodes']), maxFailed: parseFailureLimit(args['max-failed']) };
    const waitMs = args.wait ? flagDuration(args.wait, '--wait') : 0;
    const pollMs = flagDuration(args.interval, '--interval');
    if (pollMs < 1000) throw new DuckError('usage', `--interval: at least 1s between readings, got ${args.interval}`, { field: '--interval' });
    const token = await controllerToken(args['token-file']);
    const target = { group: args.group, app: args.app, version: args.version };
    const outcome = await watchRolloutGate({
      controllerUrl: args.controller,
      token,
      target,
      criteria,
      waitMs,
      pollMs,
      onPending: (v) => out.line(`waiting: ${v.message}`),
    });
    const code = outcome.kind === 'pass' ? EXIT.ok : outcome.kind === 'fail' ? EXIT.refused : EXIT.error;
    if (outcome.kind === 'pass') out.line(outcome.message);
    else process.stderr.write(`${outcome.kind === 'fail' ? 'gate failed' : 'gate undecided'}: ${outcome.message}\n`);
    out.result({ ok: outcome.kind === 'pass', verdict: outcome.kind, message: outcome.message, readings: outcome.readings, ...target, ...criteria });
    process.exitCode = code;
  },
});

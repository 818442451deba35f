import type { CommandDef } from 'citty';
import { defineCommand, runCommand, runMain } from 'citty';
import { formatLocation, toDuckError } from '../../../schemas/errors.js';
import { EXIT, exitCodeFor, failureJson } from './output.js';

const load = (name: string) => () => import(`./commands/${name}.js`).then((m: { default: CommandDef }) => m.default);

// Commands load lazily, so `duck --help` never loads git, OpenPGP or Docker code.
export const duck = defineCommand({
  meta: { name: 'duck', version: '0.1.0', description: 'Duck node agent and operator CLI: GitOps for Docker Compose stacks' },
  subCommands: {
    init: load('init'),
    verify: load('verify'),
    check: load('check'),
    'check-update': load('check'),
    status: load('status'),
    pin: load('pin'),
    unpin: load('unpin'),
    hold: load('hold'),
    unhold: load('unhold'),
    schedule: load('schedule'),
    run: load('run'),
    upgrade: load('upgrade'),
    start: load('start'),
    stop: load('stop'),
    restart: load('restart'),
    ps: load('ps'),
    logs: load('logs'),
    history: load('history'),
    retry: load('retry'),
    backup: load('backup'),
    backups: load('backups'),
    'list-backups': load('backups'),
    restore: load('restore'),
    rollback: load('restore'),
    purge: load('purge'),
    diagnostics: load('diagnostics'),
    release: load('release'),
  },
});

const HELP_FLAGS = new Set(['--help', '-h', '--version', '-v']);

export async function runCli(argv: string[]): Promise<number> {
  if (argv.length === 0 || argv.some((a) => HELP_FLAGS.has(a))) {
    await runMain(duck, { rawArgs: argv.length === 0 ? ['--help'] : argv });
    return EXIT.ok;
  }
  const json = argv.includes('--json');
  try {
    await runCommand(duck, { rawArgs: argv });
    // A command reports a result that is not ok (a rolled-back upgrade) through process.exitCode.
    return typeof process.exitCode === 'number' ? process.exitCode : EXIT.ok;
  } catch (err) {
    if (isUsageError(err)) {
      const message = stripAnsi((err as Error).message);
      report(json, { ok: false, reason: 'usage', message }, `usage: ${message} (see duck --help)`);
      return EXIT.usage;
    }
    const e = toDuckError(err);
    const where = formatLocation(e.data);
    const human = e.isRefusal ? `refused: ${e.code}: ${e.message}` : `error: ${e.message}${where && !e.message.includes(where) ? ` (${where})` : ''}`;
    report(json, failureJson(e), human);
    if (e.code === 'internal' && process.env.DUCK_DEBUG) console.error(err);
    return exitCodeFor(e.code);
  }
}

function report(json: boolean, value: Record<string, unknown>, human: string): void {
  if (json) process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
  process.stderr.write(`${human}\n`);
}

function isUsageError(err: unknown): boolean {
  return err instanceof Error && (err.name === 'CLIError' || /^E_/.test(String((err as { code?: unknown }).code ?? '')));
}

function stripAnsi(text: string): string {
  // citty colours its messages; a usage error goes to logs and JSON as plain text.
  // eslint-disable-next-line no-control-regex
  return text.replace(/\u001b\[[0-9;]*m/g, '');
}

import type { CommandDef, Resolvable } from 'citty';
import { defineCommand, runCommand, runMain } from 'citty';
import { asksForVersion, buildInfo, versionLine } from '../../../schemas/build-info.js';
import { formatLocation, toDuckError } from '../../../schemas/errors.js';
import { COMMAND_META } from './commands/meta.js';
import { EXIT, exitCodeFor, failureJson } from './output.js';

const load = (name: string) => () => import(`./commands/${name}.js`).then((m: { default: CommandDef }) => m.default);

// Each command by the name it answers to, and the module that defines it (aliases share one).
const COMMANDS: Record<string, keyof typeof COMMAND_META> = {
  init: 'init',
  verify: 'verify',
  check: 'check',
  'check-update': 'check',
  status: 'status',
  announcements: 'announcements',
  pin: 'pin',
  unpin: 'unpin',
  hold: 'hold',
  unhold: 'unhold',
  schedule: 'schedule',
  run: 'run',
  console: 'console',
  upgrade: 'upgrade',
  start: 'start',
  stop: 'stop',
  restart: 'restart',
  ps: 'ps',
  logs: 'logs',
  history: 'history',
  retry: 'retry',
  backup: 'backup',
  backups: 'backups',
  'list-backups': 'backups',
  restore: 'restore',
  rollback: 'restore',
  purge: 'purge',
  diagnostics: 'diagnostics',
  release: 'release',
  'self-update': 'self-update',
  'self-test': 'self-test',
};

const ROOT_META = { name: 'duck', version: '0.1.0', description: 'Duck node agent and operator CLI: GitOps for Docker Compose stacks' };

// Commands load lazily: running one imports that command alone.
export const duck = defineCommand({
  meta: ROOT_META,
  subCommands: Object.fromEntries(Object.entries(COMMANDS).map(([name, file]) => [name, load(file)])),
});

/**
 * The command tree `--help` reads for `argv`: the command it names (as citty finds it, the first
 * argument that is not a flag) in full, every other one as its meta from COMMAND_META alone. So
 * `duck --help` lists every command without importing one (they pull in git, OpenPGP, schemas and
 * Docker code), and `duck status --help` imports status alone.
 */
function helpTree(argv: readonly string[]): CommandDef {
  const named = argv.find((a) => !a.startsWith('-'));
  const subCommands = Object.entries(COMMANDS).map(([name, file]): [string, Resolvable<CommandDef>] => [name, name === named ? load(file) : { meta: COMMAND_META[file] }]);
  return defineCommand({ meta: ROOT_META, subCommands: Object.fromEntries(subCommands) });
}

const HELP_FLAGS = new Set(['--help', '-h']);

/** Help anywhere (duck's own version only before the command: asksForVersion). */
function wantsHelp(argv: readonly string[]): boolean {
  return argv.length === 0 || argv.some((a) => HELP_FLAGS.has(a));
}

export async function runCli(argv: string[]): Promise<number> {
  if (wantsHelp(argv)) {
    await runMain(helpTree(argv), { rawArgs: argv.length === 0 ? ['--help'] : argv });
    return EXIT.ok;
  }
  if (asksForVersion(argv)) {
    // The version and the commit the build was made from (the artifact's package.json holds both).
    process.stdout.write(`${versionLine('duck', buildInfo(import.meta.url))}\n`);
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

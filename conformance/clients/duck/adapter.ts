#!/usr/bin/env node
// Duck as a conformance client (conformance/README.md): `init` writes an agent.yaml in the state
// directory, `verify` is `duck verify --json` as it is, `status` reads `duck status --json`'s
// accepted commit. Duck runs with a preload that sets its clock to the suite's.
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { CLIENT_EXIT } from '../../protocol.js';

const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: {
    state: { type: 'string' },
    url: { type: 'string' },
    branch: { type: 'string', default: 'main' },
    group: { type: 'string' },
    'root-key': { type: 'string', multiple: true },
    timeout: { type: 'string' },
    json: { type: 'boolean', default: false },
  },
});

const usage = (message: string): never => {
  process.stderr.write(`duck conformance adapter: ${message}\n`);
  process.exit(CLIENT_EXIT.usage);
};

const stateDir = values.state ?? usage('--state is required');
const configFile = join(stateDir, 'agent.yaml');

/** The package's root: the nearest directory up from here with Duck's package.json. */
function packageRoot(): string {
  for (let dir = dirname(fileURLToPath(import.meta.url)); dir !== dirname(dir); dir = dirname(dir)) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest) && (JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string }).name === 'duck') return dir;
  }
  return usage('no Duck package.json above the adapter');
}

function duck(...args: string[]): { status: number; stdout: string; stderr: string } {
  const preload = new URL('./clock-preload.js', import.meta.url).href;
  const bin = join(packageRoot(), 'dist', 'agent', 'bundle', 'main.mjs');
  const r = spawnSync(process.execPath, ['--import', preload, bin, ...args, '--config', configFile], { encoding: 'utf8' });
  return { status: r.status ?? CLIENT_EXIT.error, stdout: r.stdout, stderr: r.stderr };
}

switch (positionals[0]) {
  case 'init': {
    const url = values.url ?? usage('init: --url is required');
    const keys = values['root-key'] ?? usage('init: --root-key is required');
    mkdirSync(join(stateDir, 'keys'), { recursive: true });
    for (const key of keys) copyFileSync(key, join(stateDir, 'keys', basename(key)));
    const timeout = values.timeout ? `${values.timeout}s` : undefined;
    const config = {
      channel: { url, branch: values.branch, interval: '60s' },
      group: values.group ?? usage('init: --group is required'),
      trust: { keys: keys.map((key) => `keys/${basename(key)}`) },
      stateDir: 'state',
      overlay: 'overlay.yaml',
      startSpread: '0s',
      ...(timeout ? { limits: { fetchTimeout: timeout, fetchIdleTimeout: timeout } } : {}),
    };
    // JSON is YAML: no YAML library to load on every call of the adapter.
    writeFileSync(configFile, `${JSON.stringify(config, null, 2)}\n`);
    break;
  }
  case 'verify': {
    // Duck's own exit codes and JSON are the protocol's (agent/src/cli/output.ts).
    const r = duck('verify', '--json');
    process.stdout.write(r.stdout);
    process.stderr.write(r.stderr);
    process.exitCode = r.status;
    break;
  }
  case 'status': {
    const r = duck('status', '--json');
    process.stderr.write(r.stderr);
    if (r.status !== 0) {
      process.exitCode = r.status;
      break;
    }
    const accepted = (JSON.parse(r.stdout) as { channel?: { accepted?: { commit?: string } | null } }).channel?.accepted;
    process.stdout.write(`${JSON.stringify({ commit: accepted?.commit ?? null })}\n`);
    break;
  }
  default:
    usage(`unknown command ${positionals[0] ?? '(none)'}: init, verify or status`);
}

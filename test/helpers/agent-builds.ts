// Agent builds for the self-update tests: the repository's own bundle (`npm run build`) laid out
// as `npm run build:artifact` lays it out — launcher `duck`, `lib/`, a package.json naming the
// version — with the version bumped, and the system's node in the launcher instead of a copy of
// it (a build is tens of MiB with its runtime; the updater never looks inside the launcher).
import { cp, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { create } from 'tar';
import { sha256 } from './channel-fixtures.js';

const BUNDLE = fileURLToPath(new URL('../../dist/agent/bundle', import.meta.url));

/** How a test build misbehaves: it refuses to start, or its daemon starts but never completes a cycle. */
export type BuildFault = 'exits-at-start' | 'no-cycle' | null;

/** The build's directory `<parent>/duck-<version>-linux-x64` (what the artifact tarball holds). */
export async function makeBuild(parent: string, version: string, fault: BuildFault = null): Promise<string> {
  const dir = join(parent, `duck-${version}-linux-x64`);
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  await cp(BUNDLE, join(dir, 'lib'), { recursive: true });
  await writeFile(join(dir, 'package.json'), `${JSON.stringify({ name: 'duck', version, gitHead: `test-${version}`, private: true }, null, 2)}\n`);
  const lines = ['#!/bin/sh', 'here=$(dirname "$(readlink -f "$0")")'];
  if (fault === 'exits-at-start') lines.push('echo "this build cannot start" >&2', 'exit 1');
  // The daemon's Docker ping fails at every cycle: it polls and verifies but never proves health.
  // Its daemon only: an updater this launcher runs must not hand the fault to the build it restores.
  if (fault === 'no-cycle') lines.push('if [ "$1" = run ]; then export DOCKER_HOST=unix:///nonexistent/docker.sock; fi');
  lines.push(`exec ${JSON.stringify(process.execPath)} "$here/lib/main.mjs" "$@"`, '');
  await writeFile(join(dir, 'duck'), lines.join('\n'), { mode: 0o755 });
  return dir;
}

/** `<parent>/duck-<version>-linux-x64.tar.gz` of a build, with its sha256 and size. */
export async function packBuild(dir: string): Promise<{ file: string; sha256: string; size: number }> {
  const parent = join(dir, '..');
  const base = dir.slice(parent.length + 1);
  const file = `${dir}.tar.gz`;
  await create({ gzip: true, cwd: parent, file, portable: true }, [base]);
  const bytes = await readFile(file);
  return { file, sha256: sha256(bytes), size: bytes.length };
}

/** An `agents/<version>/agent.yaml` naming one artifact for linux-x64. */
export function releaseYaml(version: string, artifact: { url: string; sha256: string; size: number }, platform = `linux-${process.arch}`): string {
  return [`version: ${version}`, 'notes: |', `  Test build ${version}.`, 'artifacts:', `  ${platform}: { url: "${artifact.url}", sha256: ${artifact.sha256}, size: ${artifact.size} }`, ''].join('\n');
}

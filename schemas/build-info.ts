// Which build is running: its version and the commit it was built from. Both live in the nearest
// package.json above the running module: the repository's in a checkout (no commit: a development
// tree), the artifact's in a self-contained build, where the build writes the commit as `gitHead`
// (npm's field for it) and "unknown" when it was built outside git.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface BuildInfo {
  readonly version: string;
  /** `git rev-parse HEAD` when the artifact was built; null in a checkout (not a built artifact). */
  readonly commit: string | null;
}

/** The build of the package holding `fromUrl`'s module; version "unknown" when no package.json is above it. */
export function buildInfo(fromUrl: string): BuildInfo {
  for (let dir = dirname(fileURLToPath(fromUrl)); ; dir = dirname(dir)) {
    const file = join(dir, 'package.json');
    if (existsSync(file)) {
      const pkg = JSON.parse(readFileSync(file, 'utf8')) as { version?: unknown; gitHead?: unknown };
      return {
        version: typeof pkg.version === 'string' ? pkg.version : 'unknown',
        commit: typeof pkg.gitHead === 'string' ? pkg.gitHead : null,
      };
    }
    if (dirname(dir) === dir) return { version: 'unknown', commit: null };
  }
}

/** `duck --version`'s line: `<name> <version> (commit <sha>)`, or `(development checkout)`. */
export function versionLine(name: string, build: BuildInfo): string {
  return `${name} ${build.version} (${build.commit === null ? 'development checkout' : `commit ${build.commit}`})`;
}

/**
 * `--version` (or `-v`) before the command: after it, the flag is the command's own
 * (`duck release gate --version 1.2.0`).
 */
export function asksForVersion(argv: readonly string[]): boolean {
  const command = argv.findIndex((a) => !a.startsWith('-'));
  return (command === -1 ? argv : argv.slice(0, command)).some((a) => a === '--version' || a === '-v');
}

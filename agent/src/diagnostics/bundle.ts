import { chmod, mkdir, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { create } from 'tar';
import { REDACTED, redactText } from './redact.js';
import type { DiagnosticsInput, Gathered } from './sources.js';
import { gatherAgentLog, gatherConfig, gatherDocker, gatherOs, gatherState, gatherVersions } from './sources.js';

export interface BundleFile {
  /** The path inside the archive. */
  readonly path: string;
  readonly bytes: number;
  /** How many values were cut out of it (`[redacted]`): what an operator checks before sending it. */
  readonly redactions: number;
}

export interface Bundle {
  readonly archive: string;
  /** Every file in the archive, in archive order. */
  readonly files: readonly BundleFile[];
  /** The archive's size. */
  readonly bytes: number;
}

/** "duck-diagnostics-node-1-20261124T021000Z.tar.gz" */
export function defaultArchiveName(hostname: string, now: Date): string {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
  return `duck-diagnostics-${hostname.replace(/[^A-Za-z0-9.-]/g, '_')}-${stamp}.tar.gz`;
}

/**
 * Gathers everything into one .tar.gz at `archive`. Every text file passes through redactText
 * with the secrets the config revealed; whatever could not be gathered is listed in missing.txt.
 */
export async function buildBundle(input: DiagnosticsInput, archive: string): Promise<Bundle> {
  const config = await gatherConfig(input);
  const gathered: Gathered[] = [
    ...config.files,
    ...gatherState(input.state),
    ...(await gatherVersions(input)),
    ...(await gatherOs(input)),
    ...(await gatherDocker(input)),
    ...(await gatherAgentLog()),
  ];
  const missing = gathered.flatMap((g) => ('missing' in g ? [`${g.path}: ${g.missing}`] : []));
  gathered.push({ path: 'missing.txt', text: missing.length ? `${missing.join('\n')}\n` : 'nothing: every source answered\n' });

  const root = basename(archive).replace(/\.tar\.gz$|\.tgz$/, '') || 'duck-diagnostics';
  const work = await mkdtemp(join(tmpdir(), 'duck-diagnostics-'));
  try {
    const files: BundleFile[] = [];
    for (const g of gathered) {
      if (!('text' in g)) continue;
      const body = redactText(g.text, config.secrets);
      const target = join(work, root, g.path);
      await mkdir(dirname(target), { recursive: true });
      await writeFile(target, body, { mode: 0o600 });
      files.push({ path: `${root}/${g.path}`, bytes: Buffer.byteLength(body), redactions: body.split(REDACTED).length - 1 });
    }
    await mkdir(dirname(archive), { recursive: true });
    // portable: no uid, gid or user names of this node in the archive headers.
    await create({ gzip: true, file: archive, cwd: work, portable: true }, files.map((f) => f.path));
    // Logs and the state are the node operator's business: readable by the owner only.
    await chmod(archive, 0o600);
    return { archive, files, bytes: (await stat(archive)).size };
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

// A backup of a 1 GiB data directory through the agent's BackupStore (DESIGN §4.3: a copy with a
// sha256 per file, a manifest, one sync of the whole backup, then the rename) beside `cp -a` of the
// same tree, alone and followed by `sync`, in the same run; and verify() (every file re-hashed
// against the manifest) beside sha256sum over the same bytes.
import { randomBytes, randomInt } from 'node:crypto';
import { access, constants, mkdir, statfs, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createBackupStore } from '../agent/src/apply/backup-store.js';
import { syncFileSystem } from '../agent/src/apply/file-sync.js';
import { copyTree, treeBytes } from '../agent/src/apply/tree-copy.js';
import { makeTempDir, removeTempDir, run } from '../examples/harness/tmp.js';
// Types only: index.ts runs the benchmarks when loaded, so a value import here would be a cycle.
import type { BenchReport, Comparison } from './index.js';

export interface BackupCopyOptions {
  runs?: number;
  bigFiles?: number;
  bigFileBytes?: number;
  smallDirs?: number;
  smallFilesPerDir?: number;
}

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;
const MIN_FREE = 3 * GiB;
const SMALL_MIN = 512;
const SMALL_MAX = 8 * 1024;

const progress = (message: string): void => void process.stderr.write(`[backup-copy] ${message}\n`);

interface Generated {
  bytes: number;
  files: number;
}

export async function benchBackupCopy(opts: BackupCopyOptions = {}): Promise<BenchReport> {
  const runs = opts.runs ?? 3;
  const shape = {
    bigFiles: opts.bigFiles ?? 64,
    bigFileBytes: opts.bigFileBytes ?? 16 * MiB,
    smallDirs: opts.smallDirs ?? 64,
    smallFilesPerDir: opts.smallFilesPerDir ?? 64,
  };
  const title = 'backup of a 1 GiB data directory: BackupStore.create() and verify() beside cp -a and sha256sum';
  const free = await freeBytes(tmpdir());
  if (free < MIN_FREE) {
    return { title, baseline: 'native', rows: [], notes: [`skipped: ${gib(free)} free in ${tmpdir()}, the group needs ${gib(MIN_FREE)} (source, one backup, one cp -a copy)`] };
  }

  const dir = await makeTempDir('duck-bench-backup-');
  try {
    const source = join(dir, 'source');
    progress(`generating ${shape.bigFiles} x ${mib(shape.bigFileBytes)} random files and ${shape.smallDirs * shape.smallFilesPerDir} small files in ${source}`);
    const made = await generate(join(source, 'data'), shape);
    const store = createBackupStore(join(dir, 'backups'));
    const copy = join(dir, 'cp-copy');
    // Untimed, through the same code create() runs: which copy and which sync this file system got.
    const probe = join(dir, 'probe');
    const { method } = await copyTree(join(source, 'data', 'big'), probe, { durable: false });
    const durability = await syncFileSystem(probe);
    await removeTempDir(probe);

    const create = comparison('create vs cp -a', 'cp -a <source>/data <fresh dir> (returns with the data in the page cache, nothing fsynced)');
    const createSync = comparison('create vs cp -a + sync', 'the same cp -a, then sync (the file system was synced before cp started)');
    const verify = comparison('verify vs sha256sum', 'find <cp copy> -type f -print0 | xargs -0 sha256sum > /dev/null');
    const delta = comparison('create after a pre-copy, nothing changed vs cp -a', 'the same cp -a of the whole tree (what a stop-then-copy would hold the app down for)');
    const deltas: string[] = [];

    for (let i = 0; i < runs; i++) {
      progress(`run ${i + 1}/${runs}: BackupStore.create()`);
      await sync();
      const record = await timed(create.duck, () =>
        store.create({ app: 'bench', version: '1.0.0', dataDir: source, paths: ['data'], volumes: [], releaseDir: null, reason: 'bench' }),
      );
      createSync.duck.push(create.duck.at(-1)!);
      const files = Object.keys(record.files).length;
      expect(record.bytes === made.bytes, `the backup's manifest holds ${record.bytes} bytes, ${made.bytes} were generated`);
      expect(files === made.files, `the backup's manifest lists ${files} files, ${made.files} were generated`);
      progress(`run ${i + 1}/${runs}: BackupStore.verify()`);
      await timed(verify.duck, () => store.verify(record.id));
      await store.remove(record.id);

      // What an upgrade holds the app down for: the pre-copy ran (untimed) while it served.
      progress(`run ${i + 1}/${runs}: BackupStore.precopy(), then create() of the delta`);
      const key = `bench-${i}`;
      await store.precopy({ key, dataDir: source, paths: ['data'], volumes: [], releaseDir: null });
      await sync();
      const after = await timed(delta.duck, () =>
        store.create({ app: 'bench', version: '1.0.0', dataDir: source, paths: ['data'], volumes: [], releaseDir: null, reason: 'bench', precopy: key }),
      );
      expect(after.bytes === made.bytes && Object.keys(after.files).length === made.files, `the backup after the pre-copy holds ${after.bytes} bytes, ${made.bytes} were generated`);
      expect(JSON.stringify(after.files) === JSON.stringify(record.files), 'the backup after the pre-copy has the same manifest as the full one');
      deltas.push(`${after.delta?.reused ?? 0} taken, ${after.delta?.copied ?? 0} copied`);
      await store.remove(after.id);

      progress(`run ${i + 1}/${runs}: cp -a, sync, sha256sum`);
      await sync();
      const start = performance.now();
      await run('cp', ['-a', join(source, 'data'), copy]);
      create.git.push({ ms: performance.now() - start });
      delta.git.push(create.git.at(-1)!);
      await sync();
      createSync.git.push({ ms: performance.now() - start });
      const copied = await treeBytes(copy);
      expect(copied === made.bytes, `cp -a copied ${copied} bytes, ${made.bytes} were generated`);
      await timed(verify.git, () => run('sh', ['-c', 'find "$1" -type f -print0 | xargs -0 sha256sum > /dev/null', 'sh', copy]));
      await removeTempDir(copy);
    }

    return {
      title,
      baseline: 'native',
      rows: [create, createSync, verify, delta],
      notes: [
        `medians; the data directory: ${shape.bigFiles} files of ${mib(shape.bigFileBytes)} from crypto.randomBytes (incompressible) + ` +
          `${shape.smallDirs * shape.smallFilesPerDir} files of ${SMALL_MIN} B-${SMALL_MAX / 1024} KiB in ${shape.smallDirs} directories = ` +
          `${made.files} files, ${made.bytes} bytes (${gib(made.bytes)})`,
        `create() = free-space check (a walk of the tree), copy of each file (4 in flight) by ${method === 'reflink' ? 'reflink (FICLONE), then a sha256 read of the source' : 'the kernel (fs.copyFile: copy_file_range, no reflink on this file system), then one sha256 read of the source, checked unchanged by lstat'}; files up to 64 KiB read once, hashed and written with synchronous calls, ` +
          `manifest, ${durability === 'syncfs' ? 'one syncfs of the file system (sync -f)' : 'an fsync of every file and directory (sync -f unavailable)'}, rename, fsync of the backups directory; ` +
          'cp -a keeps modes, owners, times and links as create() does',
        `copy method used: ${method}; durability: ${durability}`,
        `create after a pre-copy = what an upgrade's backup costs once the app is stopped (apply/precopy.ts): a walk, an lstat per file against the pre-copy's, each unchanged file moved from the pre-copy (a file whose ctime is less than 2 s older than the pre-copy would be copied again; the data is older than that here), manifest, syncfs, rename; per run: ${deltas.join('; ')}`,
        'sha256sum is coreutils\' own SHA-256 unless built against OpenSSL; Node hashes through OpenSSL (SHA-NI where the CPU has it): that row compares hash code as much as tools',
        `file system: ${await fsType(dir)} under ${tmpdir()}; ${await cpVersion()}; sync before each timed step so no earlier writeback lands in it`,
        `page cache not dropped: every run reads a source that is in memory (it was just written; ${gib(made.bytes)} fits in RAM) — ${await dropCachesNote()}`,
      ],
    };
  } finally {
    await removeTempDir(dir);
  }
}

async function generate(root: string, shape: Required<Omit<BackupCopyOptions, 'runs'>>): Promise<Generated> {
  const made: Generated = { bytes: 0, files: 0 };
  await mkdir(join(root, 'big'), { recursive: true });
  for (let i = 0; i < shape.bigFiles; i++) {
    await writeFile(join(root, 'big', `blob-${String(i).padStart(3, '0')}.bin`), randomBytes(shape.bigFileBytes));
    made.bytes += shape.bigFileBytes;
    made.files += 1;
  }
  for (let d = 0; d < shape.smallDirs; d++) {
    const sub = join(root, 'small', `d${String(d).padStart(3, '0')}`);
    await mkdir(sub, { recursive: true });
    for (let f = 0; f < shape.smallFilesPerDir; f++) {
      const size = randomInt(SMALL_MIN, SMALL_MAX + 1);
      await writeFile(join(sub, `f${String(f).padStart(3, '0')}.dat`), randomBytes(size));
      made.bytes += size;
      made.files += 1;
    }
  }
  return made;
}

function comparison(label: string, gitCommand: string): Comparison {
  return { label, duck: [], git: [], gitCommand };
}

async function timed<T>(samples: Array<{ ms: number }>, body: () => Promise<T>): Promise<T> {
  const start = performance.now();
  const result = await body();
  samples.push({ ms: performance.now() - start });
  return result;
}

async function sync(): Promise<void> {
  await run('sync', []);
}

async function freeBytes(dir: string): Promise<number> {
  const fs = await statfs(dir);
  return fs.bavail * fs.bsize;
}

async function fsType(dir: string): Promise<string> {
  const r = await run('df', ['--output=fstype', dir], { allowFailure: true });
  return r.code === 0 ? (r.stdout.toString('utf8').trim().split('\n').at(-1) ?? 'unknown') : 'unknown';
}

async function cpVersion(): Promise<string> {
  const r = await run('cp', ['--version'], { allowFailure: true });
  return r.stdout.toString('utf8').split('\n')[0] || 'cp (version unknown)';
}

async function dropCachesNote(): Promise<string> {
  try {
    await access('/proc/sys/vm/drop_caches', constants.W_OK);
    return '/proc/sys/vm/drop_caches is writable here, but dropping is machine-wide, so the bench leaves it alone';
  } catch {
    return 'caches cannot be dropped without root (/proc/sys/vm/drop_caches)';
  }
}

function expect(ok: boolean, message: string): asserts ok {
  if (!ok) throw new Error(`benchmark precondition: ${message}`);
}

function mib(bytes: number): string {
  return `${(bytes / MiB).toFixed(0)} MiB`;
}

function gib(bytes: number): string {
  return `${(bytes / GiB).toFixed(2)} GiB`;
}

// What a `docker save` archive holds, read without Docker: its manifest.json names each image's
// config blob and tags. The image id Docker reports after `docker load` is the sha256 of that
// config blob, so a release can name the id agents check after loading the archive.
import { createHash } from 'node:crypto';
import { list } from 'tar';
import { fileDigest } from '../apply/archive-download.js';
import { DuckError } from '../../../schemas/errors.js';

export interface ArchivedImage {
  /** The first tag the image was saved with (`docker save repo:tag`): the ref compose uses. */
  readonly ref: string;
  /** sha256:<hex> of the config blob: the image id after `docker load`. */
  readonly id: string;
}

export interface DockerArchive {
  readonly images: readonly ArchivedImage[];
  readonly sha256: string;
  readonly size: number;
}

interface ManifestEntry {
  Config?: unknown;
  RepoTags?: unknown;
}

// The manifest and config blobs are small; layers are not, and are never kept in memory.
const MAX_SMALL_ENTRY = 4 * 1024 * 1024;

export async function readDockerArchive(file: string, label = file): Promise<DockerArchive> {
  const small = new Map<string, Buffer>();
  try {
    await list({
      file,
      onReadEntry: (entry) => {
        if (entry.type !== 'File' || entry.size > MAX_SMALL_ENTRY) {
          entry.resume();
          return;
        }
        const chunks: Buffer[] = [];
        entry.on('data', (c: Buffer) => chunks.push(c));
        entry.on('end', () => small.set(entry.path.replace(/^\.\//, ''), Buffer.concat(chunks)));
      },
    });
  } catch (err) {
    throw notAnArchive(label, `not a tar archive (${(err as Error).message})`);
  }
  const manifestBytes = small.get('manifest.json');
  if (!manifestBytes) throw notAnArchive(label, 'no manifest.json: not made by `docker save`');
  let manifest: unknown;
  try {
    manifest = JSON.parse(manifestBytes.toString('utf8'));
  } catch (err) {
    throw notAnArchive(label, `manifest.json is not JSON (${(err as Error).message})`);
  }
  if (!Array.isArray(manifest) || manifest.length === 0) throw notAnArchive(label, 'manifest.json lists no image');
  const images = (manifest as ManifestEntry[]).map((entry, index) => imageOf(entry, index, small, label));
  const digest = await fileDigest(file);
  if (!digest) throw notAnArchive(file, 'no such file');
  const { sha256, size } = digest;
  return { images, sha256, size };
}

function imageOf(entry: ManifestEntry, index: number, small: Map<string, Buffer>, label: string): ArchivedImage {
  const config = typeof entry.Config === 'string' ? small.get(entry.Config.replace(/^\.\//, '')) : undefined;
  if (!config) throw notAnArchive(label, `manifest.json image ${index}: its config blob ${String(entry.Config)} is missing`);
  const tags = Array.isArray(entry.RepoTags) ? entry.RepoTags.filter((t): t is string => typeof t === 'string') : [];
  const ref = tags[0];
  if (ref === undefined) {
    // An image saved by id loads without a name, and compose could not refer to it.
    throw notAnArchive(label, `manifest.json image ${index} has no tag: save it by name (docker save repo:tag -o file.tar)`);
  }
  return { ref, id: `sha256:${createHash('sha256').update(config).digest('hex')}` };
}

function notAnArchive(file: string, why: string): DuckError {
  return new DuckError('invalid', `${file}: ${why}`, { file });
}

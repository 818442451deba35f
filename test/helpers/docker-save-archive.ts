// `docker save` archives made without Docker, in the layout Docker 25+ writes (an OCI image layout
// plus the legacy manifest.json): a config blob, one layer tar, manifest.json naming both with the
// image's tags. What `duck release add` reads from a build directory.
import { createHash } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { create } from 'tar';
import { makeTempDir, removeTempDir } from '../../examples/harness/tmp.js';

export interface SavedImageSpec {
  /** repo:tag, as `docker save repo:tag` records it in RepoTags. */
  tag: string;
  /** Files of the single layer: path inside the image -> content. */
  files: Record<string, string>;
}

export interface SavedImage {
  tag: string;
  /** sha256:<hex> of the config blob: the id Docker gives the image after `docker load`. */
  id: string;
}

function sha256(bytes: Uint8Array | string): string {
  return createHash('sha256').update(bytes).digest('hex');
}

export async function writeDockerSaveArchive(file: string, images: readonly SavedImageSpec[]): Promise<SavedImage[]> {
  const stage = await makeTempDir('duck-docker-save-');
  try {
    const blobs = join(stage, 'blobs', 'sha256');
    await mkdir(blobs, { recursive: true });
    const manifest: Array<{ Config: string; RepoTags: string[]; Layers: string[] }> = [];
    const saved: SavedImage[] = [];
    for (const [index, image] of images.entries()) {
      const root = join(stage, `rootfs-${index}`);
      for (const [path, content] of Object.entries(image.files)) {
        await mkdir(dirname(join(root, path)), { recursive: true });
        await writeFile(join(root, path), content);
      }
      const layerFile = join(stage, `layer-${index}.tar`);
      await create({ file: layerFile, cwd: root, portable: true, mtime: new Date(0) }, Object.keys(image.files).map((p) => p.replace(/^\//, '')));
      const layer = await readFile(layerFile);
      const layerDigest = sha256(layer);
      await writeFile(join(blobs, layerDigest), layer);
      const config = JSON.stringify({
        architecture: 'amd64',
        os: 'linux',
        config: { Cmd: ['/bin/busybox', 'httpd', '-f'] },
        rootfs: { type: 'layers', diff_ids: [`sha256:${layerDigest}`] },
        history: [{ created_by: `duck test image ${image.tag}` }],
      });
      const configDigest = sha256(config);
      await writeFile(join(blobs, configDigest), config);
      manifest.push({ Config: `blobs/sha256/${configDigest}`, RepoTags: [image.tag], Layers: [`blobs/sha256/${layerDigest}`] });
      saved.push({ tag: image.tag, id: `sha256:${configDigest}` });
    }
    await writeFile(join(stage, 'manifest.json'), JSON.stringify(manifest));
    await writeFile(join(stage, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
    await mkdir(dirname(file), { recursive: true });
    await create({ file, cwd: stage, portable: true }, ['oci-layout', 'manifest.json', 'blobs']);
    return saved;
  } finally {
    await removeTempDir(stage);
  }
}

/**
 * The hello example's build output, one directory per version, as a CI build would hand it to
 * `duck release add hello <version> --from <dir>`:
 *
 *   compose.yaml            the example's compose file with the image tag pinned
 *   images/hello-<v>.tar    the image, from `docker save` (nodes need no registry)
 *   release.yaml            the base release: health timeout, what to back up
 *
 * `duck release add` completes release.yaml (app, version, images with digests, file sha256s).
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { stringify } from 'yaml';
import type { HelloVersion } from './app.js';
import { buildHelloImage, helloComposeYaml, helloImageTag } from './app.js';
import { saveImage } from './busybox-image.js';

export interface HelloBuild {
  readonly version: HelloVersion;
  readonly dir: string;
  readonly imageId: string;
  readonly archive: { readonly file: string; readonly sha256: string; readonly size: number };
}

/** What each version's release notes say (passed to `duck release add --notes`). */
export const HELLO_NOTES: Record<HelloVersion, string> = {
  '1.0.0': 'First release of hello.',
  '1.1.0': 'A new page; the data in starts.log is kept.',
  '1.2.0': 'Broken on purpose: no index page, so the healthcheck never passes.',
};

/**
 * The release.yaml fields a build knows. The data directory `web` and the named volume `state`
 * are what the app writes (see compose.yaml); 1.2.0 never gets healthy, so a short timeout keeps
 * its rollback quick.
 */
export function helloBaseRelease(version: HelloVersion): Record<string, unknown> {
  return {
    health: { timeout: version === '1.2.0' ? '15s' : '30s' },
    backup: { paths: ['web'], volumes: ['state'] },
  };
}

/** Builds the image of `version` and writes its build directory `<outDir>/hello-<version>/`. */
export async function writeHelloBuild(version: HelloVersion, outDir: string): Promise<HelloBuild> {
  const dir = join(outDir, `hello-${version}`);
  await mkdir(join(dir, 'images'), { recursive: true });
  const imageId = await buildHelloImage(version);
  const file = join(dir, 'images', `hello-${version}.tar`);
  const archive = await saveImage(helloImageTag(version), file);
  await writeFile(join(dir, 'compose.yaml'), await helloComposeYaml(version));
  await writeFile(join(dir, 'release.yaml'), `# hello ${version}: completed by \`duck release add\`\n${stringify(helloBaseRelease(version))}`);
  return { version, dir, imageId, archive: { file, ...archive } };
}

/**
 * Builds the hello example's release images on this machine (no registry needed):
 *
 *   node --import tsx examples/hello/build.ts [version ...] [--save DIR | --release DIR]
 *
 * Without versions it builds all of them. With --save it also writes DIR/hello-<version>.tar
 * (`docker save`) and prints its sha256 and size, as a release's `archive` names them. With
 * --release it writes DIR/hello-<version>/, the build directory `duck release add --from` takes.
 */
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { buildHelloImage, helloImageTag, HELLO_VERSIONS } from './app.js';
import type { HelloVersion } from './app.js';
import { saveImage } from './busybox-image.js';
import { writeHelloBuild } from './release-build.js';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { save: { type: 'string' }, release: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
});

if (values.help) {
  console.log(`usage: build.ts [${HELLO_VERSIONS.join('|')} ...] [--save DIR | --release DIR]`);
  process.exit(0);
}
if (values.save !== undefined && values.release !== undefined) {
  console.error('--save and --release exclude each other');
  process.exit(2);
}

const unknown = positionals.filter((v) => !(HELLO_VERSIONS as readonly string[]).includes(v));
if (unknown.length > 0) {
  console.error(`unknown version(s): ${unknown.join(', ')}; known: ${HELLO_VERSIONS.join(', ')}`);
  process.exit(2);
}
const versions = positionals.length > 0 ? (positionals as HelloVersion[]) : [...HELLO_VERSIONS];

for (const version of versions) {
  const tag = helloImageTag(version);
  if (values.release !== undefined) {
    const build = await writeHelloBuild(version, values.release);
    console.log(`${tag} ${build.imageId} ${build.dir}`);
    continue;
  }
  const id = await buildHelloImage(version);
  if (values.save === undefined) {
    console.log(`${tag} ${id}`);
  } else {
    const file = join(values.save, `hello-${version}.tar`);
    const archive = await saveImage(tag, file);
    console.log(`${tag} ${id} ${file} sha256:${archive.sha256} ${archive.size}`);
  }
}

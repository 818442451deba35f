/**
 * Builds the hello example's release images on this machine (no registry needed):
 *
 *   node --import tsx examples/hello/build.ts [version ...] [--save DIR]
 *
 * Without versions it builds all of them. With --save it also writes DIR/hello-<version>.tar
 * (`docker save`) and prints its sha256 and size, as a release's `archive` names them.
 */
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { buildHelloImage, helloImageTag, HELLO_VERSIONS } from './app.js';
import type { HelloVersion } from './app.js';
import { saveImage } from './busybox-image.js';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { save: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
});

if (values.help) {
  console.log(`usage: build.ts [${HELLO_VERSIONS.join('|')} ...] [--save DIR]`);
  process.exit(0);
}

const unknown = positionals.filter((v) => !(HELLO_VERSIONS as readonly string[]).includes(v));
if (unknown.length > 0) {
  console.error(`unknown version(s): ${unknown.join(', ')}; known: ${HELLO_VERSIONS.join(', ')}`);
  process.exit(2);
}
const versions = positionals.length > 0 ? (positionals as HelloVersion[]) : [...HELLO_VERSIONS];

for (const version of versions) {
  const tag = helloImageTag(version);
  const id = await buildHelloImage(version);
  if (values.save === undefined) {
    console.log(`${tag} ${id}`);
  } else {
    const file = join(values.save, `hello-${version}.tar`);
    const archive = await saveImage(tag, file);
    console.log(`${tag} ${id} ${file} sha256:${archive.sha256} ${archive.size}`);
  }
}

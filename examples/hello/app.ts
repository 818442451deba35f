/**
 * The hello example's releases: what each version's image holds. 1.0.0 and 1.1.0 serve different
 * pages; 1.2.0 is a broken release (no index page, so its healthcheck never passes) for the
 * rollback path. Every version serves /version.txt and records each start in /data/starts.log
 * (the data directory) and /state/starts.log (a named volume).
 */
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { buildBusyboxImage } from './busybox-image.js';

/** The example's image repository; the tests build theirs under another (test/helpers/images.ts). */
export const HELLO_REPOSITORY = 'duck-example/hello';
/** The app's name in the demo's channel. */
export const HELLO_APP = 'hello';
/** The compose project Duck's agent runs the app as (`duck-<app>`): what cleanup removes. */
export const HELLO_PROJECT = `duck-${HELLO_APP}`;
export const HELLO_VERSIONS = ['1.0.0', '1.1.0', '1.2.0'] as const;
export type HelloVersion = (typeof HELLO_VERSIONS)[number];
/** The compose service of the example stack. */
export const HELLO_SERVICE = 'web';
/** The port httpd listens on inside the container. */
export const HELLO_CONTAINER_PORT = 8080;
/** The example's compose file; its image tag comes from HELLO_VERSION (see helloComposeYaml). */
export const HELLO_COMPOSE_FILE = fileURLToPath(new URL('compose.yaml', import.meta.url));

const PAGES: Record<HelloVersion, string | null> = {
  '1.0.0': 'Hello from Duck, version 1.0.0.',
  '1.1.0': 'Hello again from Duck, version 1.1.0: now with a second paragraph.',
  '1.2.0': null,
};

// PID 1 ignores SIGTERM unless it handles it: the shell stays PID 1 and traps it, so `compose
// stop` takes milliseconds instead of the 10 s kill timeout.
const START_SCRIPT = `set -e
bb=/bin/busybox
$bb mkdir -p /data
echo "$($bb date -u +%Y-%m-%dT%H:%M:%SZ) $HELLO_VERSION" >> /data/starts.log
echo "$($bb date -u +%Y-%m-%dT%H:%M:%SZ) $HELLO_VERSION" >> /state/starts.log
$bb httpd -f -p ${HELLO_CONTAINER_PORT} -h /www &
trap '$bb kill $!; exit 0' TERM INT
wait
`;

export function helloImageTag(version: string, repository = HELLO_REPOSITORY): string {
  return `${repository}:${version}`;
}

/** The files of one version's image (image path -> content). */
export function helloFiles(version: HelloVersion): Record<string, string> {
  const files: Record<string, string> = {
    '/app/start.sh': START_SCRIPT,
    '/www/version.txt': `${version}\n`,
  };
  const page = PAGES[version];
  if (page !== null) {
    files['/www/index.html'] = `<!doctype html>\n<title>hello ${version}</title>\n<h1>${page}</h1>\n`;
  }
  return files;
}

/** Builds `<repository>:<version>` (`duck-example/hello:<version>` unless told); returns the image id. */
export function buildHelloImage(version: HelloVersion, repository = HELLO_REPOSITORY): Promise<string> {
  return buildBusyboxImage(helloImageTag(version, repository), helloFiles(version), {
    cmd: ['/bin/busybox', 'sh', '/app/start.sh'],
    env: { HELLO_VERSION: version },
    labels: { 'org.opencontainers.image.title': repository, 'org.opencontainers.image.version': version },
  });
}

/** The example's compose file with the image pinned, as a release directory publishes it. */
export async function helloComposeYaml(version: string, repository = HELLO_REPOSITORY): Promise<string> {
  const template = await readFile(HELLO_COMPOSE_FILE, 'utf8');
  return template.replace('${HELLO_REPOSITORY:-duck-example/hello}', repository).replace('${HELLO_VERSION:-1.0.0}', version);
}

/**
 * Test images, built at test time FROM scratch with the host's static busybox (no registry is
 * reachable). The building lives with the example app (examples/hello/), which the demo also uses;
 * this is the tests' door to it.
 *
 * The tests' hello is not the demo's: it runs as the app `hello-test` (compose project
 * `duck-hello-test`) from images in the test-only repository `duck-test/hello`, where the demo runs
 * `hello` (`duck-hello`) from `duck-example/hello`. A suite that cleans its project up, or an agent
 * that prunes the images of old releases, never touches a demo running on the same engine.
 */
import type { HelloVersion } from '../../examples/hello/app.js';
import * as hello from '../../examples/hello/app.js';

export { assertStaticExecutable, buildBusyboxImage, BUSYBOX, HTTPD_CMD, imageId, saveImage } from '../../examples/hello/busybox-image.js';
export type { BusyboxImageOptions } from '../../examples/hello/busybox-image.js';
export { helloFiles, HELLO_COMPOSE_FILE, HELLO_CONTAINER_PORT, HELLO_SERVICE, HELLO_VERSIONS } from '../../examples/hello/app.js';
export type { HelloVersion } from '../../examples/hello/app.js';

/** The tests' name for hello in their channels. */
export const HELLO_APP = 'hello-test';
/** The compose project the agent runs the tests' hello as (`duck-<app>`). */
export const HELLO_PROJECT = `duck-${HELLO_APP}`;
/** Where the tests' hello images are tagged. */
export const HELLO_REPOSITORY = 'duck-test/hello';

export function helloImageTag(version: string): string {
  return hello.helloImageTag(version, HELLO_REPOSITORY);
}

export function buildHelloImage(version: HelloVersion): Promise<string> {
  return hello.buildHelloImage(version, HELLO_REPOSITORY);
}

export function helloComposeYaml(version: string): Promise<string> {
  return hello.helloComposeYaml(version, HELLO_REPOSITORY);
}

/** What a suite that runs HELLO_COMPOSE_FILE itself sets, so compose starts the tests' image. */
export function helloComposeEnv(version: string): Record<string, string> {
  return { HELLO_REPOSITORY, HELLO_VERSION: version };
}

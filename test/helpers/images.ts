/**
 * Test images, built at test time FROM scratch with the host's static busybox (no registry is
 * reachable). The building lives with the example app (examples/hello/), which the demo also uses;
 * this is the tests' door to it.
 */
export { assertStaticExecutable, buildBusyboxImage, BUSYBOX, HTTPD_CMD, imageId, saveImage } from '../../examples/hello/busybox-image.js';
export type { BusyboxImageOptions } from '../../examples/hello/busybox-image.js';
export {
  buildHelloImage,
  helloComposeYaml,
  helloFiles,
  helloImageTag,
  HELLO_COMPOSE_FILE,
  HELLO_CONTAINER_PORT,
  HELLO_PROJECT,
  HELLO_REPOSITORY,
  HELLO_SERVICE,
  HELLO_VERSIONS,
} from '../../examples/hello/app.js';
export type { HelloVersion } from '../../examples/hello/app.js';

/**
 * Images built `FROM scratch` with the host's static busybox: no registry is reachable on CI or in
 * the demo, so every image Duck's tests and example run is made here, on the machine. One layer
 * (busybox plus the given files), built by Docker's classic builder so a rebuild of the same files
 * hits the cache and gives the same image id.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { chmod, copyFile, mkdir, mkdtemp, open, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, posix } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** The static busybox copied into every image (Debian's busybox-static); DUCK_BUSYBOX overrides. */
export const BUSYBOX = process.env.DUCK_BUSYBOX ?? '/bin/busybox';

/** What a plain busybox image runs: httpd in the foreground, serving /www on port 8080. */
export const HTTPD_CMD = ['/bin/busybox', 'httpd', '-f', '-p', '8080', '-h', '/www'];

export interface BusyboxImageOptions {
  /** The image's CMD (exec form); default HTTPD_CMD. */
  cmd?: string[];
  env?: Record<string, string>;
  labels?: Record<string, string>;
}

/**
 * Builds `tag` from scratch: /bin/busybox plus `files` (absolute image path -> content). Returns
 * the image id (`sha256:…`).
 */
export async function buildBusyboxImage(
  tag: string,
  files: Record<string, string>,
  options: BusyboxImageOptions = {},
): Promise<string> {
  await assertStaticExecutable(BUSYBOX);
  const context = await mkdtemp(join(tmpdir(), 'duck-image-'));
  try {
    const rootfs = join(context, 'rootfs');
    await mkdir(join(rootfs, 'bin'), { recursive: true });
    await copyFile(BUSYBOX, join(rootfs, 'bin', 'busybox'));
    await chmod(join(rootfs, 'bin', 'busybox'), 0o755);
    for (const [path, content] of Object.entries(files)) {
      const target = join(rootfs, imagePath(path));
      await mkdir(dirname(target), { recursive: true });
      await writeFile(target, content);
    }
    await writeFile(join(context, 'Dockerfile'), dockerfile(options));
    const iidfile = join(context, 'iid');
    await docker(['build', '--quiet', '--iidfile', iidfile, '--tag', tag, context], {
      // The classic builder: BuildKit needs the buildx plugin, which CI's docker client may lack.
      DOCKER_BUILDKIT: '0',
    });
    const id = (await readFile(iidfile, 'utf8')).trim();
    if (!/^sha256:[0-9a-f]{64}$/.test(id)) throw new Error(`docker build of ${tag} gave no image id (got "${id}")`);
    return id;
  } finally {
    await rm(context, { recursive: true, force: true });
  }
}

/** `docker save` of `tag` into `file`; the archive's sha256 (hex) and size, as a release names them. */
export async function saveImage(tag: string, file: string): Promise<{ sha256: string; size: number }> {
  await mkdir(dirname(file), { recursive: true });
  await docker(['save', '--output', file, tag]);
  const hash = createHash('sha256');
  await pipeline(createReadStream(file), hash);
  return { sha256: hash.digest('hex'), size: (await stat(file)).size };
}

/** The image id of `ref`, or null when Docker has no such image. */
export async function imageId(ref: string): Promise<string | null> {
  try {
    const { stdout } = await run('docker', ['image', 'inspect', '--format', '{{.Id}}', ref]);
    return stdout.trim();
  } catch {
    return null;
  }
}

/**
 * A dynamically linked busybox (Debian's plain `busybox` package) starts in no scratch image: the
 * container dies at once with "no such file or directory". Fail here, saying why, instead.
 */
export async function assertStaticExecutable(path: string): Promise<void> {
  const handle = await open(path, 'r').catch((err: unknown) => {
    throw new Error(`${path} is missing: install Debian's busybox-static (${(err as Error).message})`);
  });
  try {
    const header = Buffer.alloc(64);
    await handle.read(header, 0, 64, 0);
    if (header.readUInt32BE(0) !== 0x7f454c46 || header[4] !== 2) {
      throw new Error(`${path} is not a 64-bit ELF executable`);
    }
    const phoff = Number(header.readBigUInt64LE(0x20));
    const phentsize = header.readUInt16LE(0x36);
    const phnum = header.readUInt16LE(0x38);
    const table = Buffer.alloc(phentsize * phnum);
    await handle.read(table, 0, table.length, phoff);
    for (let i = 0; i < phnum; i++) {
      // PT_INTERP: the binary names a dynamic loader, which a scratch image does not have.
      if (table.readUInt32LE(i * phentsize) === 3) {
        throw new Error(`${path} is dynamically linked: install Debian's busybox-static (or set DUCK_BUSYBOX)`);
      }
    }
  } finally {
    await handle.close();
  }
}

function dockerfile(options: BusyboxImageOptions): string {
  const lines = ['FROM scratch', 'COPY rootfs/ /'];
  for (const [key, value] of Object.entries(options.env ?? {})) lines.push(`ENV ${key}=${JSON.stringify(value)}`);
  for (const [key, value] of Object.entries(options.labels ?? {})) {
    lines.push(`LABEL ${JSON.stringify(key)}=${JSON.stringify(value)}`);
  }
  lines.push('EXPOSE 8080', `CMD ${JSON.stringify(options.cmd ?? HTTPD_CMD)}`);
  return lines.join('\n') + '\n';
}

/** "/www/index.html" -> "www/index.html"; refuses relative paths and "..", which would leave the rootfs. */
function imagePath(path: string): string {
  const normal = posix.normalize(path);
  if (!posix.isAbsolute(path) || normal.split('/').includes('..') || normal === '/') {
    throw new Error(`image file path must be absolute and inside the image: "${path}"`);
  }
  return normal.slice(1);
}

async function docker(args: string[], env: Record<string, string> = {}): Promise<string> {
  try {
    const { stdout } = await run('docker', args, { env: { ...process.env, ...env }, maxBuffer: 16 * 1024 * 1024 });
    return stdout;
  } catch (err) {
    const stderr = (err as { stderr?: string }).stderr?.trim();
    throw new Error(`docker ${args[0]} failed: ${stderr || (err as Error).message}`, { cause: err });
  }
}

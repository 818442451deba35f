// The hello example published as a signed release channel: what the e2e suites and the
// apply-downtime bench drive the real agent with. Each release pins its image by tag and image id.
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { stringify } from 'yaml';
import type { AgentState } from '../../agent/src/core/agent-state.js';
import type { AgentNode } from '../../examples/harness/agent-node.js';
import { freeHostPort, removeProject } from '../../examples/harness/compose-project.js';
import type { GitServer } from '../../examples/harness/git-http-server.js';
import type { OpenpgpTestKey } from '../../examples/harness/keys.js';
import { readAgentState } from './agent-state.js';
import type { Channel, Signer } from './channel-builder.js';
import { startChannelHost, type HostNodeOptions } from './channel-builder.js';
import { sha256, writeChannelYaml } from './channel-fixtures.js';
import { volumeMountpoint } from './docker.js';
import type { HelloVersion } from './images.js';
import { buildHelloImage, HELLO_APP, helloComposeYaml, helloImageTag } from './images.js';

export interface HelloReleaseOptions {
  imageId: string;
  /** Overrides for release.yaml (health, migrations, images with an archive...). */
  extra?: Record<string, unknown>;
  healthTimeout?: string;
}

/** releases/<app>/<version>/ with compose.yaml and a release.yaml listing its sha256. */
export async function writeHelloRelease(ch: Channel, version: string, opts: HelloReleaseOptions, app = HELLO_APP): Promise<void> {
  const compose = await helloComposeYaml(version);
  const dir = `releases/${app}/${version}`;
  await ch.write(`${dir}/compose.yaml`, compose);
  const release = {
    app,
    version,
    notes: `hello ${version}`,
    images: [{ ref: helloImageTag(version), id: opts.imageId }],
    health: { timeout: opts.healthTimeout ?? '30s' },
    backup: { paths: ['web'], volumes: ['state'] },
    files: { 'compose.yaml': sha256(compose) },
    ...opts.extra,
  };
  await ch.write(`${dir}/release.yaml`, stringify(release));
}

export async function promoteHello(ch: Channel, version: string, signer: Signer, group = 'production', extra: Record<string, unknown> = {}, app = HELLO_APP): Promise<string> {
  await ch.write(`groups/${group}.yaml`, stringify({ apps: { [app]: version }, ...extra }));
  const oid = await ch.commit(`promote ${app} ${version}`, signer);
  await ch.publish();
  return oid;
}

/**
 * The hello app on a real engine: a signed channel on the test git server holding the given
 * releases (images built now), one agent node trusting the channel's key, and a free host port
 * the operator's overlay publishes the app on.
 */
export interface HelloScenario {
  /** The app's name in the channel (HELLO_APP unless the suite chose its own). */
  readonly app: string;
  /** Its compose project on the engine. */
  readonly project: string;
  readonly root: string;
  readonly server: GitServer;
  readonly key: OpenpgpTestKey;
  readonly ch: Channel;
  readonly node: AgentNode;
  /** The host port the overlay publishes the app on now. */
  readonly port: number;
  /**
   * Writes the operator's overlay: the port, then `extra` YAML (pin, hold, windows...). With
   * `port`, the app is to be published on that port from now on (served() follows).
   */
  writeOverlay(extra?: string, options?: { port?: number }): Promise<void>;
  /** What the running app serves at /version.txt. */
  served(): Promise<string>;
  /** A file in the app's data directory, as the app wrote it (data/web/<name>). */
  dataFile(name: string): string;
  /** The starts log in the app's named volume `state`. */
  volumeStartsLog(): Promise<string>;
  readState(): Promise<AgentState>;
  /**
   * Another node on the same channel and key, with the same overlay. It runs the same compose
   * project on this engine (the agent names it after the app), so the nodes must take turns.
   */
  addNode(opts?: HostNodeOptions): Promise<AgentNode>;
  close(): Promise<void>;
}

export async function startHelloScenario(opts: {
  prefix: string;
  releases: Record<string, Omit<HelloReleaseOptions, 'imageId'>>;
  /**
   * The app's name, HELLO_APP (`hello-test`, never the demo's `hello`) by default: a suite that
   * may share the engine with another run names its own (its compose project is `duck-<app>`).
   */
  app?: string;
  /** The node's `apply` settings (how many backups and releases it keeps). */
  apply?: { keepBackups?: number; keepReleases?: number };
  /** More of the node's config: its group, its controller section. */
  node?: HostNodeOptions;
}): Promise<HelloScenario> {
  const app = opts.app ?? HELLO_APP;
  const project = `duck-${app}`;
  await removeProject(project);
  const host = await startChannelHost(opts.prefix);
  const key = host.rootKey;
  const { ch, url } = await host.channel('hello');
  await writeChannelYaml(ch, { version: 1, signers: [key] });
  for (const [version, release] of Object.entries(opts.releases)) {
    await writeHelloRelease(ch, version, { ...release, imageId: await buildHelloImage(version as HelloVersion) }, app);
  }
  const nodeOptions: HostNodeOptions = { ...opts.node, ...(opts.apply ? { apply: opts.apply } : {}) };
  const node = await host.node(url, nodeOptions);
  let port = await freeHostPort();
  const overlay = (): string => `# the operator's overlay\ncompose:\n  ${app}:\n    env: { HELLO_PORT: "${port}" }\n`;
  const scenario: HelloScenario = {
    app,
    project,
    root: host.root,
    server: host.server,
    key,
    ch,
    node,
    get port() {
      return port;
    },
    writeOverlay: (extra = '', options = {}) => {
      port = options.port ?? port;
      return writeFile(node.overlayFile, `${overlay()}${extra}`);
    },
    served: async () => (await (await fetch(`http://127.0.0.1:${port}/version.txt`)).text()).trim(),
    dataFile: (name) => join(node.stateDir, 'apps', app, 'data', 'web', name),
    volumeStartsLog: async () => readFile(join(await volumeMountpoint(`${project}_state`), 'starts.log'), 'utf8'),
    readState: () => readAgentState(node.stateDir),
    addNode: async (more = {}) => {
      const added = await host.node(url, { ...nodeOptions, ...more });
      await writeFile(added.overlayFile, overlay());
      return added;
    },
    close: async () => {
      await removeProject(project);
      await host.close();
    },
  };
  await scenario.writeOverlay();
  return scenario;
}

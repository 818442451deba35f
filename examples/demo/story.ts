/**
 * The demo's story, one method per stage: set the machine up, then publish, break, revert and pin
 * releases of the hello app while the real agent moves the real stack, each stage checked from the
 * outside (what the app serves, the agent's history and status, the controller's view).
 */
import { chmod, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { HelloVersion } from '../hello/app.js';
import { HELLO_APP, HELLO_PROJECT, HELLO_VERSIONS, helloImageTag } from '../hello/app.js';
import type { HelloBuild } from '../hello/release-build.js';
import { HELLO_NOTES, writeHelloBuild } from '../hello/release-build.js';
import { freeHostPort, removeProject } from '../harness/compose-project.js';
import type { OpenpgpTestKey } from '../harness/keys.js';
import { makeOpenpgpKey } from '../harness/keys.js';
import { removeTempDir } from '../harness/tmp.js';
import { ChannelPublisher, DEMO_GROUP } from './channel-publisher.js';
import type { Cleanup } from './cleanup.js';
import type { ControllerProcess } from './controller-process.js';
import { startController } from './controller-process.js';
import type { DemoNode } from './demo-node.js';
import { DEMO_INTERVAL, makeDemoNode } from './demo-node.js';
import type { GitServer } from '../harness/git-http-server.js';
import { startGitServer } from '../harness/git-http-server.js';
import type { Narrator } from './narrator.js';
import { ensureEngine, stopDockerd } from './prerequisites.js';

/** The compose project the agent runs hello as, with its named volume: nothing of it may outlive the demo. */
const removeHelloProject = (): Promise<void> => removeProject(HELLO_PROJECT);

export const STAGES = ['engine', 'images', 'channel', 'fleet', 'install', 'upgrade', 'rollback', 'revert', 'downgrade', 'pin', 'controller'] as const;

/** The parts of the admin API's agent view the demo shows. */
interface ControllerAgent {
  agentId: string;
  hostname?: string;
  state?: string;
  lastSeenAt: string | null;
  apps?: Array<{ app: string; current: string | null }>;
}
interface ControllerEvent {
  at: string;
  type: string;
  outcome?: string;
  app?: string;
  from?: string | null;
  to?: string | null;
  reason?: string;
}

export class DemoStory {
  private builds = new Map<HelloVersion, HelloBuild>();
  private key!: OpenpgpTestKey;
  private server!: GitServer;
  private channel!: ChannelPublisher;
  private controller!: ControllerProcess;
  private node!: DemoNode;
  private readonly promotions = new Map<string, string>();

  constructor(
    private readonly n: Narrator,
    private readonly cleanup: Cleanup,
    private readonly work: string,
  ) {}

  async run(): Promise<void> {
    await this.n.stage('engine', 'Check the Docker engine', () => this.engine());
    await this.n.stage('images', 'Build the hello images and release build directories', () => this.images());
    await this.n.stage('channel', 'Create a signed release channel from the template and serve it', () => this.makeChannel());
    await this.n.stage('fleet', 'Start the controller and one agent', () => this.fleet());
    await this.n.stage('install', 'Publish hello 1.0.0', () => this.install());
    await this.n.stage('upgrade', 'Publish hello 1.1.0', () => this.upgrade());
    await this.n.stage('rollback', 'Publish hello 1.2.0, a broken release', () => this.rollback());
    await this.n.stage('revert', 'git revert the promotion of 1.2.0', () => this.revertBroken());
    await this.n.stage('downgrade', 'git revert the promotion of 1.1.0 too', () => this.downgrade());
    await this.n.stage('pin', 'The operator pins hello 1.1.0 in the overlay', () => this.pin());
    await this.n.stage('controller', 'What the controller knows', () => this.controllerView());
  }

  /** What the operator needs to keep playing once the story is told. */
  handles(): { dashboard: string; adminToken: string; agentConfig: string } {
    return { dashboard: `${this.controller.url}/`, adminToken: this.controller.adminToken, agentConfig: this.node.node.configFile };
  }

  private async engine(): Promise<string> {
    const engine = await ensureEngine((l) => this.n.say(l), join(this.work, 'engine.log'));
    if (engine.started) this.cleanup.add('stop the dockerd the demo started', () => stopDockerd(engine.started!), 30_000);
    if (engine.installed.length > 0) this.n.say(`installed: ${engine.installed.join(' ')}`);
    // Whatever an interrupted earlier run left under the agent's project name goes first.
    await removeHelloProject();
    return `a Docker engine answers; compose: ${engine.compose}${engine.started ? ' (dockerd started by the demo)' : ''}`;
  }

  private async images(): Promise<string> {
    const out = join(this.work, 'build');
    for (const version of HELLO_VERSIONS) {
      const build = await writeHelloBuild(version, out);
      this.builds.set(version, build);
      this.n.say(`${helloImageTag(version)}  ${build.imageId.slice(0, 19)}  ${build.dir} (image archive ${(build.archive.size / 1e6).toFixed(1)} MB)`);
    }
    return `${HELLO_VERSIONS.length} images built FROM scratch with busybox (kept afterwards: a rebuild hits Docker's cache)`;
  }

  private async makeChannel(): Promise<string> {
    this.key = await makeOpenpgpKey('duck-demo-release-bot');
    const keyFile = join(this.work, 'release-key.asc');
    await writeFile(keyFile, this.key.armoredPrivateKey, { mode: 0o600 });
    await chmod(keyFile, 0o600);
    this.n.say(`signing key made with openpgp.js: ${this.key.fingerprint}`);
    const serverRoot = join(this.work, 'git-server');
    await mkdir(serverRoot, { recursive: true });
    this.server = await startGitServer({ root: serverRoot });
    this.cleanup.add('stop the git server', () => this.server.close());
    this.channel = await ChannelPublisher.create({ dir: join(this.work, 'channel'), keyFile, server: this.server, repo: 'releases.git' });
    const head = await this.channel.push();
    this.n.say(`duck release init --empty (releases-repo-template/ without its example app): ${await this.channel.describeHead()}`);
    this.n.say(`served over git smart HTTP (git http-backend) at ${this.channel.url}`);
    return `channel at ${head.slice(0, 7)}, every commit signed by ${this.key.fingerprint.slice(-16)}`;
  }

  private async fleet(): Promise<string> {
    this.controller = await startController(join(this.work, 'controller'));
    this.cleanup.add('stop duck-controller', () => this.controller.stop());
    this.n.showDashboard({ url: `${this.controller.url}/`, adminToken: this.controller.adminToken });
    this.n.say(`duck-controller serve: ${this.controller.url}`);
    this.node = await makeDemoNode({
      channelUrl: this.channel.url,
      rootKey: this.key,
      controller: { url: this.controller.url, enrollToken: this.controller.enrollToken },
      port: await freeHostPort(),
    });
    this.cleanup.add("remove the agent's temp dir (config, state, the app's data)", () => removeTempDir(this.node.node.dir));
    // The agent leaves stacks running when it stops (a node's apps outlive its agent): remove them.
    this.cleanup.add(`remove the compose project ${HELLO_PROJECT} and its volumes`, removeHelloProject, 60_000);
    this.cleanup.add('stop duck run (SIGTERM: it finishes the step in flight)', async () => void (await this.node.daemon?.stop(30_000)), 45_000);
    await this.node.start();
    await this.node.daemon!.waitFor((e) => e.event === 'cycle', 'the first cycle', { timeoutMs: 60_000 });
    this.n.say(`duck run --config ${this.node.node.configFile}`);
    this.n.say(`agent ${this.node.agentId}, group ${DEMO_GROUP}, polls every ${DEMO_INTERVAL}; hello will listen on 127.0.0.1:${this.node.port}`);
    return 'the agent verified the channel: nothing to run yet';
  }

  /** add + commit, promote + commit, push; then wait for the agent's outcome. */
  private async publish(version: HelloVersion, expected: string, verb: string): Promise<string> {
    const build = this.builds.get(version)!;
    await this.channel.add(HELLO_APP, version, build.dir, HELLO_NOTES[version]);
    this.n.say(`duck release add ${HELLO_APP} ${version} --from ${build.dir}; commit: ${await this.channel.describeHead()}`);
    const mark = this.node.daemon!.events.length;
    this.promotions.set(version, await this.channel.promote(HELLO_APP, version));
    this.n.say(`duck release promote ${DEMO_GROUP} ${HELLO_APP}@${version}; commit: ${await this.channel.describeHead()}`);
    await this.channel.push();
    this.n.say(`git push → ${this.channel.url}; the agent polls every ${DEMO_INTERVAL}`);
    const outcome = await this.node.outcome(version, expected, mark);
    this.narrateChange(mark);
    await this.confirmHistory(version, expected);
    return `${verb}: hello ${version} ${expected} in ${Math.round(Number(outcome.ms ?? 0) / 100) / 10} s of agent time`;
  }

  private async install(): Promise<string> {
    const summary = await this.publish('1.0.0', 'applied', 'installed');
    await this.expectServed('1.0.0');
    return summary;
  }

  private async upgrade(): Promise<string> {
    const summary = await this.publish('1.1.0', 'applied', 'upgraded');
    await this.expectServed('1.1.0');
    const log = await this.node.startsLog();
    if (!/ 1\.0\.0$/m.test(log) || !/ 1\.1\.0$/m.test(log)) throw new Error(`starts.log lost data across the upgrade:\n${log}`);
    this.n.say('data kept: starts.log still holds the 1.0.0 starts, then 1.1.0:');
    for (const line of log.trim().split('\n')) this.n.say(`  ${line}`);
    return summary;
  }

  private async rollback(): Promise<string> {
    await this.publish('1.2.0', 'rolled-back', 'rolled back automatically');
    await this.expectServed('1.1.0');
    const status = await this.node.status();
    if (!status.failed || !JSON.stringify(status.failed).includes('1.2.0')) throw new Error(`duck status does not mark 1.2.0 failed: ${JSON.stringify(status.failed)}`);
    this.n.say('1.2.0 never got healthy: the agent restored the backup, started 1.1.0 again, and marked 1.2.0 failed on this node');
    return 'rolled back: hello 1.1.0 serves again; 1.2.0 is marked failed here (no retry until a new commit)';
  }

  private async revertBroken(): Promise<string> {
    const mark = this.node.daemon!.events.length;
    const oid = await this.revertAndPush('1.2.0');
    const app = await this.waitAccepted(oid);
    const changes = this.node.daemon!.events.slice(mark).filter((e) => e.event === 'change');
    if (changes.length > 0) throw new Error(`the agent changed something: ${JSON.stringify(changes)}`);
    if (app.current !== '1.1.0' || app.desired !== '1.1.0') throw new Error(`expected 1.1.0 to stay, status says ${JSON.stringify(app)}`);
    await this.expectServed('1.1.0');
    this.n.say(`duck status: current ${app.current}, desired ${app.desired}, decision ${app.decision} (${app.reason})`);
    return 'stays on 1.1.0: the failed 1.2.0 is no longer desired, and the previous release already runs, so nothing restarts';
  }

  private async downgrade(): Promise<string> {
    const mark = this.node.daemon!.events.length;
    await this.revertAndPush('1.1.0');
    await this.node.outcome('1.0.0', 'applied', mark);
    this.narrateChange(mark);
    await this.confirmHistory('1.0.0', 'applied');
    await this.expectServed('1.0.0');
    const starts = (await this.node.startsLog()).trim().split('\n');
    this.n.say(`data kept on the way down: starts.log has ${starts.length} lines, the newest "${starts.at(-1)}"`);
    return 'downgraded: hello 1.0.0 runs, with the data 1.1.0 wrote';
  }

  private async pin(): Promise<string> {
    const mark = this.node.daemon!.events.length;
    await this.node.duck('pin', HELLO_APP, '1.1.0');
    this.n.say(`duck pin ${HELLO_APP} 1.1.0 → ${this.node.node.overlayFile} (the agent watches it)`);
    await this.node.outcome('1.1.0', 'applied', mark);
    this.narrateChange(mark);
    await this.confirmHistory('1.1.0', 'applied');
    await this.expectServed('1.1.0');
    const app = (await this.node.status()).apps?.find((a) => a.app === HELLO_APP);
    this.n.say(`duck status: current ${app?.current}, source ${app?.source ?? '?'} (${app?.reason ?? ''}); the channel still says 1.0.0`);
    return 'honoured: the operator\'s pin beats the group file; hello 1.1.0 runs';
  }

  private async controllerView(): Promise<string> {
    const id = this.node.agentId!;
    const deadline = Date.now() + 60_000;
    let last = '';
    for (;;) {
      const view = await this.controller.api<{ agent: ControllerAgent; events: ControllerEvent[] }>(`/api/v1/agents/${encodeURIComponent(id)}`).catch((err: Error) => err);
      if (!(view instanceof Error)) {
        const current = view.agent.apps?.find((a) => a.app === HELLO_APP)?.current;
        const outcomes = view.events.filter((e) => e.app === HELLO_APP && e.outcome).map((e) => `${e.outcome}->${e.to}`);
        // Newest first: the pin's upgrade, the downgrade, the rollback... must all have arrived.
        if (current === '1.1.0' && outcomes[0] === 'applied->1.1.0' && outcomes.includes('rolled-back->1.2.0')) {
          this.n.say(`GET /api/v1/agents/${id} (Authorization: Bearer <admin token>):`);
          this.n.say(`  ${view.agent.hostname ?? id}: state ${view.agent.state ?? '?'}, hello runs ${current}, last report ${view.agent.lastSeenAt}`);
          for (const e of view.events.filter((x) => x.app === HELLO_APP && x.outcome).slice(0, 8)) {
            this.n.say(`  ${e.at}  ${e.type.padEnd(10)} ${String(e.outcome).padEnd(12)} ${e.from ?? '-'} -> ${e.to ?? '-'}  ${e.reason ?? ''}`);
          }
          return `the controller has agent ${id} on hello 1.1.0 with its history`;
        }
        last = `hello ${current ?? 'unknown'}, outcomes ${outcomes.join(', ') || 'none'}`;
      } else last = view.message;
      if (Date.now() > deadline) throw new Error(`the controller did not get the agent's reports within 60 s (last: ${last})`);
      await sleep(1_000);
    }
  }

  private async revertAndPush(version: string): Promise<string> {
    const promotion = this.promotions.get(version)!;
    await this.channel.revert(promotion);
    this.n.say(`git revert ${promotion.slice(0, 7)} + duck release sign: ${await this.channel.describeHead()}`);
    this.n.say(`groups/${DEMO_GROUP}.yaml pins ${HELLO_APP} ${(await this.channel.pinnedVersion(HELLO_APP)) ?? '(nothing)'} again`);
    return this.channel.push();
  }

  /** Polls `duck status --json` until the agent accepted `oid`; returns hello's line. */
  private async waitAccepted(oid: string, timeoutMs = 60_000): Promise<NonNullable<Awaited<ReturnType<DemoNode['status']>>['apps']>[number]> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const status = await this.node.status();
      const app = status.apps?.find((a) => a.app === HELLO_APP);
      if (status.channel.accepted?.commit === oid && app) {
        this.n.say(`the agent accepted ${oid.slice(0, 7)} (signature verified)`);
        return app;
      }
      if (Date.now() > deadline) throw new Error(`the agent did not accept ${oid.slice(0, 7)} within ${timeoutMs} ms`);
      await sleep(1_000);
    }
  }

  private async expectServed(version: string): Promise<void> {
    const served = await this.node.served();
    if (served !== version) throw new Error(`http://127.0.0.1:${this.node.port}/version.txt serves ${served ?? 'nothing'}, expected ${version}`);
    this.n.say(`http://127.0.0.1:${this.node.port}/version.txt → ${served}`);
  }

  private async confirmHistory(version: string, expected: string): Promise<void> {
    const entry = (await this.node.history()).filter((h) => h.to === version).at(-1);
    if (entry?.outcome !== expected) throw new Error(`duck history has no ${expected} -> ${version}: ${JSON.stringify(entry)}`);
    this.n.say(`duck history: ${entry.outcome} ${entry.from ?? '-'} -> ${entry.to} (${entry.reason})`);
  }

  /** The agent's own log lines for the change since `mark`, the steps it journalled. */
  private narrateChange(mark: number): void {
    for (const e of this.node.daemon!.events.slice(mark)) {
      if (e.event === 'change') this.n.say(`agent: change ${String(e.from ?? 'nothing')} -> ${String(e.to)} (${String(e.reason)})`);
      else if (e.event === 'step') this.n.say(`agent:   step ${String(e.step)}${e.ms !== undefined ? ` ${String(e.ms)} ms` : ''}`);
      else if (e.event === 'health') this.n.say(`agent:   health: ${String(e.line)}`);
      else if (e.event === 'step-failed') this.n.say(`agent:   step ${String(e.step)} failed: ${String(e.message)}`);
      else if (e.event === 'rollback') this.n.say(`agent:   rollback to ${String(e.to)}`);
      else if (e.event === 'outcome') this.n.say(`agent: outcome ${String(e.outcome)} (${String(e.reason)})`);
    }
  }
}

// Issue 13: the start of an upgrade's created containers through the engine — which ones, in which
// order, and when only compose's own `up` starts a project as compose would — for both flavours.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { CREATE_ARGS, planStart, startArgs, startServices } from '../../agent/src/core/compose-start.js';
import type { ServiceStatus } from '../../agent/src/ports.js';

const DIR = '/var/lib/duck/apps/shop/releases/1.1.0';

function container(service: string, extra: Partial<ServiceStatus> = {}): ServiceStatus {
  return {
    service,
    container: `duck-shop_${service}_1`,
    containerId: `id-${service}`,
    image: `shop/${service}:1.1.0`,
    imageId: 'sha256:0',
    state: 'created',
    health: 'none',
    exitCode: 0,
    labels: { 'com.docker.compose.project.working_dir': DIR },
    ...extra,
  };
}

const Start = suite('planStart');

Start('dependencies start first, whatever the order of the file; a service with profiles is not started', () => {
  const services = startServices([
    'services:\n  web:\n    image: w\n    depends_on: [api]\n  api:\n    image: a\n    depends_on:\n      db: { condition: service_started }\n  db:\n    image: d\n  debug:\n    image: x\n    profiles: [debug]\n',
  ]);
  const containers = [container('web'), container('db'), container('api')];
  for (const flavor of ['v1', 'v2'] as const) {
    assert.equal(planStart(services, containers, { flavor, workingDir: DIR }), { ids: ['id-db', 'id-api', 'id-web'] }, flavor);
  }
});

Start('every container of a scaled service is started, and one already running (a second run after a kill) too', () => {
  const services = startServices(['services:\n  web:\n    image: w\n']);
  const containers = [container('web', { container: 'duck-shop_web_2', containerId: 'b' }), container('web', { containerId: 'a', state: 'running' })];
  assert.equal(planStart(services, containers, { flavor: 'v2', workingDir: DIR }), { ids: ['a', 'b'] });
});

Start('the override files merge into the release file: a later depends_on counts', () => {
  const services = startServices(['services:\n  web:\n    image: w\n  db:\n    image: d\n', 'services:\n  web:\n    depends_on: [db]\n']);
  assert.equal(planStart(services, [container('web'), container('db')], { flavor: 'v1', workingDir: DIR }), { ids: ['id-db', 'id-web'] });
});

Start('compose starts what the engine would start differently, and says why', () => {
  const cases: Array<[string, 'v1' | 'v2', RegExp]> = [
    ['services:\n  web:\n    image: w\n    depends_on:\n      db: { condition: service_healthy }\n  db:\n    image: d\n', 'v2', /web waits for db \(service_healthy\)/],
    ['services:\n  web:\n    image: w\n    links: [db]\n  db:\n    image: d\n', 'v2', /web has links/],
    ['services:\n  web:\n    image: w\n    network_mode: "service:db"\n  db:\n    image: d\n', 'v2', /shares the network/],
    ['services:\n  web:\n    image: w\n    networks: [a, b]\n  db:\n    image: d\n', 'v1', /web joins 2 networks/],
    ['services:\n  web:\n    image: w\n    depends_on: [db]\n  db:\n    image: d\n    depends_on: [web]\n', 'v2', /cycle/],
    ['services:\n  web:\n    image: w\n    depends_on: [db]\n  db:\n    image: d\n    profiles: [x]\n', 'v2', /depends on db/],
    ['services: [\n', 'v2', /no service/],
  ];
  for (const [text, flavor, why] of cases) {
    const plan = planStart(startServices([text]), [container('web'), container('db')], { flavor, workingDir: DIR });
    assert.ok('composeUp' in plan && why.test(plan.composeUp), `${text} -> ${JSON.stringify(plan)}`);
  }
  // Compose v2 attaches every network when it creates the container: the engine's start is compose's.
  const two = startServices(['services:\n  web:\n    image: w\n    networks: [a, b]\n  db:\n    image: d\n']);
  assert.equal(planStart(two, [container('web'), container('db')], { flavor: 'v2', workingDir: DIR }), { ids: ['id-db', 'id-web'] });
});

Start('containers that are not exactly the created set go to compose, which converges them', () => {
  const services = startServices(['services:\n  web:\n    image: w\n  db:\n    image: d\n']);
  const cases: Array<[ServiceStatus[], RegExp]> = [
    [[container('web')], /service db has no container/],
    [[container('web'), container('db', { labels: { 'com.docker.compose.project.working_dir': '/var/lib/duck/apps/shop/releases/1.0.0' } })], /not one the create made/],
    [[container('web'), container('db'), container('cache')], /duck-shop_cache_1 is not one the create made/],
    [[container('web'), container('db', { state: 'dead' })], /is dead/],
    [[], /has no container/],
  ];
  for (const [containers, why] of cases) {
    const plan = planStart(services, containers, { flavor: 'v2', workingDir: DIR });
    assert.ok('composeUp' in plan && why.test(plan.composeUp), JSON.stringify(plan));
  }
});

Start('the argv: one compose up --no-start that replaces the old containers, one docker start in order', () => {
  assert.equal(CREATE_ARGS, ['up', '--no-start', '--force-recreate', '--remove-orphans']);
  assert.equal(startArgs(['id-db', 'id-web']), ['start', 'id-db', 'id-web']);
});

Start.run();

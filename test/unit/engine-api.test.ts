// Issue 13: the Docker Engine API client's pure parts — whether the socket is the engine the docker
// CLI would use, the request paths, and the list's answer as the rows `docker inspect` gives.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { parseInspect } from '../../agent/src/adapters/compose-cli.js';
import { DEFAULT_SOCKET, engineSocketOf, listedStatuses, listPath, startPath } from '../../agent/src/adapters/engine-api.js';

const Route = suite('engineSocketOf: the socket only where the docker CLI would use it');

Route('DOCKER_HOST unset or empty, no context: the default socket', () => {
  assert.equal(engineSocketOf({}, null), { socketPath: DEFAULT_SOCKET });
  assert.equal(engineSocketOf({ DOCKER_HOST: '' }, '{"auths":{}}'), { socketPath: DEFAULT_SOCKET });
  assert.equal(engineSocketOf({ DOCKER_CONTEXT: 'default' }, '{"currentContext":"default"}'), { socketPath: DEFAULT_SOCKET });
});

Route('DOCKER_HOST unix://path: that socket', () => {
  assert.equal(engineSocketOf({ DOCKER_HOST: 'unix:///run/user/1000/docker.sock' }, null), { socketPath: '/run/user/1000/docker.sock' });
});

Route('a TCP, SSH or relative host keeps the CLI', () => {
  for (const host of ['tcp://10.0.0.1:2376', 'ssh://me@box', 'npipe:////./pipe/docker_engine', 'unix://docker.sock', '/var/run/docker.sock']) {
    const route = engineSocketOf({ DOCKER_HOST: host }, null);
    assert.ok('cli' in route && route.cli.includes(host), `${host}: ${JSON.stringify(route)}`);
  }
});

Route('a context other than default, from DOCKER_CONTEXT or the config file, keeps the CLI', () => {
  assert.equal(engineSocketOf({ DOCKER_CONTEXT: 'remote' }, null), { cli: 'DOCKER_CONTEXT is remote' });
  assert.equal(engineSocketOf({}, '{"currentContext":"rootless"}'), { cli: "the docker config's current context is rootless" });
  assert.equal(engineSocketOf({ DOCKER_HOST: 'unix:///x.sock' }, '{"currentContext":"rootless"}'), { cli: "the docker config's current context is rootless" });
});

Route('a config file that is not a JSON object keeps the CLI (it cannot be known which context it names)', () => {
  for (const text of ['{', '[]', 'null']) assert.equal(engineSocketOf({}, text), { cli: 'the docker config file is not JSON' }, text);
});

const Paths = suite('Engine API request paths');

Paths('the list asks for every container, stopped ones too, of the project by its compose label', () => {
  const path = listPath('duck-shop');
  assert.is(path, '/containers/json?all=1&filters=%7B%22label%22%3A%5B%22com.docker.compose.project%3Dduck-shop%22%5D%7D');
  const filters = new URL(path, 'http://docker').searchParams.get('filters');
  assert.equal(JSON.parse(filters!), { label: ['com.docker.compose.project=duck-shop'] });
});

Paths('start names the container id', () => {
  assert.is(startPath('3823046f82'), '/containers/3823046f82/start');
});

const Rows = suite('the list\'s answer as ServiceStatus rows');

const LABELS = (service: string): Record<string, string> => ({
  'com.docker.compose.project': 'duck-shop',
  'com.docker.compose.service': service,
  'com.docker.compose.oneoff': 'False',
  'com.docker.compose.project.working_dir': '/srv/shop/1.1.0',
});

Rows('the same rows `docker inspect` gives for the same containers: one-offs and unlabelled left out, sorted', () => {
  const listed = [
    { Id: 'id-web', Names: ['/duck-shop_web_1'], Image: 'shop/web:1.1.0', ImageID: 'sha256:w', State: 'running', Status: 'Up 2 minutes (healthy)', Labels: LABELS('web') },
    { Id: 'id-db', Names: ['/duck-shop_db_1'], Image: 'shop/db:1.1.0', ImageID: 'sha256:d', State: 'exited', Status: 'Exited (137) 5 seconds ago', Labels: LABELS('db') },
    { Id: 'id-run', Names: ['/duck-shop_web_run_1'], Image: 'shop/web:1.1.0', ImageID: 'sha256:w', State: 'running', Status: 'Up 1 second', Labels: { ...LABELS('web'), 'com.docker.compose.oneoff': 'True' } },
    { Id: 'id-other', Names: ['/other'], Image: 'x', ImageID: 'sha256:x', State: 'created', Status: 'Created', Labels: { 'com.docker.compose.project': 'duck-shop' } },
  ];
  const inspected = [
    { Id: 'id-web', Name: '/duck-shop_web_1', Image: 'sha256:w', Config: { Image: 'shop/web:1.1.0', Labels: LABELS('web') }, State: { Status: 'running', ExitCode: 0, Health: { Status: 'healthy' } } },
    { Id: 'id-db', Name: '/duck-shop_db_1', Image: 'sha256:d', Config: { Image: 'shop/db:1.1.0', Labels: LABELS('db') }, State: { Status: 'exited', ExitCode: 137 } },
    { Id: 'id-run', Name: '/duck-shop_web_run_1', Image: 'sha256:w', Config: { Image: 'shop/web:1.1.0', Labels: { ...LABELS('web'), 'com.docker.compose.oneoff': 'True' } }, State: { Status: 'running', ExitCode: 0 } },
    { Id: 'id-other', Name: '/other', Image: 'sha256:x', Config: { Image: 'x', Labels: { 'com.docker.compose.project': 'duck-shop' } }, State: { Status: 'created', ExitCode: 0 } },
  ];
  const rows = listedStatuses(listed);
  assert.equal(rows, parseInspect(JSON.stringify(inspected)));
  assert.equal(rows.map((r) => [r.service, r.container, r.state, r.health, r.exitCode]), [
    ['db', 'duck-shop_db_1', 'exited', 'none', 137],
    ['web', 'duck-shop_web_1', 'running', 'healthy', 0],
  ]);
});

Rows('health from the Status text: starting, unhealthy, none', () => {
  const row = (Status: string) => listedStatuses([{ Id: 'i', Names: ['/n'], State: 'running', Status, Labels: LABELS('web') }])[0]!.health;
  assert.is(row('Up 3 seconds (health: starting)'), 'starting');
  assert.is(row('Up 1 minute (unhealthy)'), 'unhealthy');
  assert.is(row('Up 1 minute'), 'none');
  assert.is(row('Created'), 'none');
});

Route.run();
Paths.run();
Rows.run();

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { servicesVerdict } from '../../agent/src/core/health-verdict.js';
import type { HealthVerdict } from '../../agent/src/core/health-verdict.js';
import type { ServiceStatus } from '../../agent/src/ports.js';

function container(service: string, over: Partial<ServiceStatus> = {}): ServiceStatus {
  return {
    service,
    container: `shop-${service}-1`,
    containerId: `${service}-id`,
    image: `example/${service}:1`,
    imageId: `sha256:${'0'.repeat(64)}`,
    state: 'running',
    health: 'none',
    exitCode: 0,
    labels: {},
    ...over,
  };
}

const TABLE: Array<[string, ServiceStatus[], string[] | undefined, HealthVerdict['kind'], RegExp?]> = [
  ['running and healthy', [container('web', { health: 'healthy' })], undefined, 'healthy'],
  ['running without a healthcheck', [container('web', { health: 'none' })], undefined, 'healthy'],
  ['health still starting', [container('web', { health: 'starting' })], undefined, 'pending', /service web: health starting/],
  ['created, not started', [container('web', { state: 'created' })], undefined, 'pending', /service web: created/],
  ['healthcheck failed', [container('web', { health: 'unhealthy' })], undefined, 'failed', /service web is unhealthy/],
  ['exited 1', [container('web', { state: 'exited', exitCode: 1 })], undefined, 'failed', /service web exited with code 1/],
  ['a one-shot job (no healthcheck) exited 0', [container('migrate', { state: 'exited' })], undefined, 'healthy'],
  ['a service with a healthcheck exited 0', [container('web', { state: 'exited', health: 'unhealthy' })], undefined, 'failed', /exited with code 0/],
  ['restarting after a crash', [container('web', { state: 'restarting', exitCode: 137 })], undefined, 'failed', /service web is restarting \(last exit code 137\)/],
  ['restarting after a clean exit', [container('web', { state: 'restarting' })], undefined, 'pending', /restarting/],
  ['dead', [container('web', { state: 'dead', exitCode: 1 })], undefined, 'failed', /service web is dead/],
  ['paused', [container('web', { state: 'paused' })], undefined, 'failed', /service web is paused/],
  ['an expected service without a container', [container('web')], ['db', 'web'], 'pending', /service db has no container/],
  ['every expected service present', [container('db'), container('web')], ['db', 'web'], 'healthy'],
  ['no containers at all', [], undefined, 'pending', /no containers/],
];

for (const [name, services, expected, kind, why] of TABLE) {
  test(`verdict: ${name} -> ${kind}`, () => {
    const verdict = servicesVerdict(services, expected);
    assert.is(verdict.kind, kind, JSON.stringify(verdict));
    if (why && verdict.kind !== 'healthy') assert.match(verdict.why, why);
  });
}

test('a failure anywhere wins over a pending service, and names the failed one', () => {
  const verdict = servicesVerdict([container('api', { health: 'starting' }), container('web', { state: 'exited', exitCode: 2 })]);
  assert.equal(verdict, { kind: 'failed', why: 'service web exited with code 2', service: 'web', state: 'exited with code 2' });
});

test('a pending verdict says which service and what state it waits on', () => {
  const verdict = servicesVerdict([container('web', { health: 'healthy' }), container('worker', { health: 'starting' })]);
  assert.equal(verdict, { kind: 'pending', why: 'service worker: health starting', service: 'worker', state: 'health starting' });
});

test('every container of a scaled service counts', () => {
  const verdict = servicesVerdict([container('web', { health: 'healthy' }), container('web', { container: 'shop-web-2', health: 'unhealthy' })]);
  assert.is(verdict.kind, 'failed');
});

test.run();

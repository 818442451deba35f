// Issue 15 point 5: the systemd adapter of the service-manager port, by the commands it runs.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { systemdServiceManager } from '../../agent/src/adapters/service-systemd.js';

const test = suite('service-systemd');

function recorder() {
  const commands: string[] = [];
  return { commands, run: async (file: string, args: readonly string[]) => void commands.push([file, ...args].join(' ')) };
}

test('the updater starts as its own unit, without waiting for it', async () => {
  const r = recorder();
  await systemdServiceManager({ run: r.run }).startUpdater(['self-update', '--yes']);
  assert.equal(r.commands, ['systemctl start --no-block duck-update.service']);
});

test('an updater with other arguments runs as a transient unit of its own', async () => {
  const r = recorder();
  await systemdServiceManager({ run: r.run, config: '/etc/duck/agent.yaml' }).startUpdater(['self-update', '--yes', '--retry']);
  assert.equal(r.commands, [
    'systemd-run --no-block --collect --unit=duck-update-once --description=Duck agent self-update /usr/bin/duck self-update --yes --retry --config /etc/duck/agent.yaml',
  ]);
});

test('the daemon is stopped and started as duck.service', async () => {
  const r = recorder();
  const service = systemdServiceManager({ run: r.run });
  await service.stopAgent();
  await service.startAgent();
  assert.equal(r.commands, ['systemctl stop duck.service', 'systemctl start duck.service']);
});

test.run();

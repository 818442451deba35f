// `duck run` on a host without Compose (issue 13): Compose is looked for when a change first needs
// it, so a node with nothing to apply runs its cycle; a change that needs it fails naming Compose.
import { mkdir, symlink } from 'node:fs/promises';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { ChannelHost } from '../helpers/channel-builder.js';
import { startChannelHost } from '../helpers/channel-builder.js';
import { writeChannelYaml, writeGroup, writeRelease } from '../helpers/channel-fixtures.js';

const NoCompose = suite<{ host: ChannelHost; bin: string }>('duck run without Compose', {} as never);

NoCompose.before(async (ctx) => {
  ctx.host = await startChannelHost('duck-no-compose-');
  // A PATH holding git alone: no docker, no docker-compose.
  ctx.bin = join(ctx.host.root, 'bin-git-only');
  await mkdir(ctx.bin);
  await symlink('/usr/bin/git', join(ctx.bin, 'git'));
});
NoCompose.after(async (ctx) => ctx.host.close());

NoCompose('with nothing to apply, duck run --once succeeds', async ({ host, bin }) => {
  const { ch, url } = await host.channel();
  await writeChannelYaml(ch, { version: 1, signers: [host.rootKey] });
  await writeGroup(ch, 'production', {});
  await ch.commit('an empty group', host.rootKey);
  await ch.publish();
  const node = await host.node(url);
  const r = await node.duckWith({ PATH: bin }, 'run', '--once');
  assert.is(r.code, 0, r.stderr + r.stdout);
  assert.match(r.stdout, /cycle commit=\w+ changes=0/);
});

NoCompose('a change that needs Compose fails and says so', async ({ host, bin }) => {
  const { ch, url } = await host.channel();
  await writeChannelYaml(ch, { version: 1, signers: [host.rootKey] });
  await writeRelease(ch, 'shop', '1.0.0');
  await writeGroup(ch, 'production', { shop: '1.0.0' });
  await ch.commit('shop 1.0.0', host.rootKey);
  await ch.publish();
  const node = await host.node(url);
  const r = await node.duckWith({ PATH: bin }, 'run', '--once');
  assert.match(r.stdout, /cycle-failed code=config message="no Docker Compose found/);
});

NoCompose.run();

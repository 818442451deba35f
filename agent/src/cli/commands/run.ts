import { defineCommand } from 'citty';
import { openNode } from '../node-handle.js';
import { runDaemon } from '../../node/daemon.js';
import { isClosedPipe } from '../closed-output.js';
import { configArg } from '../common-args.js';
import { serveConsole } from '../console-wiring.js';
import { planListen } from '../../console/listen.js';
import { createLogger } from '../logger.js';
import { COMMAND_META } from './meta.js';

export default defineCommand({
  meta: COMMAND_META.run,
  args: {
    ...configArg,
    'log-format': { type: 'string', description: 'text (default) or json (one JSON object per line)', default: 'text' },
    once: { type: 'boolean', description: 'run one cycle and exit', default: false },
  },
  async run({ args }) {
    const node = await openNode(args.config);
    const controller = new AbortController();
    const stop = (): void => controller.abort();
    // The log is stdout: when its reader goes (`duck run | head`), stop as on SIGTERM, between steps.
    const logClosed = (err: NodeJS.ErrnoException): void => {
      if (isClosedPipe(err)) stop();
    };
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
    process.stdout.on('error', logClosed);
    const log = createLogger(args['log-format']);
    const { consolePort } = node.config;
    // agent.yaml console: served beside the loop, loopback only; its acts go through the same writer.
    const beside =
      consolePort !== null && !args.once
        ? async () => {
            const server = await serveConsole(node, planListen({ port: consolePort }));
            log('console', { url: server.origin });
            return server;
          }
        : undefined;
    try {
      await runDaemon(node, { signal: controller.signal, log, once: args.once, beside });
    } finally {
      process.off('SIGTERM', stop);
      process.off('SIGINT', stop);
      process.stdout.off('error', logClosed);
    }
  },
});

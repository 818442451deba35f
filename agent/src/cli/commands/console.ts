import { defineCommand } from 'citty';
import { DuckError } from '../../../../schemas/errors.js';
import { LOOPBACK, planListen } from '../../console/listen.js';
import { issueLoginToken } from '../../console/login-token.js';
import { daemonPid } from '../../node/session.js';
import { configArg } from '../common-args.js';
import { serveConsole } from '../console-wiring.js';
import { openNode } from '../node-handle.js';
import { COMMAND_META } from './meta.js';

/** The port `duck console` serves on when neither --port nor agent.yaml console.port names one. */
export const DEFAULT_CONSOLE_PORT = 8474;

export default defineCommand({
  meta: COMMAND_META.console,
  args: {
    ...configArg,
    open: { type: 'boolean', description: 'print a one-time login link (valid 5 minutes, once)', default: false },
    port: { type: 'string', description: `the TCP port (agent.yaml console.port, else ${DEFAULT_CONSOLE_PORT})` },
    listen: { type: 'string', description: 'an address other than 127.0.0.1 to listen on: needs --tls-cert and --tls-key' },
    'tls-cert': { type: 'string', description: 'the TLS certificate (PEM) for --listen' },
    'tls-key': { type: 'string', description: 'the TLS private key (PEM) for --listen' },
  },
  async run({ args }) {
    const node = await openNode(args.config);
    const { stateDir, consolePort } = node.config;
    const port = args.port === undefined ? (consolePort ?? DEFAULT_CONSOLE_PORT) : portOf(args.port);
    const daemon = await daemonPid(stateDir);
    // The running daemon serves the console agent.yaml asks for: this command only logs in to it.
    if (daemon !== null && consolePort !== null && args.listen === undefined && port === consolePort) {
      const origin = `http://${LOOPBACK}:${consolePort}`;
      if (!args.open) {
        process.stdout.write(`the console is served by duck run (pid ${daemon}) at ${origin}; duck console --open prints a login link\n`);
        return;
      }
      process.stdout.write(`${origin}/login#${await issueLoginToken(stateDir, node.clock())}\n`);
      return;
    }
    const plan = planListen({ listen: args.listen, port, tlsCert: args['tls-cert'], tlsKey: args['tls-key'] });
    // Listening for the signals before anything is printed: whoever reads the link may stop us at once.
    const stopped = new Promise<void>((stop) => {
      process.once('SIGTERM', stop);
      process.once('SIGINT', stop);
    });
    // A daemon may start, act and write while this console serves: each read opens the node afresh.
    const server = await serveConsole(node, plan, { current: () => openNode(args.config) });
    process.stdout.write(`console at ${server.origin} (Ctrl-C to stop)\n`);
    if (args.open) process.stdout.write(`${server.origin}/login#${await issueLoginToken(stateDir, node.clock())}\n`);
    await stopped;
    await server.close();
  },
});

function portOf(text: string): number {
  const port = Number(text);
  if (!/^\d+$/.test(text) || port > 65535) throw new DuckError('usage', `--port ${text}: give a TCP port (1-65535, or 0 for any free one)`, { field: '--port' });
  return port;
}

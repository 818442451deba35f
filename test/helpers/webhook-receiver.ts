// A webhook receiver on loopback for the controller's alerts: every JSON POST is kept, answered 204.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { AlertPayload } from '../../controller/src/alerts.js';

export interface Receiver {
  url: string;
  received: AlertPayload[];
  close(): Promise<void>;
}

export async function startReceiver(): Promise<Receiver> {
  const received: AlertPayload[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received.push(JSON.parse(Buffer.concat(chunks).toString('utf8')) as AlertPayload);
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/hook`, received, close: () => new Promise((r) => server.close(() => r())) };
}

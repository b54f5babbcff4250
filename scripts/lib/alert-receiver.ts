import { createServer, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { verifySignature } from '../../src/alerts/alert-math';

export interface ReceivedAlert {
  verified: boolean;
  body: Record<string, unknown>;
}

/** A local webhook receiver for the demo: keeps each alert POSTed and checks its signature. */
export class AlertReceiver {
  readonly alerts: ReceivedAlert[] = [];
  private readonly server: Server;

  constructor(private readonly secret: string) {
    this.server = createServer((req, res) => {
      let raw = '';
      req.on('data', (chunk: Buffer) => (raw += chunk.toString('utf8')));
      req.on('end', () => {
        const signature = String(req.headers['x-alert-signature'] ?? '');
        this.alerts.push({
          verified: verifySignature(this.secret, raw, signature),
          body: JSON.parse(raw) as Record<string, unknown>,
        });
        res.writeHead(204).end();
      });
    });
  }

  async start(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/alerts`;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise((resolve) => this.server.close(resolve));
  }
}

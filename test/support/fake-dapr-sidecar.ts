// fake-dapr-sidecar: stands in for the daprd sidecar's HTTP API on 127.0.0.1, for the
// one call the backend makes, POST /v1.0/publish/<pubsub>/<topic>. It records every
// publish so a test can assert on it. With `hang: true` it accepts requests and never
// answers, like a sidecar that is stuck.

import { Recording } from './recording.ts';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Published {
  pubsub: string;
  topic: string;
  contentType: string | undefined;
  body: unknown;
}

export interface FakeDaprSidecar {
  readonly port: number;
  readonly published: Published[];
  /** Every request, published or not, as "METHOD /path". */
  readonly requests: string[];
  /** Resolves when at least n publishes have arrived. */
  waitForPublished(n: number, timeoutMs?: number): Promise<Published[]>;
  close(): Promise<void>;
}

export async function startFakeDaprSidecar(options: { hang?: boolean } = {}): Promise<FakeDaprSidecar> {
  const recording = new Recording<Published>('fake-dapr-sidecar', 'publishes');
  const published = recording.items;
  const requests: string[] = [];

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      requests.push(`${req.method} ${req.url}`);
      const match = /^\/v1\.0\/publish\/([^/]+)\/([^/?]+)$/.exec(req.url ?? '');
      if (req.method === 'POST' && match) {
        const text = Buffer.concat(chunks).toString('utf8');
        let body: unknown = text;
        try {
          body = JSON.parse(text);
        } catch {
          // Recorded as text; the test decides whether that is wrong.
        }
        recording.push({
          pubsub: decodeURIComponent(match[1]!),
          topic: decodeURIComponent(match[2]!),
          contentType: req.headers['content-type'],
          body,
        });
        if (options.hang) return; // never answer
        res.writeHead(204);
        return res.end();
      }
      if (options.hang) return;
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ errorCode: 'ERR_NOT_FOUND', message: `fake-dapr-sidecar: no ${req.method} ${req.url}` }));
    });
  });

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    port,
    published,
    requests,
    waitForPublished(n, timeoutMs = 5000) {
      return recording.waitFor(n, timeoutMs).then(() => published);
    },
    close() {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

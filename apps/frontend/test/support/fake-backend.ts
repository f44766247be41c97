// fake-backend: a stand-in for apps/backend that records every request it is asked, so the
// frontend's forwarding (headers, body, user id) can be asserted on. Answers are scripted per test.
import { once } from 'node:events';
import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RecordedRequest {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
}

export type Responder = (req: RecordedRequest, res: ServerResponse) => void;

export interface FakeBackend {
  origin: string;
  requests: RecordedRequest[];
  /** Replaces how the next requests are answered (default: 200 with a JSON echo). */
  respondWith(responder: Responder): void;
  /** Resolves with the next request once it has fully arrived. */
  nextRequest(): Promise<RecordedRequest>;
  close(): Promise<void>;
}

const echo: Responder = (req, res) => {
  res.writeHead(200, { 'content-type': 'application/json', 'set-cookie': 'backend=leak' });
  res.end(JSON.stringify({ echoed: req.url }));
};

export async function startFakeBackend(): Promise<FakeBackend> {
  const requests: RecordedRequest[] = [];
  let responder: Responder = echo;
  let waiters: ((r: RecordedRequest) => void)[] = [];

  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const recorded: RecordedRequest = {
      method: req.method ?? '',
      url: req.url ?? '',
      headers: req.headers,
      body: Buffer.concat(chunks).toString('utf8'),
    };
    requests.push(recorded);
    const pending = waiters;
    waiters = [];
    for (const resolve of pending) resolve(recorded);
    responder(recorded, res);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;

  return {
    origin: `http://127.0.0.1:${port}`,
    requests,
    respondWith(r) {
      responder = r;
    },
    nextRequest() {
      return new Promise((resolve) => waiters.push(resolve));
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** A loopback port that nothing listens on: taken from the OS, then released. */
export async function closedPort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

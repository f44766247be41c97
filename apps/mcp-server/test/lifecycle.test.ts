// The mcp-server as a process: health, routes, request logs, bad settings, and SIGTERM
// with a tool call in flight. The call is held open by a backend stand-in (below) that
// records the request and answers only when the test says so.

import { Recording } from '../../../test/support/recording.ts';
import { suite } from '../../../test/support/suite.ts';
import * as assert from 'uvu/assert';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { startService } from '../../../test/support/service.ts';

interface HeldRequest {
  method: string;
  path: string;
  userId: string | undefined;
  body: string;
  res: ServerResponse;
}

/** backend-stand-in: records each request and keeps it open until the test answers it. */
async function startBackendStandIn() {
  const recording = new Recording<HeldRequest>('backend-stand-in', 'requests');
  const requests = recording.items;
  const server = createServer((req: IncomingMessage, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const userId = req.headers['x-user-id'];
      recording.push({
        method: req.method ?? '',
        path: req.url ?? '',
        userId: typeof userId === 'string' ? userId : undefined,
        body: Buffer.concat(chunks).toString('utf8'),
        res,
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    nextRequest(n: number, timeoutMs = 5000): Promise<HeldRequest> {
      return recording.waitFor(n, timeoutMs);
    },
    close() {
      server.closeAllConnections();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

const lifecycle = suite('mcp-server lifecycle');

lifecycle('health, routes and one JSON log line per request', async () => {
  const standIn = await startBackendStandIn();
  const mcp = await startService({ name: 'mcp-server', appDir: 'apps/mcp-server', env: { BACKEND_URL: standIn.url } });
  try {
    const health = await fetch(`${mcp.url}/healthz`);
    assert.is(health.status, 200);
    assert.equal(await health.json(), { status: 'ok' });

    const get = await fetch(`${mcp.url}/mcp`);
    assert.is(get.status, 405);
    assert.is(get.headers.get('allow'), 'POST');

    const unknown = await fetch(`${mcp.url}/nope`);
    assert.is(unknown.status, 404);

    const notJson = await fetch(`${mcp.url}/mcp`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'x-user-id': 'lou' },
      body: '{"jsonrpc":',
    });
    assert.is(notJson.status, 400);
    assert.is(((await notJson.json()) as { error: { code: number } }).error.code, -32700);

    await mcp.stop();
    const requests = mcp.jsonLines().filter((l) => l.msg === 'request');
    assert.equal(
      requests.map((l) => [l.method, l.path, l.status]),
      [['GET', '/healthz', 200], ['GET', '/mcp', 405], ['GET', '/nope', 404], ['POST', '/mcp', 400]],
    );
    assert.ok(requests.every((l) => typeof l.ms === 'number'));
    assert.is(standIn.requests.length, 0, 'none of these reached the backend');
  } finally {
    await mcp.stop();
    await standIn.close();
  }
});

lifecycle('a bad setting stops the start with a clear message', async () => {
  let failure: unknown;
  try {
    await startService({ name: 'mcp-server', appDir: 'apps/mcp-server', env: { BACKEND_URL: 'backend-svc:8000' } });
  } catch (err) {
    failure = err;
  }
  assert.match(String(failure), /BACKEND_URL="backend-svc:8000" is not an http\(s\) URL/);
  assert.match(String(failure), /code 2/);
});

lifecycle('SIGTERM with a tool call in flight: the call completes, then exit 0', async () => {
  const standIn = await startBackendStandIn();
  const mcp = await startService({ name: 'mcp-server', appDir: 'apps/mcp-server', env: { BACKEND_URL: standIn.url } });
  const client = new Client({ name: 'todo-mcp-test', version: '0.0.0' });
  try {
    await client.connect(new StreamableHTTPClientTransport(new URL(`${mcp.url}/mcp`), { requestInit: { headers: { 'x-user-id': 'vera' } } }));
    const pending = client.callTool({ name: 'add_task', arguments: { title: 'mid-shutdown' } }).then(
      (result) => ({ result: result as CallToolResult, error: undefined }),
      (error: unknown) => ({ result: undefined, error }),
    );
    const held = await standIn.nextRequest(1);
    assert.equal([held.method, held.path, held.userId], ['POST', '/api/todos', 'vera']);
    assert.equal(JSON.parse(held.body), { title: 'mid-shutdown' });

    mcp.proc.kill('SIGTERM');
    await mcp.waitForLine(/"msg":"shutting down"/);
    const refused = await fetch(`${mcp.url}/healthz`).then(
      () => 'answered',
      (err: Error & { cause?: { code?: string } }) => err.cause?.code ?? String(err),
    );
    assert.is(refused, 'ECONNREFUSED');
    assert.is(mcp.proc.exitCode, null, 'still running while the call is in flight');

    const todo = { id: 7, title: 'mid-shutdown', completed: false, createdAt: new Date().toISOString(), updatedAt: new Date().toISOString() };
    held.res.writeHead(201, { 'content-type': 'application/json' });
    held.res.end(JSON.stringify(todo));

    const outcome = await pending;
    if (outcome.error) assert.unreachable(`the call in flight failed: ${String(outcome.error)}\n${mcp.lines.join('\n')}`);
    assert.not.ok(outcome.result!.isError);
    assert.match(JSON.stringify(outcome.result!.content), /Added task 7: mid-shutdown/);
    assert.equal(await mcp.exited, { code: 0, signal: null });
    const messages = mcp.jsonLines().map((l) => l.msg);
    assert.ok(messages.indexOf('shutting down') < messages.lastIndexOf('request'));
    assert.is(messages.at(-1), 'stopped');
  } finally {
    await client.close().catch(() => undefined);
    await mcp.stop();
    await standIn.close();
  }
});

lifecycle.run();

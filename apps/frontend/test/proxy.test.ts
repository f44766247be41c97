// Forwarding of /api/* to the backend and of /mcp to the MCP server: what passes, what is
// stripped, and what the client gets when either is down. Both upstreams are recording
// stand-ins (fake-backend's recorder; the MCP one is named fake-mcp-server below).
import { suite } from '../../../test/support/suite.ts';
import * as assert from 'uvu/assert';
import { randomUUID } from 'node:crypto';
import { request } from 'node:http';
import { sign } from 'cookie-signature';
import { closedPort, startFakeBackend, type FakeBackend } from './support/fake-backend.ts';
import { startFrontend, type FrontendProcess } from './support/frontend-process.ts';

const test = suite();

const SECRET = `test-secret-${randomUUID()}-${randomUUID()}`;

let backend: FakeBackend;
/** fake-mcp-server: records what the frontend forwards to MCP_URL. */
let mcp: FakeBackend;
let frontend: FrontendProcess;
let down: FrontendProcess | undefined;

test.before(async () => {
  backend = await startFakeBackend();
  mcp = await startFakeBackend();
  frontend = await startFrontend({ BACKEND_URL: backend.origin, MCP_URL: mcp.origin, BETTER_AUTH_SECRET: SECRET });
});

test.after(async () => {
  await frontend?.kill();
  await down?.kill();
  await backend?.close();
  await mcp?.close();
});

const INITIALIZE = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 't', version: '0' } } });
const MCP_HEADERS = { 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-protocol-version': '2025-06-18' };

test.before.each(() => {
  backend.respondWith((req, res) => {
    res.writeHead(200, { 'content-type': 'application/json', 'set-cookie': 'backend=leak' });
    res.end(JSON.stringify({ echoed: req.url }));
  });
  mcp.respondWith((req, res) => {
    res.writeHead(200, { 'content-type': 'application/json', 'set-cookie': 'mcp=leak' });
    res.end(JSON.stringify({ jsonrpc: '2.0', id: 1, result: { echoed: req.url } }));
  });
});

test('/mcp goes to the MCP server as the session user: a client-supplied X-User-Id and cookies stay behind, the body and the protocol version pass', async () => {
  const id = randomUUID();
  const before = backend.requests.length;
  const arrived = mcp.nextRequest();
  const res = await fetch(`${frontend.url}/mcp`, {
    method: 'POST',
    headers: { ...MCP_HEADERS, cookie: `todo_session=${encodeURIComponent(sign(id, SECRET))}; other=1`, 'x-user-id': 'someone-else', authorization: 'Bearer stolen' },
    body: INITIALIZE,
  });
  assert.is(res.status, 200);
  assert.equal(await res.json(), { jsonrpc: '2.0', id: 1, result: { echoed: '/mcp' } });
  assert.equal(res.headers.getSetCookie(), [], "the MCP server's Set-Cookie is not passed on, and a valid session needs none");
  const seen = await arrived;
  assert.equal([seen.method, seen.url, seen.body], ['POST', '/mcp', INITIALIZE]);
  assert.is(seen.headers['x-user-id'], id);
  assert.is(seen.headers['mcp-protocol-version'], '2025-06-18');
  assert.is(seen.headers.accept, 'application/json, text/event-stream');
  assert.is(seen.headers.cookie, undefined);
  assert.is(seen.headers.authorization, undefined);
  assert.is(backend.requests.length, before, 'the backend was not asked');
});

test('/mcp without a session starts one, as the page does: its cookie names the user the MCP server is sent', async () => {
  const arrived = mcp.nextRequest();
  const res = await fetch(`${frontend.url}/mcp`, { method: 'POST', headers: { ...MCP_HEADERS, 'x-user-id': 'someone-else' }, body: INITIALIZE });
  assert.is(res.status, 200);
  const [cookie] = res.headers.getSetCookie();
  assert.match(cookie ?? '', /^todo_session=.*HttpOnly/i);
  const seen = await arrived;
  assert.match(String(seen.headers['x-user-id']), /^[0-9a-f-]{36}$/);
  assert.ok(decodeURIComponent(cookie!.split(';')[0]!.slice('todo_session='.length)).startsWith(`${seen.headers['x-user-id']}.`), 'the cookie signs the id sent on');
});

test('only /mcp and what lies under it go to the MCP server', async () => {
  const before = mcp.requests.length;
  for (const path of ['/mcpx', '/mcp-server', '/api/../mcpx']) {
    const res = await fetch(`${frontend.url}${path}`, { method: 'POST', headers: MCP_HEADERS, body: INITIALIZE });
    assert.is(res.status, 404, path);
  }
  assert.is(mcp.requests.length, before, 'the MCP server was not asked');
});

test('a client-supplied X-User-Id is replaced by the session id; cookies stay behind', async () => {
  const id = randomUUID();
  const arrived = backend.nextRequest();
  const res = await fetch(`${frontend.url}/api/todos`, {
    headers: {
      cookie: `todo_session=${encodeURIComponent(sign(id, SECRET))}; other=1`,
      'x-user-id': 'someone-else',
      'X-Forwarded-User': 'someone-else',
      authorization: 'Bearer stolen',
    },
  });
  assert.is(res.status, 200);
  const seen = await arrived;
  assert.is(seen.headers['x-user-id'], id);
  assert.is(seen.headers.cookie, undefined);
  assert.is(seen.headers.authorization, undefined);
  assert.is(seen.headers['x-forwarded-user'], undefined);
  assert.equal(res.headers.getSetCookie(), [], "the backend's Set-Cookie is not passed to the browser");
});

test('a client-supplied X-User-Id is stripped even without a cookie', async () => {
  const arrived = backend.nextRequest();
  const res = await fetch(`${frontend.url}/api/todos`, { headers: { 'x-user-id': 'someone-else' } });
  assert.is(res.status, 200);
  const seen = await arrived;
  assert.is.not(seen.headers['x-user-id'], 'someone-else');
  assert.match(String(seen.headers['x-user-id']), /^[0-9a-f-]{36}$/);
});

test('method, path, query, body and status pass through both ways', async () => {
  backend.respondWith((req, res) => {
    res.writeHead(201, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ id: 7, title: JSON.parse(req.body).title, completed: false }));
  });
  const arrived = backend.nextRequest();
  const res = await fetch(`${frontend.url}/api/todos?source=test`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ title: 'buy milk' }),
  });
  assert.is(res.status, 201);
  assert.equal(await res.json(), { id: 7, title: 'buy milk', completed: false });
  const seen = await arrived;
  assert.is(seen.method, 'POST');
  assert.is(seen.url, '/api/todos?source=test');
  assert.is(seen.headers['content-type'], 'application/json');
  assert.equal(JSON.parse(seen.body), { title: 'buy milk' });
});

test('backend error statuses reach the browser unchanged', async () => {
  backend.respondWith((_req, res) => {
    res.writeHead(404, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ error: 'Todo 99 not found' }));
  });
  const res = await fetch(`${frontend.url}/api/todos/99`, { method: 'DELETE' });
  assert.is(res.status, 404);
  assert.equal(await res.json(), { error: 'Todo 99 not found' });
});

test('paths that leave /api/ after normalisation are not forwarded', async () => {
  const before = backend.requests.length;
  for (const path of ['/api/../readyz', '/api/%2e%2e/readyz', '/api/%2E%2E/%2E%2E/etc/passwd']) {
    const status = await new Promise<number>((resolve, reject) => {
      const url = new URL(frontend.url);
      request({ host: url.hostname, port: url.port, path }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      }).on('error', reject).end();
    });
    assert.is(status, 404, path);
  }
  assert.is(backend.requests.length, before, 'the backend was not asked');
});

test('bodies over the limit get 413 without reaching the backend', async () => {
  const before = backend.requests.length;
  const res = await fetch(`${frontend.url}/api/todos`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ title: 'x'.repeat(70 * 1024) }),
  });
  assert.is(res.status, 413);
  assert.is(backend.requests.length, before);
});

test('502 with a clear JSON message when the backend is unreachable, and a JSON-RPC error when the MCP server is', async () => {
  down = await startFrontend({ BACKEND_URL: `http://127.0.0.1:${await closedPort()}`, MCP_URL: `http://127.0.0.1:${await closedPort()}`, BETTER_AUTH_SECRET: SECRET });
  const res = await fetch(`${down.url}/api/todos`);
  assert.is(res.status, 502);
  assert.match(res.headers.get('content-type') ?? '', 'application/json');
  const body = (await res.json()) as { error: string };
  assert.match(body.error, /backend is unreachable/);
  // The page itself still loads, so the user sees that message rather than a blank screen.
  assert.is((await fetch(`${down.url}/`)).status, 200);
  const warn = await down.waitForLog((l) => l.msg === 'backend unreachable');
  assert.match(String(warn.cause), /ECONNREFUSED/);

  const rpc = await fetch(`${down.url}/mcp`, { method: 'POST', headers: MCP_HEADERS, body: INITIALIZE });
  assert.is(rpc.status, 502);
  assert.equal(await rpc.json(), { jsonrpc: '2.0', error: { code: -32000, message: 'The MCP server is unreachable right now. Please try again in a moment.' }, id: null });
  assert.match(String((await down.waitForLog((l) => l.msg === 'mcp-server unreachable')).cause), /ECONNREFUSED/);
});

test.run();

// Start-up, health, logging and shutdown of the server process.
import { suite } from '../../../test/support/suite.ts';
import * as assert from 'uvu/assert';
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { request } from 'node:http';
import { sign } from 'cookie-signature';
import { startFakeBackend, type FakeBackend } from './support/fake-backend.ts';
import { exitOf, spawnFrontend, startFrontend, type FrontendProcess } from './support/frontend-process.ts';

const test = suite();

const SECRET = `test-secret-${randomUUID()}-${randomUUID()}`;
const EXIT_DEADLINE_MS = 15_000;

let backend: FakeBackend;
const started: FrontendProcess[] = [];

test.before(async () => {
  backend = await startFakeBackend();
});

test.after(async () => {
  for (const f of started) await f.kill();
  await backend?.close();
});

async function start(): Promise<FrontendProcess> {
  const f = await startFrontend({ BACKEND_URL: backend.origin, BETTER_AUTH_SECRET: SECRET });
  started.push(f);
  return f;
}

async function refusal(env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawnFrontend({ PORT: '0', BACKEND_URL: backend.origin, ...env });
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const timer = setTimeout(() => child.kill('SIGKILL'), EXIT_DEADLINE_MS);
  const code = await exitOf(child);
  clearTimeout(timer);
  return { code, stdout, stderr };
}

test('/healthz answers 200 without starting a session', async () => {
  const f = await start();
  const res = await fetch(`${f.url}/healthz`);
  assert.is(res.status, 200);
  assert.equal(await res.json(), { status: 'ok' });
  assert.equal(res.headers.getSetCookie(), []);
});

test('serves the page and its assets with a strict content security policy', async () => {
  const f = await start();
  const page = await fetch(`${f.url}/`);
  assert.is(page.status, 200);
  const html = await page.text();
  assert.match(html, '<script src="/app.js"');
  assert.match(page.headers.get('content-security-policy') ?? '', "default-src 'self'");
  for (const [path, type] of [['/app.js', 'text/javascript'], ['/style.css', 'text/css']] as const) {
    const res = await fetch(`${f.url}${path}`);
    assert.is(res.status, 200, path);
    assert.match(res.headers.get('content-type') ?? '', type);
    const again = await fetch(`${f.url}${path}`, { headers: { 'if-none-match': res.headers.get('etag') ?? '' } });
    assert.is(again.status, 304, `${path} revalidates`);
  }
  assert.is((await fetch(`${f.url}/nope.js`)).status, 404);
  assert.is((await fetch(`${f.url}/`, { method: 'POST' })).status, 405);
});

test('logs one JSON line per request with method, path, status and ms, and no secrets', async () => {
  const f = await start();
  const id = randomUUID();
  const cookie = `todo_session=${encodeURIComponent(sign(id, SECRET))}`;
  await fetch(`${f.url}/api/todos?token=hidden`, { headers: { cookie } });
  await fetch(`${f.url}/healthz`);
  const apiLine = await f.waitForLog((l) => l.msg === 'request' && l.path === '/api/todos');
  await f.waitForLog((l) => l.msg === 'request' && l.path === '/healthz');
  assert.is(apiLine.method, 'GET');
  assert.is(apiLine.status, 200);
  assert.type(apiLine.ms, 'number');
  const requestLines = f.logs().filter((l) => l.msg === 'request');
  assert.is(requestLines.length, 2);
  const out = f.stdout() + f.stderr();
  for (const secret of [SECRET, id, 'token=hidden', 'todo_session']) assert.not.match(out, secret);
});

test('SIGTERM lets a request in flight finish, refuses new connections, then exits 0', async () => {
  const f = await start();
  let release!: () => void;
  const released = new Promise<void>((resolve) => (release = resolve));
  backend.respondWith((_req, res) => {
    void released.then(() => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify([{ id: 1, title: 'slow', completed: false }]));
    });
  });

  const arrived = backend.nextRequest();
  const inFlight = fetch(`${f.url}/api/todos`);
  await arrived;
  f.child.kill('SIGTERM');
  await f.waitForLog((l) => l.msg === 'shutting down');

  // The listening socket is closed: a new connection is turned away while the old request waits.
  // (RESET when it raced into the backlog just before the listening socket closed.)
  const url = new URL(f.url);
  const refused = request({ host: url.hostname, port: url.port, path: '/healthz', agent: false }).end();
  const [error] = (await once(refused, 'error')) as [NodeJS.ErrnoException];
  assert.ok(['ECONNREFUSED', 'ECONNRESET'].includes(error.code ?? ''), `new connection turned away, got ${error.code}`);
  assert.is(f.child.exitCode, null, 'still running while the request is in flight');

  release();
  const res = await inFlight;
  assert.is(res.status, 200);
  assert.equal(await res.json(), [{ id: 1, title: 'slow', completed: false }]);
  const timer = setTimeout(() => f.child.kill('SIGKILL'), EXIT_DEADLINE_MS);
  const code = await exitOf(f.child);
  clearTimeout(timer);
  assert.is(code, 0);
  await f.waitForLog((l) => l.msg === 'stopped');
});

test('refuses to start without BETTER_AUTH_SECRET, saying how to fix it', async () => {
  const { code, stdout, stderr } = await refusal({});
  assert.is(code, 1);
  assert.match(stderr, 'BETTER_AUTH_SECRET is not set');
  assert.match(stderr, 'at least 32 characters');
  assert.not.match(stdout, 'listening');
});

test('refuses a short BETTER_AUTH_SECRET without printing it', async () => {
  const short = 'too-short-secret-1234';
  const { code, stdout, stderr } = await refusal({ BETTER_AUTH_SECRET: short });
  assert.is(code, 1);
  assert.match(stderr, 'BETTER_AUTH_SECRET is only 21 characters long');
  assert.not.match(stderr + stdout, short);
});

test('refuses a BACKEND_URL that is not an origin', async () => {
  const { code, stderr } = await refusal({ BETTER_AUTH_SECRET: SECRET, BACKEND_URL: 'http://backend-svc:8000/v1' });
  assert.is(code, 1);
  assert.match(stderr, 'BACKEND_URL');
  assert.match(stderr, 'origin only');
});

test('refuses an MCP_URL that is not an origin, naming the /mcp it forwards', async () => {
  const { code, stderr } = await refusal({ BETTER_AUTH_SECRET: SECRET, MCP_URL: 'http://mcp-server-svc:8080/mcp' });
  assert.is(code, 1);
  assert.match(stderr, 'MCP_URL is "http://mcp-server-svc:8080/mcp", but it must be an origin only (no path, query or credentials), because /mcp paths are forwarded unchanged. Use for example http://mcp-server-svc:8080.');
});

test.run();

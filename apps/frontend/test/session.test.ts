// The signed session cookie: issued when missing, kept when valid, replaced when tampered with,
// and its id is what the backend sees as X-User-Id.
import { suite } from '../../../test/support/suite.ts';
import * as assert from 'uvu/assert';
import { randomUUID } from 'node:crypto';
import { parseSetCookie } from 'cookie';
import { sign, unsign } from 'cookie-signature';
import { startFakeBackend, type FakeBackend } from './support/fake-backend.ts';
import { startFrontend, type FrontendProcess } from './support/frontend-process.ts';

const test = suite();

const SECRET = `test-secret-${randomUUID()}-${randomUUID()}`;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

let backend: FakeBackend;
let frontend: FrontendProcess;

test.before(async () => {
  backend = await startFakeBackend();
  frontend = await startFrontend({ BACKEND_URL: backend.origin, BETTER_AUTH_SECRET: SECRET });
});

test.after(async () => {
  await frontend?.kill();
  await backend?.close();
});

function sessionCookieOf(res: Response) {
  const cookies = res.headers.getSetCookie().map((c) => parseSetCookie(c));
  const session = cookies.find((c) => c.name === 'todo_session');
  return session;
}

test('the page issues a signed, HttpOnly, SameSite=Lax session cookie with a random id', async () => {
  const res = await fetch(`${frontend.url}/`);
  assert.is(res.status, 200);
  assert.match(res.headers.get('content-type') ?? '', 'text/html');
  const raw = res.headers.getSetCookie().find((c) => c.startsWith('todo_session='));
  assert.ok(raw, 'a todo_session cookie is set');
  assert.match(raw!, /; HttpOnly/i);
  assert.match(raw!, /; SameSite=Lax/i);
  assert.match(raw!, /; Path=\//i);
  const cookie = sessionCookieOf(res)!;
  const id = unsign(cookie.value!, SECRET);
  assert.type(id, 'string', 'the value verifies with BETTER_AUTH_SECRET');
  assert.match(id as string, UUID);
  assert.is(unsign(cookie.value!, `${SECRET}-other`), false, 'it does not verify with another secret');

  const again = sessionCookieOf(await fetch(`${frontend.url}/`));
  assert.is.not(unsign(again!.value!, SECRET), id, 'each new browser gets its own id');
});

test('a valid cookie is kept and its id is forwarded as X-User-Id', async () => {
  const first = await fetch(`${frontend.url}/`);
  const cookie = sessionCookieOf(first)!;
  const id = unsign(cookie.value!, SECRET) as string;

  const arrived = backend.nextRequest();
  const res = await fetch(`${frontend.url}/api/todos`, { headers: { cookie: `todo_session=${cookie.value}` } });
  assert.is(res.status, 200);
  assert.is(sessionCookieOf(res), undefined, 'no new cookie for a valid session');
  const seen = await arrived;
  assert.is(seen.headers['x-user-id'], id);
});

test('an API call without a cookie starts a session and uses its id', async () => {
  const arrived = backend.nextRequest();
  const res = await fetch(`${frontend.url}/api/todos`);
  assert.is(res.status, 200);
  const cookie = sessionCookieOf(res);
  assert.ok(cookie, 'a cookie is issued on the API response');
  assert.is((await arrived).headers['x-user-id'], unsign(cookie!.value!, SECRET));
});

test('a tampered cookie is replaced by a new session, never trusted', async () => {
  const victim = randomUUID();
  const genuine = sign(victim, SECRET);
  const forgeries = [
    // Someone else's id with the original signature moved over.
    `${randomUUID()}${genuine.slice(victim.length)}`,
    // The right id, signed with a guessed secret.
    sign(victim, 'guessed-secret-guessed-secret-guessed'),
    // The right id, signature dropped.
    victim,
    // Garbage.
    'not-a-session',
  ];
  for (const forged of forgeries) {
    const arrived = backend.nextRequest();
    const res = await fetch(`${frontend.url}/api/todos`, { headers: { cookie: `todo_session=${encodeURIComponent(forged)}` } });
    assert.is(res.status, 200);
    const fresh = sessionCookieOf(res);
    assert.ok(fresh, `a new cookie replaces ${forged}`);
    const freshId = unsign(fresh!.value!, SECRET);
    assert.match(freshId as string, UUID);
    const seen = await arrived;
    assert.is(seen.headers['x-user-id'], freshId);
    assert.is.not(seen.headers['x-user-id'], victim);
  }
});

test('a well-signed value that is not a session id is rejected too', async () => {
  const res = await fetch(`${frontend.url}/`, { headers: { cookie: `todo_session=${encodeURIComponent(sign('admin', SECRET))}` } });
  const fresh = sessionCookieOf(res);
  assert.ok(fresh);
  assert.match(unsign(fresh!.value!, SECRET) as string, UUID);
});

test.run();

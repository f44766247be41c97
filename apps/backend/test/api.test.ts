// The todo API against a real PostgreSQL and the built backend process:
// CRUD, validation errors with reasons, 404s, per-owner isolation, logs.

import { suite } from '../../../test/support/suite.ts';
import * as assert from 'uvu/assert';
import pg from 'pg';
import { startPostgres, type Postgres } from '../../../test/support/postgres.ts';
import { call, startBackend } from '../../../test/support/backend.ts';
import type { Service } from '../../../test/support/service.ts';

interface Todo {
  id: number;
  title: string;
  completed: boolean;
  createdAt: string;
  updatedAt: string;
}

const api = suite<{ pg?: Postgres; backend?: Service }>('backend api');

api.before(async (ctx) => {
  ctx.pg = await startPostgres();
  ctx.backend = await startBackend({ DATABASE_URL: ctx.pg.url });
});

api.after(async (ctx) => {
  await ctx.backend?.stop();
  await ctx.pg?.destroy();
});

const url = (ctx: { backend?: Service }) => ctx.backend!.url;

api('healthz and readyz answer 200 with the database up', async (ctx) => {
  assert.is((await call(url(ctx), 'GET', '/healthz')).status, 200);
  const ready = await call(url(ctx), 'GET', '/readyz');
  assert.is(ready.status, 200);
  assert.equal(ready.body, { status: 'ready' });
});

api('create, read, list, update, complete and delete a todo', async (ctx) => {
  const created = await call<Todo>(url(ctx), 'POST', '/api/todos', { user: 'alice', body: { title: '  buy milk  ' } });
  assert.is(created.status, 201);
  assert.type(created.body.id, 'number');
  assert.is(created.body.title, 'buy milk', 'the title is trimmed');
  assert.is(created.body.completed, false);
  assert.ok(!Number.isNaN(Date.parse(created.body.createdAt)));
  const id = created.body.id;

  const read = await call<Todo>(url(ctx), 'GET', `/api/todos/${id}`, { user: 'alice' });
  assert.is(read.status, 200);
  assert.equal(read.body, created.body);

  const second = await call<Todo>(url(ctx), 'POST', '/api/todos', { user: 'alice', body: { title: 'walk the dog' } });
  const list = await call<Todo[]>(url(ctx), 'GET', '/api/todos', { user: 'alice' });
  assert.is(list.status, 200);
  assert.equal(list.body.map((t) => t.id), [id, second.body.id], 'ordered by id');

  const renamed = await call<Todo>(url(ctx), 'PATCH', `/api/todos/${id}`, { user: 'alice', body: { title: 'buy oat milk' } });
  assert.is(renamed.status, 200);
  assert.is(renamed.body.title, 'buy oat milk');
  assert.is(renamed.body.completed, false);
  assert.ok(Date.parse(renamed.body.updatedAt) >= Date.parse(created.body.updatedAt));

  const completed = await call<Todo>(url(ctx), 'POST', `/api/todos/${id}/complete`, { user: 'alice' });
  assert.is(completed.status, 200);
  assert.is(completed.body.completed, true);
  assert.is(completed.body.title, 'buy oat milk');

  const reopened = await call<Todo>(url(ctx), 'PATCH', `/api/todos/${id}`, { user: 'alice', body: { completed: false } });
  assert.is(reopened.body.completed, false);

  const deleted = await call(url(ctx), 'DELETE', `/api/todos/${id}`, { user: 'alice' });
  assert.is(deleted.status, 204);
  assert.is(deleted.body, '');
  assert.is((await call(url(ctx), 'GET', `/api/todos/${id}`, { user: 'alice' })).status, 404);
  const after = await call<Todo[]>(url(ctx), 'GET', '/api/todos', { user: 'alice' });
  assert.equal(after.body.map((t) => t.id), [second.body.id]);
});

api('todos are stored in PostgreSQL with their owner', async (ctx) => {
  const created = await call<Todo>(url(ctx), 'POST', '/api/todos', { user: 'stored', body: { title: 'persisted' } });
  const client = new pg.Client({ connectionString: ctx.pg!.url });
  await client.connect();
  try {
    const { rows } = await client.query('SELECT owner_id, title, completed FROM todos WHERE id = $1', [created.body.id]);
    assert.equal(rows, [{ owner_id: 'stored', title: 'persisted', completed: false }]);
    const migrations = await client.query('SELECT version FROM schema_migrations ORDER BY version');
    assert.equal(migrations.rows.map((r) => r.version), [1]);
  } finally {
    await client.end();
  }
});

api('invalid bodies are a 400 with the reason', async (ctx) => {
  const cases: Array<[unknown, RegExp]> = [
    [{ title: '' }, /title must not be empty/],
    [{ title: '   ' }, /title must not be empty/],
    [{ title: 'x'.repeat(201) }, /at most 200 characters/],
    [{ title: 42 }, /title must be a string/],
    [{}, /title is required/],
    [{ title: 'ok', done: true }, /Unrecognized key: "done"/],
    [['title'], /body must be a JSON object/],
  ];
  for (const [body, reason] of cases) {
    const res = await call<{ error: string }>(url(ctx), 'POST', '/api/todos', { user: 'alice', body });
    assert.is(res.status, 400, JSON.stringify(body));
    assert.match(res.body.error, reason);
  }
  const notJson = await call<{ error: string }>(url(ctx), 'POST', '/api/todos', {
    user: 'alice',
    rawBody: '{"title":',
    headers: { 'content-type': 'application/json' },
  });
  assert.is(notJson.status, 400);
  assert.match(notJson.body.error, /not valid JSON/);
  const empty = await call<{ error: string }>(url(ctx), 'POST', '/api/todos', { user: 'alice' });
  assert.is(empty.status, 400);

  // 200 characters is the limit, not over it.
  const longest = await call<Todo>(url(ctx), 'POST', '/api/todos', { user: 'alice', body: { title: 'y'.repeat(200) } });
  assert.is(longest.status, 201);

  const id = longest.body.id;
  const patches: Array<[unknown, RegExp]> = [
    [{}, /nothing to change/],
    [{ completed: 'yes' }, /completed must be true or false/],
    [{ title: '' }, /title must not be empty/],
  ];
  for (const [body, reason] of patches) {
    const res = await call<{ error: string }>(url(ctx), 'PATCH', `/api/todos/${id}`, { user: 'alice', body });
    assert.is(res.status, 400, JSON.stringify(body));
    assert.match(res.body.error, reason);
  }
  const unchanged = await call<Todo>(url(ctx), 'GET', `/api/todos/${id}`, { user: 'alice' });
  assert.is(unchanged.body.title, 'y'.repeat(200), 'a refused change changes nothing');
});

api('X-User-Id is required and checked', async (ctx) => {
  const missing = await call<{ error: string }>(url(ctx), 'GET', '/api/todos');
  assert.is(missing.status, 400);
  assert.match(missing.body.error, /X-User-Id/);
  for (const bad of ['a b', 'x'.repeat(65), 'alice;drop', 'a.b', '../x']) {
    const res = await call<{ error: string }>(url(ctx), 'GET', '/api/todos', { headers: { 'x-user-id': bad } });
    assert.is(res.status, 400, bad);
    assert.match(res.body.error, /X-User-Id must be/);
  }
  const post = await call(url(ctx), 'POST', '/api/todos', { body: { title: 'no owner' } });
  assert.is(post.status, 400);
});

api('unknown ids are a 404, malformed ids a 400', async (ctx) => {
  for (const [method, path, body] of [
    ['GET', '/api/todos/999999', undefined],
    ['PATCH', '/api/todos/999999', { completed: true }],
    ['POST', '/api/todos/999999/complete', undefined],
    ['DELETE', '/api/todos/999999', undefined],
  ] as const) {
    const res = await call<{ error: string }>(url(ctx), method, path, { user: 'alice', body });
    assert.is(res.status, 404, `${method} ${path}`);
    assert.match(res.body.error, /todo 999999 not found/);
  }
  for (const bad of ['abc', '0', '-1', '1.5', '99999999999']) {
    const res = await call<{ error: string }>(url(ctx), 'GET', `/api/todos/${bad}`, { user: 'alice' });
    assert.is(res.status, 400, bad);
    assert.match(res.body.error, /todo id must be a whole number/);
  }
  assert.is((await call(url(ctx), 'GET', '/nope')).status, 404);
  const wrongMethod = await call(url(ctx), 'PUT', '/api/todos', { user: 'alice' });
  assert.is(wrongMethod.status, 405);
  assert.is(wrongMethod.headers.get('allow'), 'GET, POST');
});

api('each owner sees and changes only their own todos', async (ctx) => {
  const bobs = await call<Todo>(url(ctx), 'POST', '/api/todos', { user: 'bob', body: { title: 'bob only' } });
  const carols = await call<Todo[]>(url(ctx), 'GET', '/api/todos', { user: 'carol' });
  assert.equal(carols.body, [], 'a new owner starts empty');
  const id = bobs.body.id;
  assert.is((await call(url(ctx), 'GET', `/api/todos/${id}`, { user: 'carol' })).status, 404);
  assert.is((await call(url(ctx), 'PATCH', `/api/todos/${id}`, { user: 'carol', body: { title: 'hijack' } })).status, 404);
  assert.is((await call(url(ctx), 'POST', `/api/todos/${id}/complete`, { user: 'carol' })).status, 404);
  assert.is((await call(url(ctx), 'DELETE', `/api/todos/${id}`, { user: 'carol' })).status, 404);
  const still = await call<Todo>(url(ctx), 'GET', `/api/todos/${id}`, { user: 'bob' });
  assert.equal(still.body, bobs.body, "bob's todo is untouched");
  const bobsList = await call<Todo[]>(url(ctx), 'GET', '/api/todos', { user: 'bob' });
  assert.equal(bobsList.body.map((t) => t.id), [id]);
});

api('one JSON log line per request, without the database URL or password', async (ctx) => {
  const from = ctx.backend!.lines.length;
  await call(url(ctx), 'GET', '/api/todos?secret=query', { user: 'alice' });
  const line = await ctx.backend!.waitForLine((l) => l.includes('"msg":"request"'), undefined, from);
  const entry = JSON.parse(line);
  assert.is(entry.method, 'GET');
  assert.is(entry.path, '/api/todos', 'the query string is not logged');
  assert.is(entry.status, 200);
  assert.type(entry.ms, 'number');
  assert.type(entry.time, 'string');
  const all = ctx.backend!.lines.join('\n') + ctx.backend!.stderr();
  assert.not.ok(all.includes(ctx.pg!.password), 'the password is not logged');
  assert.not.ok(all.includes(ctx.pg!.url), 'the URL is not logged');
  for (const l of ctx.backend!.lines) assert.not.throws(() => JSON.parse(l), `not JSON: ${l}`);
});

api.run();

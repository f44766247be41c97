// Readiness follows the database: down -> /readyz 503 and API 503 while /healthz stays
// 200; back -> 200 again. The backend also starts with no database at all and
// migrates once one answers; migrations run once per version.

import { suite } from '../../../test/support/suite.ts';
import * as assert from 'uvu/assert';
import pg from 'pg';
import { startPostgres, type Postgres } from '../../../test/support/postgres.ts';
import { call, startBackend } from '../../../test/support/backend.ts';
import type { Service } from '../../../test/support/service.ts';

const readiness = suite<{ pg?: Postgres; backends: Service[] }>('backend readiness', { backends: [] });

readiness.before(async (ctx) => {
  ctx.pg = await startPostgres();
});

readiness.after(async (ctx) => {
  for (const backend of ctx.backends) await backend.stop();
  await ctx.pg?.destroy();
});

readiness.after.each(async (ctx) => {
  // A failed test must not leave the next one without its database.
  if (ctx.pg && !ctx.pg.running) await ctx.pg.start();
});

readiness('database stops: readyz 503 and API 503, healthz 200; database returns: 200', async (ctx) => {
  const backend = await startBackend({ DATABASE_URL: ctx.pg!.url });
  ctx.backends.push(backend);
  assert.is((await call(backend.url, 'GET', '/readyz')).status, 200);
  const created = await call(backend.url, 'POST', '/api/todos', { user: 'dora', body: { title: 'survives restarts' } });
  assert.is(created.status, 201);

  await ctx.pg!.stop();
  const down = await call<{ status: string; reason: string }>(backend.url, 'GET', '/readyz');
  assert.is(down.status, 503);
  assert.is(down.body.status, 'not ready');
  assert.match(down.body.reason, /database unreachable/);
  const api = await call<{ error: string }>(backend.url, 'GET', '/api/todos', { user: 'dora' });
  assert.is(api.status, 503);
  assert.match(api.body.error, /database unavailable/);
  assert.is((await call(backend.url, 'GET', '/healthz')).status, 200, 'the process is alive');

  await ctx.pg!.start();
  assert.is((await call(backend.url, 'GET', '/readyz')).status, 200);
  const list = await call<Array<{ title: string }>>(backend.url, 'GET', '/api/todos', { user: 'dora' });
  assert.is(list.status, 200);
  assert.equal(list.body.map((t) => t.title), ['survives restarts']);
});

readiness('starts while the database is down, migrates when it comes up', async (ctx) => {
  // A second, fresh database so the schema really is missing.
  const fresh = await startPostgres();
  try {
    await fresh.stop();
    const started = Date.now();
    const backend = await startBackend({ DATABASE_URL: fresh.url });
    ctx.backends.push(backend);
    const startupMs = Date.now() - started;
    assert.ok(startupMs < 5000, `listening after ${startupMs} ms although the database is down`);
    assert.is((await call(backend.url, 'GET', '/healthz')).status, 200);
    assert.is((await call(backend.url, 'GET', '/readyz')).status, 503);
    assert.is((await call(backend.url, 'POST', '/api/todos', { user: 'erin', body: { title: 'early' } })).status, 503);
    await backend.waitForLine(/"msg":"database not ready, will retry"/);

    await fresh.start();
    assert.is((await call(backend.url, 'GET', '/readyz')).status, 200, 'ready once the database answers');
    await backend.waitForLine(/"msg":"database schema ready","applied":\[1\]/);
    const created = await call(backend.url, 'POST', '/api/todos', { user: 'erin', body: { title: 'late' } });
    assert.is(created.status, 201);
    const all = backend.lines.join('\n');
    assert.not.ok(all.includes(fresh.password), 'retry warnings do not show the password');
  } finally {
    await fresh.destroy();
  }
});

readiness('a restart applies no migration twice and keeps the data', async (ctx) => {
  const first = await startBackend({ DATABASE_URL: ctx.pg!.url });
  ctx.backends.push(first);
  assert.is((await call(first.url, 'GET', '/readyz')).status, 200);
  await call(first.url, 'POST', '/api/todos', { user: 'frank', body: { title: 'kept' } });
  assert.is((await first.stop()).code, 0);

  const second = await startBackend({ DATABASE_URL: ctx.pg!.url });
  ctx.backends.push(second);
  assert.is((await call(second.url, 'GET', '/readyz')).status, 200);
  await second.waitForLine(/"msg":"database schema ready","applied":\[\]/);
  const list = await call<Array<{ title: string }>>(second.url, 'GET', '/api/todos', { user: 'frank' });
  assert.equal(list.body.map((t) => t.title), ['kept']);
});

readiness('a database that lost its schema is migrated again', async (ctx) => {
  const backend = await startBackend({ DATABASE_URL: ctx.pg!.url });
  ctx.backends.push(backend);
  assert.is((await call(backend.url, 'GET', '/readyz')).status, 200);
  const client = new pg.Client({ connectionString: ctx.pg!.url });
  await client.connect();
  try {
    // What an embedded PostgreSQL restarted without its volume looks like to the app.
    await client.query('DROP TABLE todos; DROP TABLE schema_migrations;');
  } finally {
    await client.end();
  }
  const lost = await call<{ error: string }>(backend.url, 'GET', '/api/todos', { user: 'gus' });
  assert.is(lost.status, 503);
  assert.match(lost.body.error, /database unavailable/);
  assert.is((await call(backend.url, 'GET', '/readyz')).status, 200, 'readiness migrates again');
  const created = await call(backend.url, 'POST', '/api/todos', { user: 'gus', body: { title: 'after the loss' } });
  assert.is(created.status, 201);
  await backend.waitForLine(/"msg":"database schema missing, migrating again"/);
});

readiness('without DATABASE_URL: alive, not ready, and says why', async (ctx) => {
  const backend = await startBackend({});
  ctx.backends.push(backend);
  assert.is((await call(backend.url, 'GET', '/healthz')).status, 200);
  const ready = await call<{ reason: string }>(backend.url, 'GET', '/readyz');
  assert.is(ready.status, 503);
  assert.is(ready.body.reason, 'DATABASE_URL is not set');
  const api = await call(backend.url, 'GET', '/api/todos', { user: 'gina' });
  assert.is(api.status, 503);
  await backend.waitForLine(/"level":"error","msg":"DATABASE_URL is not set/);
});

readiness('a bad setting stops the start with a clear message', async () => {
  let failure: unknown;
  try {
    await startBackend({ PORT: '70000' });
  } catch (err) {
    failure = err;
  }
  assert.instance(failure, Error);
  assert.match(String(failure), /PORT="70000" is not a TCP port/);
  assert.match(String(failure), /code 2/);
});

readiness.run();

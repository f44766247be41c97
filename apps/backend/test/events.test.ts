// todo.changed events through the Dapr pub/sub API, against the fake-dapr-sidecar,
// and the promise that a dead or stuck sidecar never fails a request.

import { suite } from '../../../test/support/suite.ts';
import * as assert from 'uvu/assert';
import { startPostgres, type Postgres } from '../../../test/support/postgres.ts';
import { call, startBackend } from '../../../test/support/backend.ts';
import { startFakeDaprSidecar } from '../../../test/support/fake-dapr-sidecar.ts';
import { freePort } from '../../../lib/free-port.ts';

const events = suite<{ pg?: Postgres }>('backend events');

events.before(async (ctx) => {
  ctx.pg = await startPostgres();
});

events.after(async (ctx) => {
  await ctx.pg?.destroy();
});

events('each change publishes todo.changed to the pubsub component', async (ctx) => {
  const sidecar = await startFakeDaprSidecar();
  const backend = await startBackend({ DATABASE_URL: ctx.pg!.url, DAPR_HTTP_PORT: String(sidecar.port) });
  try {
    const created = await call<{ id: number }>(backend.url, 'POST', '/api/todos', { user: 'nina', body: { title: 'publish me' } });
    const id = created.body.id;
    await sidecar.waitForPublished(1);
    await call(backend.url, 'PATCH', `/api/todos/${id}`, { user: 'nina', body: { title: 'renamed' } });
    await sidecar.waitForPublished(2);
    await call(backend.url, 'POST', `/api/todos/${id}/complete`, { user: 'nina' });
    await sidecar.waitForPublished(3);
    await call(backend.url, 'DELETE', `/api/todos/${id}`, { user: 'nina' });
    await sidecar.waitForPublished(4);
    // Reads and refused changes publish nothing.
    await call(backend.url, 'GET', '/api/todos', { user: 'nina' });
    await call(backend.url, 'DELETE', `/api/todos/${id}`, { user: 'nina' });
    await call(backend.url, 'POST', '/api/todos', { user: 'nina', body: { title: '' } });
    await call(backend.url, 'POST', '/api/todos', { user: 'nina', body: { title: 'the marker' } });
    await sidecar.waitForPublished(5);

    const published = sidecar.published;
    assert.is(published.length, 5);
    for (const p of published) {
      assert.is(p.pubsub, 'pubsub');
      assert.is(p.topic, 'todo.changed');
      assert.match(p.contentType ?? '', /application\/json/);
    }
    const bodies = published.map((p) => p.body as { action: string; userId: string; todoId: number; todo?: { title: string; completed: boolean }; at: string });
    assert.equal(bodies.map((b) => b.action), ['created', 'updated', 'completed', 'deleted', 'created']);
    assert.ok(bodies.slice(0, 4).every((b) => b.userId === 'nina' && b.todoId === id));
    assert.is(bodies[0]!.todo!.title, 'publish me');
    assert.is(bodies[1]!.todo!.title, 'renamed');
    assert.is(bodies[2]!.todo!.completed, true);
    assert.is(bodies[3]!.todo, undefined);
    assert.ok(!Number.isNaN(Date.parse(bodies[0]!.at)));
  } finally {
    await backend.stop();
    await sidecar.close();
  }
});

events('a dead sidecar port does not fail the request', async (ctx) => {
  const deadPort = await freePort(); // nothing listens there
  const backend = await startBackend({ DATABASE_URL: ctx.pg!.url, DAPR_HTTP_PORT: String(deadPort) });
  try {
    const created = await call(backend.url, 'POST', '/api/todos', { user: 'omar', body: { title: 'still saved' } });
    assert.is(created.status, 201);
    const warning = JSON.parse(await backend.waitForLine(/"msg":"event not published"/));
    assert.is(warning.level, 'warn');
    assert.is(warning.code, 'ECONNREFUSED');
    const list = await call<unknown[]>(backend.url, 'GET', '/api/todos', { user: 'omar' });
    assert.is(list.body.length, 1);
  } finally {
    await backend.stop();
  }
});

events('a stuck sidecar neither delays the request nor the shutdown for long', async (ctx) => {
  const sidecar = await startFakeDaprSidecar({ hang: true });
  const backend = await startBackend({ DATABASE_URL: ctx.pg!.url, DAPR_HTTP_PORT: String(sidecar.port) });
  try {
    const created = await call(backend.url, 'POST', '/api/todos', { user: 'pia', body: { title: 'no waiting' } });
    assert.is(created.status, 201, 'answered while the publish hangs');
    await sidecar.waitForPublished(1);
    const exit = await backend.stop('SIGTERM');
    assert.equal(exit, { code: 0, signal: null });
    const warning = JSON.parse(await backend.waitForLine(/"msg":"event not published"/));
    assert.match(String(warning.error), /timeout|aborted/i, 'the publish gave up on its own timeout');
  } finally {
    await backend.stop();
    await sidecar.close();
  }
});

events.run();

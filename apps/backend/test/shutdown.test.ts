// SIGTERM: stop accepting, finish the requests in flight, close the pool, exit 0.
// The request held in flight is a chat request whose model answer (from the
// openai-stand-in) the test releases only after the signal was handled.

import { suite } from '../../../test/support/suite.ts';
import * as assert from 'uvu/assert';
import { startPostgres, type Postgres } from '../../../test/support/postgres.ts';
import { call, startBackend } from '../../../test/support/backend.ts';
import { startOpenAIStandIn, type OpenAIStandIn } from '../../../test/support/openai-stand-in.ts';

const shutdown = suite<{ pg?: Postgres; model?: OpenAIStandIn }>('backend shutdown');

shutdown.before(async (ctx) => {
  ctx.pg = await startPostgres();
  ctx.model = await startOpenAIStandIn(() => ({ content: 'unscripted' }));
});

shutdown.after(async (ctx) => {
  await ctx.model?.close();
  await ctx.pg?.destroy();
});

shutdown('SIGTERM with a request in flight: the request completes, then exit 0', async (ctx) => {
  const backend = await startBackend({
    DATABASE_URL: ctx.pg!.url,
    OPENAI_API_KEY: 'sk-test-shutdown',
    OPENAI_BASE_URL: ctx.model!.baseUrl,
  });
  let release: () => void = () => undefined;
  const held = new Promise<void>((resolve) => (release = resolve));
  ctx.model!.setScript(async (request) => {
    if ((request.body.messages ?? []).some((m) => m.role === 'tool')) return { content: 'Added it.' };
    await held; // the model "thinks" until the test says so
    return { toolCalls: [{ name: 'add_task', arguments: { title: 'written during shutdown' } }] };
  });
  try {
    const first = ctx.model!.requests.length;
    // Settled into a value at once, so a broken connection is a test failure with the
    // backend's log, not an unhandled rejection.
    const inFlight = call<{ reply: string }>(backend.url, 'POST', '/api/chat', { user: 'quinn', body: { message: 'add it' } }).then(
      (reply) => ({ reply, error: undefined }),
      (error: unknown) => ({ reply: undefined, error }),
    );
    await ctx.model!.waitForRequests(first + 1); // the request is now inside the backend

    backend.proc.kill('SIGTERM');
    await backend.waitForLine(/"msg":"shutting down"/);
    // No new connections once shutdown has begun.
    const refused = await fetch(`${backend.url}/healthz`).then(
      () => 'answered',
      (err: Error & { cause?: { code?: string } }) => err.cause?.code ?? String(err),
    );
    assert.is(refused, 'ECONNREFUSED');
    assert.is(backend.proc.exitCode, null, 'still running while a request is in flight');

    release();
    const outcome = await inFlight;
    if (outcome.error) {
      assert.unreachable(`the request in flight failed: ${String(outcome.error)}\n${backend.lines.join('\n')}\n${backend.stderr()}`);
    }
    const res = outcome.reply!;
    assert.is(res.status, 200);
    assert.is(res.body.reply, 'Added it.');
    const exit = await backend.exited;
    assert.equal(exit, { code: 0, signal: null });

    const messages = backend.jsonLines().map((l) => l.msg);
    const order = ['shutting down', 'request', 'stopped'].map((m) => messages.lastIndexOf(m));
    assert.ok(order[0]! < order[1]! && order[1]! < order[2]!, `shutting down, the chat request, stopped: ${messages.join(', ')}`);
    const last = backend.jsonLines().filter((l) => l.msg === 'request').at(-1)!;
    assert.equal([last.path, last.status], ['/api/chat', 200]);
  } finally {
    release();
    await backend.stop();
  }

  // The todo the in-flight request created is really stored.
  const after = await startBackend({ DATABASE_URL: ctx.pg!.url });
  try {
    const list = await call<Array<{ title: string }>>(after.url, 'GET', '/api/todos', { user: 'quinn' });
    assert.equal(list.body.map((t) => t.title), ['written during shutdown']);
  } finally {
    await after.stop();
  }
});

shutdown('SIGTERM when idle, with keep-alive connections open: exit 0', async (ctx) => {
  const backend = await startBackend({ DATABASE_URL: ctx.pg!.url });
  try {
    // fetch keeps its connection alive; shutdown must not wait on idle ones.
    assert.is((await call(backend.url, 'GET', '/api/todos', { user: 'rita' })).status, 200);
    const exit = await backend.stop('SIGTERM', 8000);
    assert.equal(exit, { code: 0, signal: null });
    await backend.waitForLine(/"msg":"stopped"/);
  } finally {
    await backend.stop();
  }
});

shutdown.run();

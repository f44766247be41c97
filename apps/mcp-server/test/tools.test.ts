// The MCP server through the SDK's own client (StreamableHTTPClientTransport), against
// the real backend on a real PostgreSQL: each tool does what it says, which the test
// checks through the backend's REST API.

import { suite } from '../../../test/support/suite.ts';
import * as assert from 'uvu/assert';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { startPostgres, type Postgres } from '../../../test/support/postgres.ts';
import { call, startBackend } from '../../../test/support/backend.ts';
import { startService, type Service } from '../../../test/support/service.ts';
import { freePort } from '../../../lib/free-port.ts';

interface Todo {
  id: number;
  title: string;
  completed: boolean;
}

interface Ctx {
  pg?: Postgres;
  backend?: Service;
  mcp?: Service;
  client?: Client;
}

const tools = suite<Ctx>('mcp-server tools');

async function connect(url: string): Promise<Client> {
  const client = new Client({ name: 'todo-mcp-test', version: '0.0.0' });
  await client.connect(new StreamableHTTPClientTransport(new URL(`${url}/mcp`)));
  return client;
}

tools.before(async (ctx) => {
  ctx.pg = await startPostgres();
  ctx.backend = await startBackend({ DATABASE_URL: ctx.pg.url });
  ctx.mcp = await startService({ name: 'mcp-server', appDir: 'apps/mcp-server', env: { BACKEND_URL: ctx.backend.url } });
  ctx.client = await connect(ctx.mcp.url);
});

tools.after(async (ctx) => {
  await ctx.client?.close();
  await ctx.mcp?.stop();
  await ctx.backend?.stop();
  await ctx.pg?.destroy();
});

async function run(ctx: Ctx, name: string, args: Record<string, unknown>): Promise<CallToolResult> {
  return (await ctx.client!.callTool({ name, arguments: args })) as CallToolResult;
}

function text(result: CallToolResult): string {
  return result.content.map((c) => (c.type === 'text' ? c.text : '')).join('\n');
}

/** The JSON part of a successful tool result. */
function data<T>(result: CallToolResult): T {
  assert.not.ok(result.isError, `tool failed: ${text(result)}`);
  const json = result.content.filter((c) => c.type === 'text').at(-1);
  return JSON.parse(json && json.type === 'text' ? json.text : 'null') as T;
}

const rest = (ctx: Ctx, user: string) => call<Todo[]>(ctx.backend!.url, 'GET', '/api/todos', { user }).then((r) => r.body);

tools('the server lists exactly the five todo tools, each needing user_id', async (ctx) => {
  const { tools: listed } = await ctx.client!.listTools();
  assert.equal(listed.map((t) => t.name).sort(), ['add_task', 'complete_task', 'delete_task', 'list_tasks', 'update_task']);
  for (const tool of listed) {
    assert.ok(tool.description, `${tool.name} has a description`);
    assert.ok(tool.inputSchema.required?.includes('user_id'), `${tool.name} requires user_id`);
  }
  assert.equal(ctx.client!.getServerVersion()?.name, 'todo-mcp-server');
});

tools('add_task creates the task in the backend', async (ctx) => {
  const result = await run(ctx, 'add_task', { user_id: 'mia', title: '  water the plants ' });
  const todo = data<Todo>(result);
  assert.is(todo.title, 'water the plants');
  assert.is(todo.completed, false);
  assert.match(text(result), new RegExp(`Added task ${todo.id}: water the plants`));
  assert.equal(await rest(ctx, 'mia'), [await call<Todo>(ctx.backend!.url, 'GET', `/api/todos/${todo.id}`, { user: 'mia' }).then((r) => r.body)]);
  assert.equal((await rest(ctx, 'mia')).map((t) => t.title), ['water the plants']);
});

tools('list_tasks returns the user\'s tasks, all or filtered by status', async (ctx) => {
  const a = await call<Todo>(ctx.backend!.url, 'POST', '/api/todos', { user: 'noah', body: { title: 'a' } });
  const b = await call<Todo>(ctx.backend!.url, 'POST', '/api/todos', { user: 'noah', body: { title: 'b' } });
  await call(ctx.backend!.url, 'POST', `/api/todos/${b.body.id}/complete`, { user: 'noah' });

  const all = data<Todo[]>(await run(ctx, 'list_tasks', { user_id: 'noah' }));
  assert.equal(all.map((t) => [t.id, t.title, t.completed]), [[a.body.id, 'a', false], [b.body.id, 'b', true]]);
  assert.equal(data<Todo[]>(await run(ctx, 'list_tasks', { user_id: 'noah', status: 'all' })), all);
  assert.equal(data<Todo[]>(await run(ctx, 'list_tasks', { user_id: 'noah', status: 'pending' })).map((t) => t.id), [a.body.id]);
  assert.equal(data<Todo[]>(await run(ctx, 'list_tasks', { user_id: 'noah', status: 'completed' })).map((t) => t.id), [b.body.id]);
  assert.equal(data<Todo[]>(await run(ctx, 'list_tasks', { user_id: 'nobody-yet' })), []);
});

tools('complete_task marks the task completed in the backend', async (ctx) => {
  const created = await call<Todo>(ctx.backend!.url, 'POST', '/api/todos', { user: 'olga', body: { title: 'file taxes' } });
  const todo = data<Todo>(await run(ctx, 'complete_task', { user_id: 'olga', task_id: created.body.id }));
  assert.is(todo.completed, true);
  const stored = await call<Todo>(ctx.backend!.url, 'GET', `/api/todos/${created.body.id}`, { user: 'olga' });
  assert.is(stored.body.completed, true);
});

tools('update_task changes the title and the completed state', async (ctx) => {
  const created = await call<Todo>(ctx.backend!.url, 'POST', '/api/todos', { user: 'paul', body: { title: 'draft' } });
  const id = created.body.id;
  assert.is(data<Todo>(await run(ctx, 'update_task', { user_id: 'paul', task_id: id, title: 'final' })).title, 'final');
  assert.is(data<Todo>(await run(ctx, 'update_task', { user_id: 'paul', task_id: id, completed: true })).completed, true);
  const reopened = data<Todo>(await run(ctx, 'update_task', { user_id: 'paul', task_id: id, title: 'final v2', completed: false }));
  assert.equal([reopened.title, reopened.completed], ['final v2', false]);
  const stored = await call<Todo>(ctx.backend!.url, 'GET', `/api/todos/${id}`, { user: 'paul' });
  assert.equal([stored.body.title, stored.body.completed], ['final v2', false]);

  const nothing = await run(ctx, 'update_task', { user_id: 'paul', task_id: id });
  assert.ok(nothing.isError);
  assert.match(text(nothing), /nothing to change/);
});

tools('delete_task removes the task from the backend', async (ctx) => {
  const keep = await call<Todo>(ctx.backend!.url, 'POST', '/api/todos', { user: 'quin', body: { title: 'keep' } });
  const drop = await call<Todo>(ctx.backend!.url, 'POST', '/api/todos', { user: 'quin', body: { title: 'drop' } });
  const result = await run(ctx, 'delete_task', { user_id: 'quin', task_id: drop.body.id });
  assert.equal(data(result), { deleted: drop.body.id });
  assert.is((await call(ctx.backend!.url, 'GET', `/api/todos/${drop.body.id}`, { user: 'quin' })).status, 404);
  assert.equal((await rest(ctx, 'quin')).map((t) => t.id), [keep.body.id]);
});

tools('tools act only on the named user\'s tasks', async (ctx) => {
  const theirs = data<Todo>(await run(ctx, 'add_task', { user_id: 'rosa', title: 'private' }));
  for (const [name, args] of [
    ['complete_task', { task_id: theirs.id }],
    ['update_task', { task_id: theirs.id, title: 'stolen' }],
    ['delete_task', { task_id: theirs.id }],
  ] as const) {
    const result = await run(ctx, name, { user_id: 'sam', ...args });
    assert.ok(result.isError, name);
    assert.match(text(result), new RegExp(`todo ${theirs.id} not found`));
  }
  assert.equal(data<Todo[]>(await run(ctx, 'list_tasks', { user_id: 'sam' })), []);
  const stored = await call<Todo>(ctx.backend!.url, 'GET', `/api/todos/${theirs.id}`, { user: 'rosa' });
  assert.equal([stored.body.title, stored.body.completed], ['private', false]);
});

tools('unknown ids and bad arguments are tool errors with the reason', async (ctx) => {
  const missing = await run(ctx, 'complete_task', { user_id: 'tom', task_id: 424242 });
  assert.ok(missing.isError);
  assert.match(text(missing), /todo 424242 not found/);

  const badUser = await run(ctx, 'add_task', { user_id: 'not valid!', title: 'x' });
  assert.ok(badUser.isError);
  assert.match(text(badUser), /user_id must be 1-64 letters/);

  const noUser = await run(ctx, 'list_tasks', {});
  assert.ok(noUser.isError);
  assert.match(text(noUser), /user_id/);

  const emptyTitle = await run(ctx, 'add_task', { user_id: 'tom', title: '   ' });
  assert.ok(emptyTitle.isError);
  assert.equal(await rest(ctx, 'tom'), [], 'nothing was created');
});

tools('with the backend unreachable, tools say so and /healthz stays 200', async () => {
  const deadPort = await freePort();
  const mcp = await startService({ name: 'mcp-server', appDir: 'apps/mcp-server', env: { BACKEND_URL: `http://127.0.0.1:${deadPort}` } });
  const client = await connect(mcp.url);
  try {
    const result = (await client.callTool({ name: 'list_tasks', arguments: { user_id: 'uma' } })) as CallToolResult;
    assert.ok(result.isError);
    assert.match(text(result), new RegExp(`todo backend at 127.0.0.1:${deadPort} is unreachable \\(ECONNREFUSED\\)`));
    assert.is((await fetch(`${mcp.url}/healthz`)).status, 200);
  } finally {
    await client.close();
    await mcp.stop();
  }
});

tools.run();

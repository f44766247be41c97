// The MCP server through the SDK's own client (StreamableHTTPClientTransport), against
// the real backend on a real PostgreSQL: each tool does what it says, which the test
// checks through the backend's REST API. Each client sends X-User-Id, as the frontend does
// for its session's user; a request without it is refused.

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
  /** One client per user, each sending that user's X-User-Id. */
  clients: Map<string, Client>;
}

const tools = suite<Ctx>('mcp-server tools', { clients: new Map() });

/** A client whose requests carry `user` in X-User-Id, as the frontend's proxy sends them. */
async function connect(url: string, user: string): Promise<Client> {
  const client = new Client({ name: 'todo-mcp-test', version: '0.0.0' });
  await client.connect(new StreamableHTTPClientTransport(new URL(`${url}/mcp`), { requestInit: { headers: { 'x-user-id': user } } }));
  return client;
}

tools.before(async (ctx) => {
  ctx.pg = await startPostgres();
  ctx.backend = await startBackend({ DATABASE_URL: ctx.pg.url });
  ctx.mcp = await startService({ name: 'mcp-server', appDir: 'apps/mcp-server', env: { BACKEND_URL: ctx.backend.url } });
});

tools.after(async (ctx) => {
  for (const client of ctx.clients.values()) await client.close();
  await ctx.mcp?.stop();
  await ctx.backend?.stop();
  await ctx.pg?.destroy();
});

async function as(ctx: Ctx, user: string): Promise<Client> {
  let client = ctx.clients.get(user);
  if (!client) {
    client = await connect(ctx.mcp!.url, user);
    ctx.clients.set(user, client);
  }
  return client;
}

/** A tool call by `user`'s client (X-User-Id: user). */
async function run(ctx: Ctx, user: string, name: string, args: Record<string, unknown>): Promise<CallToolResult> {
  return (await (await as(ctx, user)).callTool({ name, arguments: args })) as CallToolResult;
}

/** One raw JSON-RPC initialize to /mcp with these extra headers: the status and the error, if any. */
async function initialize(url: string, headers: Record<string, string>): Promise<{ status: number; error?: { code: number; message: string } }> {
  const res = await fetch(`${url}/mcp`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', ...headers },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'raw', version: '0' } } }),
  });
  const body = (await res.json()) as { error?: { code: number; message: string } };
  return { status: res.status, error: body.error };
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

tools('the server lists exactly the five todo tools, none with a user argument, none taking unknown arguments', async (ctx) => {
  const client = await as(ctx, 'lena');
  const { tools: listed } = await client.listTools();
  assert.equal(listed.map((t) => t.name).sort(), ['add_task', 'complete_task', 'delete_task', 'list_tasks', 'update_task']);
  for (const tool of listed) {
    assert.ok(tool.description, `${tool.name} has a description`);
    assert.not.ok('user_id' in (tool.inputSchema.properties ?? {}), `${tool.name} takes no user_id`);
    assert.is((tool.inputSchema as { additionalProperties?: unknown }).additionalProperties, false, `${tool.name} refuses unknown arguments`);
  }
  assert.equal(client.getServerVersion()?.name, 'todo-mcp-server');
});

tools('a request without X-User-Id, or with a malformed or doubled one, is refused with an MCP error that says how to call the server', async (ctx) => {
  const none = await initialize(ctx.mcp!.url, {});
  assert.is(none.status, 403);
  assert.is(none.error?.code, -32001);
  assert.match(none.error!.message, /^No X-User-Id header\. This server acts only for the user its caller names in X-User-Id, which the frontend sets from its session cookie: call it through the frontend, at http:\/\/<the app's host>\/mcp/);

  const bad = await initialize(ctx.mcp!.url, { 'x-user-id': 'not valid!' });
  assert.is(bad.status, 403);
  assert.match(bad.error!.message, /^The X-User-Id header is not 1-64 letters, digits/);
  assert.not.match(bad.error!.message, 'not valid!', 'the value is not echoed');

  const doubled = await fetch(`${ctx.mcp!.url}/mcp`, { method: 'POST', headers: [['content-type', 'application/json'], ['x-user-id', 'a'], ['x-user-id', 'b']], body: '{}' });
  // fetch joins repeated headers with ", ", which is no user id either.
  assert.is(doubled.status, 403);

  // The SDK's client, without the header, fails to connect and shows the reason.
  const client = new Client({ name: 'todo-mcp-test', version: '0.0.0' });
  const failure = await client.connect(new StreamableHTTPClientTransport(new URL(`${ctx.mcp!.url}/mcp`))).then(() => 'connected', (err: unknown) => String(err));
  assert.match(failure, /No X-User-Id header/);
  await client.close();
});

tools('a user_id argument is refused, naming why, and nothing of that user is touched', async (ctx) => {
  const theirs = data<Todo>(await run(ctx, 'vic', 'add_task', { title: 'vic only' }));
  const listed = await run(ctx, 'wes', 'list_tasks', { user_id: 'vic' });
  assert.ok(listed.isError);
  assert.match(text(listed), /user_id is not an argument: the tools act for the user of the session the request came with/);
  assert.not.match(text(listed), 'vic only');
  const completed = await run(ctx, 'wes', 'complete_task', { user_id: 'vic', task_id: theirs.id });
  assert.ok(completed.isError);
  assert.match(text(completed), /user_id is not an argument/);
  const other = await run(ctx, 'wes', 'list_tasks', { owner: 'vic' });
  assert.ok(other.isError);
  assert.match(text(other), /unknown argument\(s\): owner/);
  assert.equal((await rest(ctx, 'vic')).map((t) => [t.title, t.completed]), [['vic only', false]]);
  assert.equal(await rest(ctx, 'wes'), []);
});

tools('add_task creates the task in the backend', async (ctx) => {
  const result = await run(ctx, 'mia', 'add_task', { title: '  water the plants ' });
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

  const all = data<Todo[]>(await run(ctx, 'noah', 'list_tasks', {}));
  assert.equal(all.map((t) => [t.id, t.title, t.completed]), [[a.body.id, 'a', false], [b.body.id, 'b', true]]);
  assert.equal(data<Todo[]>(await run(ctx, 'noah', 'list_tasks', { status: 'all' })), all);
  assert.equal(data<Todo[]>(await run(ctx, 'noah', 'list_tasks', { status: 'pending' })).map((t) => t.id), [a.body.id]);
  assert.equal(data<Todo[]>(await run(ctx, 'noah', 'list_tasks', { status: 'completed' })).map((t) => t.id), [b.body.id]);
  assert.equal(data<Todo[]>(await run(ctx, 'nobody-yet', 'list_tasks', {})), []);
});

tools('complete_task marks the task completed in the backend', async (ctx) => {
  const created = await call<Todo>(ctx.backend!.url, 'POST', '/api/todos', { user: 'olga', body: { title: 'file taxes' } });
  const todo = data<Todo>(await run(ctx, 'olga', 'complete_task', { task_id: created.body.id }));
  assert.is(todo.completed, true);
  const stored = await call<Todo>(ctx.backend!.url, 'GET', `/api/todos/${created.body.id}`, { user: 'olga' });
  assert.is(stored.body.completed, true);
});

tools('update_task changes the title and the completed state', async (ctx) => {
  const created = await call<Todo>(ctx.backend!.url, 'POST', '/api/todos', { user: 'paul', body: { title: 'draft' } });
  const id = created.body.id;
  assert.is(data<Todo>(await run(ctx, 'paul', 'update_task', { task_id: id, title: 'final' })).title, 'final');
  assert.is(data<Todo>(await run(ctx, 'paul', 'update_task', { task_id: id, completed: true })).completed, true);
  const reopened = data<Todo>(await run(ctx, 'paul', 'update_task', { task_id: id, title: 'final v2', completed: false }));
  assert.equal([reopened.title, reopened.completed], ['final v2', false]);
  const stored = await call<Todo>(ctx.backend!.url, 'GET', `/api/todos/${id}`, { user: 'paul' });
  assert.equal([stored.body.title, stored.body.completed], ['final v2', false]);

  const nothing = await run(ctx, 'paul', 'update_task', { task_id: id });
  assert.ok(nothing.isError);
  assert.match(text(nothing), /nothing to change/);
});

tools('delete_task removes the task from the backend', async (ctx) => {
  const keep = await call<Todo>(ctx.backend!.url, 'POST', '/api/todos', { user: 'quin', body: { title: 'keep' } });
  const drop = await call<Todo>(ctx.backend!.url, 'POST', '/api/todos', { user: 'quin', body: { title: 'drop' } });
  const result = await run(ctx, 'quin', 'delete_task', { task_id: drop.body.id });
  assert.equal(data(result), { deleted: drop.body.id });
  assert.is((await call(ctx.backend!.url, 'GET', `/api/todos/${drop.body.id}`, { user: 'quin' })).status, 404);
  assert.equal((await rest(ctx, 'quin')).map((t) => t.id), [keep.body.id]);
});

tools('tools act only on the tasks of the user in X-User-Id', async (ctx) => {
  const theirs = data<Todo>(await run(ctx, 'rosa', 'add_task', { title: 'private' }));
  for (const [name, args] of [
    ['complete_task', { task_id: theirs.id }],
    ['update_task', { task_id: theirs.id, title: 'stolen' }],
    ['delete_task', { task_id: theirs.id }],
  ] as const) {
    const result = await run(ctx, 'sam', name, args);
    assert.ok(result.isError, name);
    assert.match(text(result), new RegExp(`todo ${theirs.id} not found`));
  }
  assert.equal(data<Todo[]>(await run(ctx, 'sam', 'list_tasks', {})), []);
  const stored = await call<Todo>(ctx.backend!.url, 'GET', `/api/todos/${theirs.id}`, { user: 'rosa' });
  assert.equal([stored.body.title, stored.body.completed], ['private', false]);
});

tools('unknown ids and bad arguments are tool errors with the reason', async (ctx) => {
  const missing = await run(ctx, 'tom', 'complete_task', { task_id: 424242 });
  assert.ok(missing.isError);
  assert.match(text(missing), /todo 424242 not found/);

  const noId = await run(ctx, 'tom', 'complete_task', {});
  assert.ok(noId.isError);
  assert.match(text(noId), /task_id/);

  const emptyTitle = await run(ctx, 'tom', 'add_task', { title: '   ' });
  assert.ok(emptyTitle.isError);
  assert.equal(await rest(ctx, 'tom'), [], 'nothing was created');
});

tools('through the frontend, as the ingress carries it: the page gives a session, /api creates a todo with it, and list_tasks over /mcp with the same cookie lists it; another session sees none of it', async (ctx) => {
  const frontend = await startService({
    name: 'frontend',
    appDir: 'apps/frontend',
    env: { BACKEND_URL: ctx.backend!.url, MCP_URL: ctx.mcp!.url, BETTER_AUTH_SECRET: `e2e-${'s'.repeat(40)}` },
  });
  const clients: Client[] = [];
  /** An MCP client through the frontend's /mcp that sends this session cookie (and, to no avail, someone else's X-User-Id). */
  const through = async (cookie: string) => {
    const client = new Client({ name: 'todo-mcp-test', version: '0.0.0' });
    clients.push(client);
    await client.connect(new StreamableHTTPClientTransport(new URL(`${frontend.url}/mcp`), { requestInit: { headers: { cookie, 'x-user-id': 'rosa' } } }));
    return client;
  };
  const sessionOf = async () => (await fetch(`${frontend.url}/`)).headers.getSetCookie()[0]!.split(';')[0]!;
  try {
    const cookie = await sessionOf();
    const created = await fetch(`${frontend.url}/api/todos`, { method: 'POST', headers: { cookie, 'content-type': 'application/json' }, body: JSON.stringify({ title: 'through the frontend' }) });
    assert.is(created.status, 201);
    const todo = (await created.json()) as Todo;

    const mine = (await (await through(cookie)).callTool({ name: 'list_tasks', arguments: {} })) as CallToolResult;
    assert.equal(data<Todo[]>(mine).map((t) => [t.id, t.title]), [[todo.id, 'through the frontend']]);

    const other = await through(await sessionOf());
    assert.equal(data<Todo[]>((await other.callTool({ name: 'list_tasks', arguments: {} })) as CallToolResult), []);
    const stolen = (await other.callTool({ name: 'delete_task', arguments: { task_id: todo.id } })) as CallToolResult;
    assert.ok(stolen.isError);
    assert.match(text(stolen), `todo ${todo.id} not found`);
    assert.not.match(frontend.lines.join('\n'), 'todo_session', 'the frontend logs no cookie');
    assert.not.match(ctx.mcp!.lines.join('\n'), 'todo_session', 'the MCP server logs no cookie');
  } finally {
    for (const client of clients) await client.close();
    await frontend.stop();
  }
});

tools('with the backend unreachable, tools say so and /healthz stays 200', async () => {
  const deadPort = await freePort();
  const mcp = await startService({ name: 'mcp-server', appDir: 'apps/mcp-server', env: { BACKEND_URL: `http://127.0.0.1:${deadPort}` } });
  const client = await connect(mcp.url, 'uma');
  try {
    const result = (await client.callTool({ name: 'list_tasks', arguments: {} })) as CallToolResult;
    assert.ok(result.isError);
    assert.match(text(result), new RegExp(`todo backend at 127.0.0.1:${deadPort} is unreachable \\(ECONNREFUSED\\)`));
    assert.is((await fetch(`${mcp.url}/healthz`)).status, 200);
  } finally {
    await client.close();
    await mcp.stop();
  }
});

tools.run();

// POST /api/chat against the openai-stand-in (a local OpenAI-compatible server that
// plays the model from a script): tool calls become real changes in PostgreSQL.

import { suite } from '../../../test/support/suite.ts';
import * as assert from 'uvu/assert';
import { startPostgres, type Postgres } from '../../../test/support/postgres.ts';
import { call, startBackend } from '../../../test/support/backend.ts';
import { startOpenAIStandIn, type OpenAIStandIn, type RecordedRequest } from '../../../test/support/openai-stand-in.ts';
import type { Service } from '../../../test/support/service.ts';

interface Ctx {
  pg?: Postgres;
  model?: OpenAIStandIn;
  backend?: Service;
}

interface ChatReply {
  reply: string;
  actions: Array<{ tool: string; arguments: unknown; ok: boolean; result: any }>;
}

const API_KEY = 'sk-test-stand-in-0123456789';
const chat = suite<Ctx>('backend chat');

chat.before(async (ctx) => {
  ctx.pg = await startPostgres();
  ctx.model = await startOpenAIStandIn(() => ({ content: 'unscripted' }));
  ctx.backend = await startBackend({
    DATABASE_URL: ctx.pg.url,
    OPENAI_API_KEY: API_KEY,
    OPENAI_BASE_URL: ctx.model.baseUrl,
    OPENAI_MODEL: 'stand-in-model',
  });
});

chat.after(async (ctx) => {
  await ctx.backend?.stop();
  await ctx.model?.close();
  await ctx.pg?.destroy();
});

const toolMessages = (request: RecordedRequest) => (request.body.messages ?? []).filter((m) => m.role === 'tool');

chat('the model asks for add_task: the todo is created and the reply comes back', async (ctx) => {
  const first = ctx.model!.requests.length;
  ctx.model!.setScript((request) =>
    toolMessages(request).length === 0
      ? { toolCalls: [{ name: 'add_task', arguments: { title: 'buy bread' } }] }
      : { content: 'Added "buy bread" to your list.' },
  );
  const res = await call<ChatReply>(ctx.backend!.url, 'POST', '/api/chat', { user: 'hana', body: { message: 'remind me to buy bread' } });
  assert.is(res.status, 200);
  assert.is(res.body.reply, 'Added "buy bread" to your list.');
  assert.is(res.body.actions.length, 1);
  assert.is(res.body.actions[0]!.tool, 'add_task');
  assert.ok(res.body.actions[0]!.ok);
  assert.equal(res.body.actions[0]!.arguments, { title: 'buy bread' });

  const list = await call<Array<{ id: number; title: string; completed: boolean }>>(ctx.backend!.url, 'GET', '/api/todos', { user: 'hana' });
  assert.equal(list.body.map((t) => t.title), ['buy bread']);
  assert.is(res.body.actions[0]!.result.id, list.body[0]!.id);

  // What the model was sent: the key, the model, the user's words, the five tools,
  // and then the tool's result tied to its call id.
  const [ask, followUp] = ctx.model!.requests.slice(first);
  assert.ok(ask && followUp, 'two round trips');
  assert.is(ctx.model!.requests.length - first, 2);
  assert.is(ask.authorization, `Bearer ${API_KEY}`);
  assert.is(ask.body.model, 'stand-in-model');
  assert.ok(ask.body.messages!.some((m) => m.role === 'user' && m.content === 'remind me to buy bread'));
  assert.equal(ask.body.tools!.map((t) => t.function.name).sort(), ['add_task', 'complete_task', 'delete_task', 'list_tasks', 'update_task']);
  const addTask = ask.body.tools!.find((t) => t.function.name === 'add_task')!;
  assert.equal((addTask.function.parameters as { required?: string[] }).required, ['title']);
  const [toolMessage] = toolMessages(followUp);
  assert.is(toolMessage!.tool_call_id, 'call_' + (first) + '_0');
  assert.is(JSON.parse(String(toolMessage!.content)).title, 'buy bread');
});

chat('several tool rounds: list, then complete the task found', async (ctx) => {
  const created = await call<{ id: number }>(ctx.backend!.url, 'POST', '/api/todos', { user: 'ivan', body: { title: 'call mom' } });
  ctx.model!.setScript((request) => {
    const tools = toolMessages(request);
    if (tools.length === 0) return { toolCalls: [{ name: 'list_tasks', arguments: { status: 'pending' } }] };
    if (tools.length === 1) {
      const pending = JSON.parse(String(tools[0]!.content)) as Array<{ id: number; title: string }>;
      const target = pending.find((t) => t.title === 'call mom');
      return { toolCalls: [{ name: 'complete_task', arguments: { id: target ? target.id : -1 } }] };
    }
    return { content: 'Done.' };
  });
  const res = await call<ChatReply>(ctx.backend!.url, 'POST', '/api/chat', { user: 'ivan', body: { message: 'I called mom' } });
  assert.is(res.status, 200);
  assert.equal(res.body.actions.map((a) => [a.tool, a.ok]), [['list_tasks', true], ['complete_task', true]]);
  const todo = await call<{ completed: boolean }>(ctx.backend!.url, 'GET', `/api/todos/${created.body.id}`, { user: 'ivan' });
  assert.is(todo.body.completed, true);
});

chat('bad tool arguments and unknown ids go back to the model, nothing changes', async (ctx) => {
  ctx.model!.setScript((request) =>
    toolMessages(request).length === 0
      ? {
          toolCalls: [
            { name: 'add_task', arguments: { title: '   ' } },
            { name: 'delete_task', arguments: { id: 987654 } },
            { name: 'add_task', arguments: '{not json' },
            { name: 'drop_database', arguments: {} },
          ],
        }
      : { content: 'Sorry, that did not work.' },
  );
  const res = await call<ChatReply>(ctx.backend!.url, 'POST', '/api/chat', { user: 'jade', body: { message: 'do odd things' } });
  assert.is(res.status, 200);
  assert.equal(res.body.actions.map((a) => a.ok), [false, false, false, false]);
  assert.match(res.body.actions[0]!.result.error, /title must not be empty/);
  assert.match(res.body.actions[1]!.result.error, /todo 987654 not found/);
  assert.match(res.body.actions[2]!.result.error, /not valid JSON/);
  assert.match(res.body.actions[3]!.result.error, /unknown tool drop_database/);
  const last = ctx.model!.requests.at(-1)!;
  assert.is(toolMessages(last).length, 4, 'every call is answered');
  const list = await call<unknown[]>(ctx.backend!.url, 'GET', '/api/todos', { user: 'jade' });
  assert.equal(list.body, []);
});

chat('a model that never stops calling tools is cut off after five rounds', async (ctx) => {
  const first = ctx.model!.requests.length;
  ctx.model!.setScript(() => ({ toolCalls: [{ name: 'list_tasks', arguments: {} }] }));
  const res = await call<ChatReply>(ctx.backend!.url, 'POST', '/api/chat', { user: 'kim', body: { message: 'loop' } });
  assert.is(res.status, 200);
  assert.is(ctx.model!.requests.length - first, 5);
  assert.is(res.body.actions.length, 5);
  assert.match(res.body.reply, /stopped after 5 rounds/);
});

chat('a failing model is a 502 that does not show the key', async (ctx) => {
  ctx.model!.setScript(() => ({ errorStatus: 401 }));
  const res = await call<{ error: string }>(ctx.backend!.url, 'POST', '/api/chat', { user: 'lee', body: { message: 'hello' } });
  assert.is(res.status, 502);
  assert.match(res.body.error, /chat model request failed \(HTTP 401\)/);
  assert.not.ok(JSON.stringify(res.body).includes(API_KEY));
  assert.not.ok(ctx.backend!.lines.join('\n').includes(API_KEY), 'the key is not logged');
});

chat('chat input is validated and needs an owner', async (ctx) => {
  const empty = await call<{ error: string }>(ctx.backend!.url, 'POST', '/api/chat', { user: 'lee', body: { message: ' ' } });
  assert.is(empty.status, 400);
  assert.match(empty.body.error, /message must not be empty/);
  const missing = await call<{ error: string }>(ctx.backend!.url, 'POST', '/api/chat', { user: 'lee', body: {} });
  assert.is(missing.status, 400);
  assert.match(missing.body.error, /message is required/);
  const noOwner = await call(ctx.backend!.url, 'POST', '/api/chat', { body: { message: 'hi' } });
  assert.is(noOwner.status, 400);
});

chat('without OPENAI_API_KEY chat answers 503 and says how to enable it', async (ctx) => {
  const backend = await startBackend({ DATABASE_URL: ctx.pg!.url });
  try {
    const before = ctx.model!.requests.length;
    const res = await call<{ error: string }>(backend.url, 'POST', '/api/chat', { user: 'max', body: { message: 'add milk' } });
    assert.is(res.status, 503);
    assert.match(res.body.error, /^chat is disabled: set OPENAI_API_KEY/);
    assert.is(ctx.model!.requests.length, before, 'no model was asked');
    assert.is((await call(backend.url, 'GET', '/api/todos', { user: 'max' })).status, 200, 'the rest of the API works');
  } finally {
    await backend.stop();
  }
});

chat.run();

// POST /api/chat: the user's message goes to an OpenAI chat model together with the
// todo operations as tools; tool calls are run and their results sent back until the
// model answers in words, for at most MAX_ROUNDS round trips.

import OpenAI from 'openai';
import type { ChatCompletionMessageParam } from 'openai/resources/chat/completions';
import type { TodoOperations } from './operations.ts';
import { chatTools, runTool } from './tools.ts';

export const MAX_ROUNDS = 5;

export interface ChatAction {
  tool: string;
  arguments: unknown;
  ok: boolean;
  result: unknown;
}

export interface ChatReply {
  reply: string;
  actions: ChatAction[];
}

const SYSTEM_PROMPT =
  'You are the assistant of a todo app. You manage the user\'s tasks only through the tools ' +
  'you are given; call list_tasks to find a task\'s id before changing it. Answer briefly, ' +
  'and say what you changed.';

export function createOpenAI(apiKey: string, baseURL: string | undefined): OpenAI {
  // A chat request should fail in seconds, not retry for minutes behind a user's spinner.
  return new OpenAI({ apiKey, ...(baseURL ? { baseURL } : {}), timeout: 30_000, maxRetries: 1 });
}

function parseArgs(raw: string): unknown {
  try {
    return JSON.parse(raw);
  } catch {
    return raw;
  }
}

export async function chat(client: OpenAI, model: string, ops: TodoOperations, message: string): Promise<ChatReply> {
  const messages: ChatCompletionMessageParam[] = [
    { role: 'system', content: SYSTEM_PROMPT },
    { role: 'user', content: message },
  ];
  const actions: ChatAction[] = [];

  for (let round = 0; round < MAX_ROUNDS; round++) {
    const completion = await client.chat.completions.create({ model, messages, tools: chatTools, tool_choice: 'auto' });
    const answer = completion.choices[0]?.message;
    if (!answer) return { reply: '', actions };
    const calls = (answer.tool_calls ?? []).filter((call) => call.type === 'function');
    if (calls.length === 0) return { reply: answer.content ?? '', actions };

    messages.push({ role: 'assistant', content: answer.content ?? null, tool_calls: calls });
    for (const call of calls) {
      const outcome = await runTool(ops, call.function.name, call.function.arguments);
      actions.push({ tool: call.function.name, arguments: parseArgs(call.function.arguments), ...outcome });
      messages.push({ role: 'tool', tool_call_id: call.id, content: JSON.stringify(outcome.result) });
    }
  }
  return {
    reply: `I stopped after ${MAX_ROUNDS} rounds of tool calls without a final answer; the actions listed were carried out.`,
    actions,
  };
}

// The todo operations as function-calling tools for the chat model. The argument
// schemas are zod schemas: the same object validates what the model sends and, turned
// into JSON Schema, tells the model what to send.

import type { ChatCompletionFunctionTool } from 'openai/resources/chat/completions';
import { z } from 'zod';
import { HttpError } from './http.ts';
import type { TodoOperations } from './operations.ts';
import { describeIssues, title } from './validation.ts';

const id = z.number({ error: 'id must be a number' }).int('id must be a whole number').positive('id must be positive');

const argSchemas = {
  add_task: z.strictObject({ title }),
  list_tasks: z.strictObject({
    status: z.enum(['all', 'pending', 'completed']).optional(),
  }),
  complete_task: z.strictObject({ id }),
  update_task: z.strictObject({
    id,
    title: title.optional(),
    completed: z.boolean().optional(),
  }),
  delete_task: z.strictObject({ id }),
} as const;

export type ToolName = keyof typeof argSchemas;

const descriptions: Record<ToolName, string> = {
  add_task: 'Add a new task to the user\'s todo list.',
  list_tasks: 'List the user\'s tasks, optionally only pending or only completed ones.',
  complete_task: 'Mark one of the user\'s tasks as completed, by id.',
  update_task: 'Change the title and/or completed state of one of the user\'s tasks, by id.',
  delete_task: 'Delete one of the user\'s tasks, by id.',
};

export const toolNames = Object.keys(argSchemas) as ToolName[];

function parametersOf(schema: z.ZodType): Record<string, unknown> {
  const { $schema: _ignored, ...json } = z.toJSONSchema(schema, { io: 'input' }) as Record<string, unknown>;
  return json;
}

export const chatTools: ChatCompletionFunctionTool[] = toolNames.map((name) => ({
  type: 'function',
  function: { name, description: descriptions[name], parameters: parametersOf(argSchemas[name]) },
}));

export interface ToolOutcome {
  ok: boolean;
  /** What goes back to the model and into the response's actions. */
  result: unknown;
}

/** Runs one tool call; bad arguments and unknown ids become results the model can read. */
export async function runTool(ops: TodoOperations, name: string, rawArguments: string): Promise<ToolOutcome> {
  if (!(name in argSchemas)) return { ok: false, result: { error: `unknown tool ${name}` } };
  let args: unknown;
  try {
    args = rawArguments.trim() === '' ? {} : JSON.parse(rawArguments);
  } catch {
    return { ok: false, result: { error: 'arguments are not valid JSON' } };
  }
  const parsed = argSchemas[name as ToolName].safeParse(args);
  if (!parsed.success) return { ok: false, result: { error: describeIssues(parsed.error) } };
  try {
    return { ok: true, result: await execute(ops, name as ToolName, parsed.data) };
  } catch (err) {
    // A 4xx (unknown id) is the model's to handle; anything else fails the request.
    if (err instanceof HttpError && err.status < 500) return { ok: false, result: { error: err.message } };
    throw err;
  }
}

async function execute(ops: TodoOperations, name: ToolName, args: Record<string, unknown>): Promise<unknown> {
  switch (name) {
    case 'add_task':
      return ops.create(args.title as string);
    case 'list_tasks': {
      const all = await ops.list();
      if (args.status === 'pending') return all.filter((t) => !t.completed);
      if (args.status === 'completed') return all.filter((t) => t.completed);
      return all;
    }
    case 'complete_task':
      return ops.complete(args.id as number);
    case 'update_task': {
      const { id: todoId, ...changes } = args as { id: number; title?: string; completed?: boolean };
      if (changes.title === undefined && changes.completed === undefined) {
        throw new HttpError(400, 'nothing to change: give title and/or completed');
      }
      return ops.update(todoId, changes);
    }
    case 'delete_task':
      await ops.remove(args.id as number);
      return { deleted: args.id };
  }
}

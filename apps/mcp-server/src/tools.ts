// The MCP tools. Each one is a thin call to the backend's todo API.
//
// Whose todos: the user the request's X-User-Id names (app.ts checks it; the frontend sets it
// from its session cookie), sent on to the backend as X-User-Id. No tool takes a user
// argument: an agent acts for the session it came with, never for a user it names. The
// schemas are strict, so an agent that still sends the `user_id` of old is told it is gone
// rather than having it silently ignored. Tool errors (unknown task, backend down) come back
// as MCP tool results with isError: true and the reason, so the model can read them.

import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';
import { BackendError, type BackendClient } from './backend-client.ts';

/** An owner key the backend accepts in X-User-Id (the frontend's session ids are UUIDs). */
export const USER_ID = /^[A-Za-z0-9_-]{1,64}$/;

/** A tool's arguments: these and no others (an unknown key is refused, with user_id explained). */
function args<T extends z.ZodRawShape>(shape: T) {
  return z.strictObject(shape, {
    error: (issue) =>
      issue.code === 'unrecognized_keys'
        ? issue.keys.includes('user_id')
          ? 'user_id is not an argument: the tools act for the user of the session the request came with (the frontend sets it from its cookie)'
          : `unknown argument(s): ${issue.keys.join(', ')}`
        : undefined,
  });
}
const taskId = z.number().int().positive().describe('The id of the task, as list_tasks shows it.');
const title = z.string().trim().min(1).max(200).describe('The task title, 1-200 characters.');

function ok(value: unknown, summary: string): CallToolResult {
  return {
    content: [
      { type: 'text', text: summary },
      { type: 'text', text: JSON.stringify(value) },
    ],
  };
}

function failed(err: unknown): CallToolResult {
  if (err instanceof BackendError) return { isError: true, content: [{ type: 'text', text: err.message }] };
  throw err;
}

/** The five todo tools, acting for `userId` (already checked against USER_ID). */
export function registerTools(server: McpServer, backend: BackendClient, userId: string): void {
  server.registerTool(
    'add_task',
    {
      title: 'Add task',
      description: 'Add a task to the user\'s todo list. Returns the new task.',
      inputSchema: args({ title }),
    },
    async (input) => {
      try {
        const todo = await backend.create(userId, input.title);
        return ok(todo, `Added task ${todo.id}: ${todo.title}`);
      } catch (err) {
        return failed(err);
      }
    },
  );

  server.registerTool(
    'list_tasks',
    {
      title: 'List tasks',
      description: 'List the user\'s tasks in id order: all (default), only pending, or only completed ones.',
      inputSchema: args({
        status: z.enum(['all', 'pending', 'completed']).optional().describe('Which tasks to list; default all.'),
      }),
      annotations: { readOnlyHint: true },
    },
    async (input) => {
      try {
        const all = await backend.list(userId);
        const status = input.status ?? 'all';
        const tasks = status === 'all' ? all : all.filter((t) => t.completed === (status === 'completed'));
        return ok(tasks, `${tasks.length} ${status === 'all' ? '' : status + ' '}task(s)`);
      } catch (err) {
        return failed(err);
      }
    },
  );

  server.registerTool(
    'complete_task',
    {
      title: 'Complete task',
      description: 'Mark one of the user\'s tasks as completed. Returns the task.',
      inputSchema: args({ task_id: taskId }),
      annotations: { idempotentHint: true },
    },
    async (input) => {
      try {
        const todo = await backend.complete(userId, input.task_id);
        return ok(todo, `Completed task ${todo.id}: ${todo.title}`);
      } catch (err) {
        return failed(err);
      }
    },
  );

  server.registerTool(
    'update_task',
    {
      title: 'Update task',
      description: 'Change the title and/or the completed state of one of the user\'s tasks. Returns the task.',
      inputSchema: args({
        task_id: taskId,
        title: title.optional(),
        completed: z.boolean().optional().describe('true to mark done, false to reopen.'),
      }),
    },
    async (input) => {
      if (input.title === undefined && input.completed === undefined) {
        return { isError: true, content: [{ type: 'text', text: 'nothing to change: give title and/or completed' }] };
      }
      try {
        const changes = {
          ...(input.title !== undefined ? { title: input.title } : {}),
          ...(input.completed !== undefined ? { completed: input.completed } : {}),
        };
        const todo = await backend.update(userId, input.task_id, changes);
        return ok(todo, `Updated task ${todo.id}: ${todo.title}${todo.completed ? ' (completed)' : ''}`);
      } catch (err) {
        return failed(err);
      }
    },
  );

  server.registerTool(
    'delete_task',
    {
      title: 'Delete task',
      description: 'Delete one of the user\'s tasks.',
      inputSchema: args({ task_id: taskId }),
      annotations: { destructiveHint: true },
    },
    async (input) => {
      try {
        await backend.remove(userId, input.task_id);
        return ok({ deleted: input.task_id }, `Deleted task ${input.task_id}`);
      } catch (err) {
        return failed(err);
      }
    },
  );
}

// The MCP tools. Each one is a thin call to the backend's todo API.
//
// Whose todos: every tool takes a required `user_id` argument, sent to the backend as
// X-User-Id (the same owner key the web frontend uses, 1-64 letters, digits, "_" or "-").
// The server itself is stateless and holds no identity; the agent that calls it says
// on whose behalf it acts. Tool errors (unknown task, backend down) come back as MCP
// tool results with isError: true and the reason, so the model can read them.

import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';
import { BackendError, type BackendClient } from './backend-client.ts';

const userId = z
  .string()
  .regex(/^[A-Za-z0-9_-]{1,64}$/, 'user_id must be 1-64 letters, digits, "_" or "-"')
  .describe('The owner of the todo list (the X-User-Id the backend scopes todos by).');
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

export function registerTools(server: McpServer, backend: BackendClient): void {
  server.registerTool(
    'add_task',
    {
      title: 'Add task',
      description: 'Add a task to the user\'s todo list. Returns the new task.',
      inputSchema: { user_id: userId, title },
    },
    async (args) => {
      try {
        const todo = await backend.create(args.user_id, args.title);
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
      inputSchema: {
        user_id: userId,
        status: z.enum(['all', 'pending', 'completed']).optional().describe('Which tasks to list; default all.'),
      },
      annotations: { readOnlyHint: true },
    },
    async (args) => {
      try {
        const all = await backend.list(args.user_id);
        const status = args.status ?? 'all';
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
      inputSchema: { user_id: userId, task_id: taskId },
      annotations: { idempotentHint: true },
    },
    async (args) => {
      try {
        const todo = await backend.complete(args.user_id, args.task_id);
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
      inputSchema: {
        user_id: userId,
        task_id: taskId,
        title: title.optional(),
        completed: z.boolean().optional().describe('true to mark done, false to reopen.'),
      },
    },
    async (args) => {
      if (args.title === undefined && args.completed === undefined) {
        return { isError: true, content: [{ type: 'text', text: 'nothing to change: give title and/or completed' }] };
      }
      try {
        const changes = {
          ...(args.title !== undefined ? { title: args.title } : {}),
          ...(args.completed !== undefined ? { completed: args.completed } : {}),
        };
        const todo = await backend.update(args.user_id, args.task_id, changes);
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
      inputSchema: { user_id: userId, task_id: taskId },
      annotations: { destructiveHint: true },
    },
    async (args) => {
      try {
        await backend.remove(args.user_id, args.task_id);
        return ok({ deleted: args.task_id }, `Deleted task ${args.task_id}`);
      } catch (err) {
        return failed(err);
      }
    },
  );
}

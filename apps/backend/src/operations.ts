// The todo operations of one owner, shared by the REST routes and the chat tools:
// input already validated, SQL through todos.ts, an event after each change,
// unknown ids as HttpError 404.

import type { Database } from './database.ts';
import type { Events, TodoAction } from './events.ts';
import { HttpError } from './http.ts';
import * as sql from './todos.ts';
import type { Todo } from './shared/todo.ts';
import type { TodoChanges } from './todos.ts';

export interface TodoOperations {
  list(): Promise<Todo[]>;
  get(id: number): Promise<Todo>;
  create(title: string): Promise<Todo>;
  update(id: number, changes: TodoChanges): Promise<Todo>;
  complete(id: number): Promise<Todo>;
  remove(id: number): Promise<void>;
}

const notFound = (id: number) => new HttpError(404, `todo ${id} not found`);

export function todoOperations(db: Database, events: Events, owner: string): TodoOperations {
  const changed = (action: TodoAction, todoId: number, todo?: Todo) =>
    events.publish({ action, userId: owner, todoId, ...(todo ? { todo } : {}), at: new Date().toISOString() });

  return {
    async list() {
      return sql.listTodos(await db.ready(), owner);
    },
    async get(id) {
      const todo = await sql.getTodo(await db.ready(), owner, id);
      if (!todo) throw notFound(id);
      return todo;
    },
    async create(title) {
      const todo = await sql.createTodo(await db.ready(), owner, title);
      changed('created', todo.id, todo);
      return todo;
    },
    async update(id, changes) {
      const todo = await sql.updateTodo(await db.ready(), owner, id, changes);
      if (!todo) throw notFound(id);
      changed('updated', id, todo);
      return todo;
    },
    async complete(id) {
      const todo = await sql.updateTodo(await db.ready(), owner, id, { completed: true });
      if (!todo) throw notFound(id);
      changed('completed', id, todo);
      return todo;
    },
    async remove(id) {
      if (!(await sql.deleteTodo(await db.ready(), owner, id))) throw notFound(id);
      changed('deleted', id);
    },
  };
}

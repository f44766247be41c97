// SQL for todos. Every statement is scoped by owner_id, so one owner can never read or
// change another's rows, whatever id they send.

import type { Pool } from 'pg';
import type { Todo } from './shared/todo.ts';

interface Row {
  id: number;
  title: string;
  completed: boolean;
  created_at: Date;
  updated_at: Date;
}

const COLUMNS = 'id, title, completed, created_at, updated_at';

function toTodo(row: Row): Todo {
  return {
    id: row.id,
    title: row.title,
    completed: row.completed,
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
  };
}

export async function listTodos(db: Pool, owner: string): Promise<Todo[]> {
  const { rows } = await db.query<Row>(`SELECT ${COLUMNS} FROM todos WHERE owner_id = $1 ORDER BY id`, [owner]);
  return rows.map(toTodo);
}

export async function getTodo(db: Pool, owner: string, id: number): Promise<Todo | undefined> {
  const { rows } = await db.query<Row>(`SELECT ${COLUMNS} FROM todos WHERE owner_id = $1 AND id = $2`, [owner, id]);
  return rows[0] && toTodo(rows[0]);
}

export async function createTodo(db: Pool, owner: string, title: string): Promise<Todo> {
  const { rows } = await db.query<Row>(
    `INSERT INTO todos (owner_id, title) VALUES ($1, $2) RETURNING ${COLUMNS}`,
    [owner, title],
  );
  return toTodo(rows[0]!);
}

export interface TodoChanges {
  title?: string;
  completed?: boolean;
}

export async function updateTodo(db: Pool, owner: string, id: number, changes: TodoChanges): Promise<Todo | undefined> {
  const { rows } = await db.query<Row>(
    `UPDATE todos
        SET title = COALESCE($3, title),
            completed = COALESCE($4, completed),
            updated_at = now()
      WHERE owner_id = $1 AND id = $2
  RETURNING ${COLUMNS}`,
    [owner, id, changes.title ?? null, changes.completed ?? null],
  );
  return rows[0] && toTodo(rows[0]);
}

export async function deleteTodo(db: Pool, owner: string, id: number): Promise<boolean> {
  const { rowCount } = await db.query('DELETE FROM todos WHERE owner_id = $1 AND id = $2', [owner, id]);
  return (rowCount ?? 0) > 0;
}

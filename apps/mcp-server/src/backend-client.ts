// The backend's todo API, as the tools use it. Each call names the owner in X-User-Id,
// is bounded by a timeout, and turns a non-2xx answer into BackendError with the
// backend's own reason ({"error": "..."}).

import type { Todo } from './shared/todo.ts';

export class BackendError extends Error {
  constructor(
    readonly status: number | undefined,
    message: string,
  ) {
    super(message);
  }
}

export interface BackendClient {
  list(userId: string): Promise<Todo[]>;
  create(userId: string, title: string): Promise<Todo>;
  update(userId: string, id: number, changes: { title?: string; completed?: boolean }): Promise<Todo>;
  complete(userId: string, id: number): Promise<Todo>;
  remove(userId: string, id: number): Promise<void>;
}

export function backendClient(baseUrl: string, timeoutMs: number): BackendClient {
  const request = async <T>(userId: string, method: string, path: string, body?: unknown): Promise<T> => {
    let res: Response;
    try {
      res = await fetch(baseUrl + path, {
        method,
        headers: {
          'x-user-id': userId,
          accept: 'application/json',
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (err) {
      const cause = (err as { cause?: { code?: string } }).cause?.code;
      const why = (err as Error).name === 'TimeoutError' ? `no answer within ${timeoutMs} ms` : (cause ?? (err as Error).message);
      throw new BackendError(undefined, `the todo backend at ${new URL(baseUrl).host} is unreachable (${why})`);
    }
    const text = await res.text();
    let parsed: unknown;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      parsed = undefined;
    }
    if (!res.ok) {
      const reason = (parsed as { error?: unknown } | undefined)?.error;
      throw new BackendError(res.status, typeof reason === 'string' ? reason : `the todo backend answered HTTP ${res.status}`);
    }
    return parsed as T;
  };

  return {
    list: (userId) => request<Todo[]>(userId, 'GET', '/api/todos'),
    create: (userId, title) => request<Todo>(userId, 'POST', '/api/todos', { title }),
    update: (userId, id, changes) => request<Todo>(userId, 'PATCH', `/api/todos/${id}`, changes),
    complete: (userId, id) => request<Todo>(userId, 'POST', `/api/todos/${id}/complete`),
    remove: async (userId, id) => {
      await request<undefined>(userId, 'DELETE', `/api/todos/${id}`);
    },
  };
}

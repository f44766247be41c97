// The backend as a real process (apps/backend/dist/server.js) plus a tiny JSON client
// for its API. Used by the backend's and mcp-server's suites, and free for the
// frontend's to run the whole stack.

import { startService, type Service } from './service.ts';

export interface BackendEnv {
  DATABASE_URL?: string;
  OPENAI_API_KEY?: string;
  OPENAI_BASE_URL?: string;
  DAPR_HTTP_PORT?: string;
  LOG_LEVEL?: string;
  SHUTDOWN_TIMEOUT_MS?: string;
  [key: string]: string | undefined;
}

export function startBackend(env: BackendEnv): Promise<Service> {
  return startService({ name: 'backend', appDir: 'apps/backend', env });
}

export interface Reply<T = unknown> {
  status: number;
  body: T;
  headers: Headers;
}

/** One JSON request; the body is parsed when there is one. */
export async function call<T = any>(
  baseUrl: string,
  method: string,
  path: string,
  options: { user?: string; body?: unknown; rawBody?: string; headers?: Record<string, string> } = {},
): Promise<Reply<T>> {
  const headers: Record<string, string> = { ...options.headers };
  if (options.user !== undefined) headers['x-user-id'] = options.user;
  let body: string | undefined = options.rawBody;
  if (options.body !== undefined) {
    body = JSON.stringify(options.body);
    headers['content-type'] = 'application/json';
  }
  const res = await fetch(baseUrl + path, { method, headers, body });
  const text = await res.text();
  let parsed: unknown = text;
  if (text && (res.headers.get('content-type') ?? '').includes('json')) parsed = JSON.parse(text);
  return { status: res.status, body: parsed as T, headers: res.headers };
}

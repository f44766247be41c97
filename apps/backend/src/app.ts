// The HTTP API: routes, status codes, and one log line per request.
//
//   GET    /healthz                  200 while the process runs
//   GET    /readyz                   200 when the schema is in place and the database answers, else 503
//   GET    /api/todos                200 [todo], ordered by id
//   POST   /api/todos {title}        201 todo | 400
//   GET    /api/todos/:id            200 todo | 404
//   PATCH  /api/todos/:id {title?, completed?}   200 todo | 400 | 404
//   POST   /api/todos/:id/complete   200 todo | 404
//   DELETE /api/todos/:id            204 | 404
//   POST   /api/chat {message}       200 {reply, actions} | 400 | 503 without OPENAI_API_KEY
//
// Every /api request names its owner in X-User-Id (400 when missing or malformed).
// Database down: 503 {error}. Errors are always {error: "<reason>"}.

import type { IncomingMessage, RequestListener } from 'node:http';
import { APIError } from 'openai';
import type OpenAI from 'openai';
import { chat } from './chat.ts';
import { isUnavailable, type Database } from './database.ts';
import type { Events } from './events.ts';
import { HttpError, pathOf, readJson, sendJson } from './http.ts';
import { errorFields, type Logger } from './shared/log.ts';
import { todoOperations } from './operations.ts';
import { chatBody, createTodoBody, parseBody, parseId, parseUserId, updateTodoBody } from './validation.ts';

export interface AppDeps {
  db: Database;
  events: Events;
  log: Logger;
  /** Absent when OPENAI_API_KEY is not set: /api/chat then answers 503. */
  openai: { client: OpenAI; model: string } | undefined;
  /** During shutdown, responses ask clients to close their keep-alive connections. */
  shuttingDown: () => boolean;
  /** Called after each response is done (the server uses it to close idle connections during shutdown). */
  onResponseDone?: () => void;
}

export const CHAT_DISABLED =
  'chat is disabled: set OPENAI_API_KEY (the todo-secrets key openai-api-key) for the backend to enable it';

function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw new HttpError(400, 'the URL path is not valid percent-encoding');
  }
}

interface Reply {
  status: number;
  body?: unknown;
}

type Route = (req: IncomingMessage, params: string[]) => Promise<Reply>;

interface RouteTable {
  pattern: RegExp;
  methods: Record<string, Route>;
}

export function createApp(deps: AppDeps): RequestListener {
  const { db, events, log } = deps;
  const ops = (req: IncomingMessage) => todoOperations(db, events, parseUserId(req.headers['x-user-id']));

  const routes: RouteTable[] = [
    {
      pattern: /^\/healthz$/,
      methods: { GET: async () => ({ status: 200, body: { status: 'ok' } }) },
    },
    {
      pattern: /^\/readyz$/,
      methods: {
        GET: async () => {
          const state = await db.readiness();
          return state.ready
            ? { status: 200, body: { status: 'ready' } }
            : { status: 503, body: { status: 'not ready', reason: state.reason } };
        },
      },
    },
    {
      pattern: /^\/api\/todos$/,
      methods: {
        GET: async (req) => {
          const todos = ops(req);
          return { status: 200, body: await todos.list() };
        },
        POST: async (req) => {
          const todos = ops(req);
          const body = parseBody(createTodoBody, await readJson(req));
          return { status: 201, body: await todos.create(body.title) };
        },
      },
    },
    {
      pattern: /^\/api\/todos\/([^/]+)$/,
      methods: {
        GET: async (req, [id]) => {
          const todos = ops(req);
          return { status: 200, body: await todos.get(parseId(id!)) };
        },
        PATCH: async (req, [id]) => {
          const todos = ops(req);
          const todoId = parseId(id!);
          const changes = parseBody(updateTodoBody, await readJson(req));
          return { status: 200, body: await todos.update(todoId, changes) };
        },
        DELETE: async (req, [id]) => {
          const todos = ops(req);
          await todos.remove(parseId(id!));
          return { status: 204, body: undefined };
        },
      },
    },
    {
      pattern: /^\/api\/todos\/([^/]+)\/complete$/,
      methods: {
        POST: async (req, [id]) => {
          const todos = ops(req);
          return { status: 200, body: await todos.complete(parseId(id!)) };
        },
      },
    },
    {
      pattern: /^\/api\/chat$/,
      methods: {
        POST: async (req) => {
          if (!deps.openai) throw new HttpError(503, CHAT_DISABLED);
          const todos = ops(req);
          const { message } = parseBody(chatBody, await readJson(req));
          try {
            return { status: 200, body: await chat(deps.openai.client, deps.openai.model, todos, message) };
          } catch (err) {
            if (err instanceof APIError) {
              log.warn('chat model request failed', { status: err.status ?? null, ...errorFields(err, log.level) });
              const status = err.status ? `HTTP ${err.status}` : 'no answer';
              throw new HttpError(502, `the chat model request failed (${status}); check OPENAI_API_KEY and the model's availability`);
            }
            throw err;
          }
        },
      },
    },
  ];

  const route = async (req: IncomingMessage, path: string): Promise<Reply> => {
    for (const { pattern, methods } of routes) {
      const match = pattern.exec(path);
      if (!match) continue;
      const method = req.method === 'HEAD' && methods.GET ? 'GET' : (req.method ?? 'GET');
      const handler = methods[method];
      if (!handler) {
        const allow = Object.keys(methods).join(', ');
        throw new HttpError(405, `${req.method} is not allowed on ${path}; use ${allow}`, { allow });
      }
      return handler(req, match.slice(1).map(decodeSegment));
    }
    throw new HttpError(404, `no route for ${path}`);
  };

  /** Errors as replies: HttpError as itself, a database outage as 503, the rest as 500. */
  const replyFor = (err: unknown): Reply & { headers?: Record<string, string> } => {
    if (err instanceof HttpError) return { status: err.status, body: { error: err.message }, headers: err.headers };
    if (isUnavailable(err)) {
      db.observe(err);
      log.warn('database unavailable', errorFields(err, log.level));
      return { status: 503, body: { error: 'database unavailable, try again shortly' } };
    }
    log.error('request failed', errorFields(err, log.level));
    return { status: 500, body: { error: 'internal error' } };
  };

  return (req, res) => {
    const started = process.hrtime.bigint();
    const path = pathOf(req);
    res.once('close', () => {
      const ms = Number((process.hrtime.bigint() - started) / 1000n) / 1000;
      const status = res.writableFinished ? res.statusCode : 499; // 499: client went away first
      log.info('request', { method: req.method, path, status, ms });
      deps.onResponseDone?.();
    });

    route(req, path)
      .then((reply) => ({ ...reply, headers: {} as Record<string, string> }), replyFor)
      .then((reply) => {
        // Checked at answer time: a request that began before SIGTERM still tells its
        // client to drop the connection, so shutdown does not wait on keep-alive.
        const headers = deps.shuttingDown() ? { ...reply.headers, connection: 'close' } : reply.headers;
        sendJson(res, reply.status, reply.body, headers);
      })
      .catch((err: unknown) => {
        log.error('could not send the response', errorFields(err, log.level));
        res.destroy();
      });
  };
}

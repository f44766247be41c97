// The HTTP surface:
//
//   GET  /healthz   200 while the process runs
//   POST /mcp       MCP over Streamable HTTP (stateless: no session id; JSON responses), for the
//                   user its X-User-Id header names; a request without one is refused
//   GET/DELETE /mcp 405 (no server-initiated streams and no sessions in stateless mode)
//
// Stateless: each POST gets a fresh McpServer and transport, as the SDK recommends for
// servers that hold no per-client state. Any replica can answer any request, so the
// Deployment can scale without sticky sessions.
//
// Whose todos: the caller's X-User-Id, which only the frontend sets: it proxies /mcp as it
// proxies /api, with the id of its signed session cookie, and drops any X-User-Id a client
// sends. The NetworkPolicies admit only the frontend to this server, as they admit only the
// frontend and this server to the backend. The tools take no user argument, so an agent
// cannot act for anyone but the session it came with.

import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import type { BackendClient } from './backend-client.ts';
import { errorFields, type Logger } from './shared/log.ts';
import { registerTools, USER_ID } from './tools.ts';

export const SERVER_INFO = { name: 'todo-mcp-server', version: '0.1.0' };

const MAX_BODY_BYTES = 1024 * 1024;

export interface AppDeps {
  backend: BackendClient;
  log: Logger;
  shuttingDown: () => boolean;
  onResponseDone?: () => void;
}

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) {
  const text = JSON.stringify(body);
  res.writeHead(status, { ...headers, 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(text)) });
  res.end(text);
}

/** A JSON-RPC error answer, for requests refused before they reach the SDK. */
function rpcError(res: ServerResponse, status: number, code: number, message: string, headers: Record<string, string> = {}) {
  sendJson(res, status, { jsonrpc: '2.0', error: { code, message }, id: null }, headers);
}

async function readBody(req: IncomingMessage): Promise<string | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) return undefined;
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** Why a request's X-User-Id cannot be acted for, or undefined when it names a user. Pure. */
export function userIdProblem(header: string | string[] | undefined): string | undefined {
  const how =
    'This server acts only for the user its caller names in X-User-Id, which the frontend sets from its session cookie: ' +
    'call it through the frontend, at http://<the app\'s host>/mcp (http://todo.local/mcp in dev), with the cookie the page sets.';
  if (header === undefined || header === '') return `No X-User-Id header. ${how}`;
  // Node joins a repeated X-User-Id into one value ("a, b"), which the pattern then refuses.
  if (typeof header !== 'string') return `More than one X-User-Id header. ${how}`;
  if (!USER_ID.test(header)) return `The X-User-Id header is not 1-64 letters, digits, "_" or "-". ${how}`;
  return undefined;
}

export function createApp(deps: AppDeps): RequestListener {
  const { log } = deps;

  const handleMcp = async (req: IncomingMessage, res: ServerResponse) => {
    const header = req.headers['x-user-id'];
    const problem = userIdProblem(header);
    // The header's value is not echoed: it is someone's session id.
    if (problem) return rpcError(res, 403, -32001, problem);
    const userId = header as string;
    const text = await readBody(req);
    if (text === undefined) return rpcError(res, 413, -32600, `request body is larger than ${MAX_BODY_BYTES} bytes`);
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      return rpcError(res, 400, -32700, 'Parse error: the request body is not JSON');
    }
    const server = new McpServer(SERVER_INFO, { capabilities: { tools: {} } });
    registerTools(server, deps.backend, userId);
    const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true });
    res.once('close', () => {
      void transport.close();
      void server.close();
    });
    await server.connect(transport);
    await transport.handleRequest(req, res, body);
  };

  return (req, res) => {
    const started = process.hrtime.bigint();
    const url = req.url ?? '/';
    const path = url.includes('?') ? url.slice(0, url.indexOf('?')) : url;
    if (deps.shuttingDown()) res.setHeader('connection', 'close');
    res.once('close', () => {
      const ms = Number((process.hrtime.bigint() - started) / 1000n) / 1000;
      log.info('request', { method: req.method, path, status: res.writableFinished ? res.statusCode : 499, ms });
      deps.onResponseDone?.();
    });

    const route = async () => {
      if (path === '/healthz') {
        if (req.method === 'GET' || req.method === 'HEAD') return sendJson(res, 200, { status: 'ok' });
        return sendJson(res, 405, { error: `${req.method} is not allowed on /healthz; use GET` }, { allow: 'GET' });
      }
      if (path === '/mcp') {
        if (req.method === 'POST') return handleMcp(req, res);
        return rpcError(res, 405, -32000, `Method not allowed: this stateless MCP server takes POST ${path} only`, { allow: 'POST' });
      }
      sendJson(res, 404, { error: `no route for ${path}; the MCP endpoint is POST /mcp` });
    };

    route().catch((err: unknown) => {
      log.error('request failed', errorFields(err, log.level));
      if (!res.headersSent) rpcError(res, 500, -32603, 'Internal server error');
      else res.destroy();
    });
  };
}

// Forwards /api/* to the backend and /mcp to the MCP server, as the session's user. Only an
// allow-list of headers passes in either direction, so a client cannot choose its own X-User-Id
// and cookies never reach either server: both act for the X-User-Id set here and nothing else.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from './log.ts';

export const MAX_BODY_BYTES = 64 * 1024;
// Chat answers wait on the OpenAI API, so the deadline is generous.
const UPSTREAM_TIMEOUT_MS = 60_000;

const REQUEST_HEADERS = ['accept', 'content-type', 'accept-language'];
const RESPONSE_HEADERS = ['content-type', 'location', 'cache-control', 'retry-after', 'etag'];

/** A server the frontend forwards one path prefix to. */
export interface Upstream {
  /** In messages to the client: "todo backend", "MCP server". */
  name: string;
  /** In log lines ("backend unreachable"): the component's name. */
  component: string;
  origin: string;
  /** The path forwarded, with everything under it: '/api', '/mcp'. */
  prefix: string;
  /** Request headers that pass besides the common ones (accept, content-type, accept-language). */
  headers: readonly string[];
  /** The body of an answer the proxy gives itself (upstream down, body too large), in the upstream's own error shape. */
  errorBody(message: string): unknown;
}

/** The backend: its clients are the page's scripts, which read {"error": "..."}. */
export const backendUpstream = (origin: string): Upstream => ({
  name: 'todo backend',
  component: 'backend',
  origin,
  prefix: '/api',
  headers: [],
  errorBody: (message) => ({ error: message }),
});

/**
 * The MCP server's Streamable HTTP endpoint: its clients speak JSON-RPC, so the proxy's own
 * errors are JSON-RPC errors too, and the protocol version header passes (the server is
 * stateless: no Mcp-Session-Id).
 */
export const mcpUpstream = (origin: string): Upstream => ({
  name: 'MCP server',
  component: 'mcp-server',
  origin,
  prefix: '/mcp',
  headers: ['mcp-protocol-version'],
  errorBody: (message) => ({ jsonrpc: '2.0', error: { code: -32000, message }, id: null }),
});

export interface ForwardOptions {
  upstream: Upstream;
  userId: string;
  log: Logger;
  timeoutMs?: number;
}

export class BodyTooLargeError extends Error {}

/** The upstream URL for a request path, or undefined when it would leave the upstream's prefix after normalisation. */
export function upstreamTarget(upstream: Pick<Upstream, 'origin' | 'prefix'>, rawPath: string): URL | undefined {
  const target = new URL(upstream.origin + rawPath);
  return target.origin === upstream.origin && (target.pathname === upstream.prefix || target.pathname.startsWith(`${upstream.prefix}/`))
    ? target
    : undefined;
}

export function forwardHeaders(incoming: IncomingMessage['headers'], userId: string, extra: readonly string[] = []): Headers {
  const headers = new Headers();
  for (const name of [...REQUEST_HEADERS, ...extra]) {
    const value = incoming[name];
    if (typeof value === 'string') headers.set(name, value);
  }
  headers.set('x-user-id', userId);
  return headers;
}

async function readBody(req: IncomingMessage): Promise<Buffer | undefined> {
  if (req.method === 'GET' || req.method === 'HEAD') return undefined;
  const chunks: Buffer[] = [];
  let size = 0;
  // An oversized body is still read to its end (and dropped) so the client gets to read the 413;
  // hanging up mid-upload would show it a broken connection instead. Far past the limit, hang up.
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES * 16) throw new BodyTooLargeError();
    if (size <= MAX_BODY_BYTES) chunks.push(chunk);
  }
  if (size > MAX_BODY_BYTES) throw new BodyTooLargeError();
  return Buffer.concat(chunks);
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' });
  res.end(JSON.stringify(body));
}

export async function forward(req: IncomingMessage, res: ServerResponse, target: URL, opts: ForwardOptions): Promise<void> {
  let body: Buffer | undefined;
  try {
    body = await readBody(req);
  } catch (err) {
    if (err instanceof BodyTooLargeError) {
      sendJson(res, 413, opts.upstream.errorBody(`Request body is larger than ${MAX_BODY_BYTES} bytes.`));
      return;
    }
    throw err;
  }

  // Stop waiting on the backend when the browser has gone away or the backend hangs.
  const gone = new AbortController();
  res.on('close', () => { if (!res.writableFinished) gone.abort(); });
  const signal = AbortSignal.any([gone.signal, AbortSignal.timeout(opts.timeoutMs ?? UPSTREAM_TIMEOUT_MS)]);
  const { upstream: up } = opts;

  let upstream: Response;
  try {
    upstream = await fetch(target, {
      method: req.method,
      headers: forwardHeaders(req.headers, opts.userId, up.headers),
      body: body && body.length > 0 ? new Uint8Array(body) : undefined,
      redirect: 'manual',
      signal,
    });
  } catch (err) {
    if (gone.signal.aborted) return;
    const timedOut = err instanceof Error && err.name === 'TimeoutError';
    const cause = err instanceof Error && err.cause instanceof Error ? err.cause.message : String(err);
    opts.log.warn(`${up.component} unreachable`, { upstream: up.origin, path: target.pathname, cause: timedOut ? 'timeout' : cause });
    sendJson(
      res,
      timedOut ? 504 : 502,
      up.errorBody(
        timedOut
          ? `The ${up.name} did not answer in time. Please try again.`
          : `The ${up.name} is unreachable right now. Please try again in a moment.`,
      ),
    );
    return;
  }

  const headers: Record<string, string> = {};
  for (const name of RESPONSE_HEADERS) {
    const value = upstream.headers.get(name);
    if (value !== null) headers[name] = value;
  }
  headers['cache-control'] ??= 'no-store';
  try {
    const payload = Buffer.from(await upstream.arrayBuffer());
    res.writeHead(upstream.status, headers);
    res.end(req.method === 'HEAD' ? undefined : payload);
  } catch (err) {
    if (gone.signal.aborted) return;
    opts.log.warn(`${up.component} response failed`, { upstream: up.origin, path: target.pathname, cause: String(err) });
    sendJson(res, 502, up.errorBody(`The ${up.name} sent an incomplete answer. Please try again.`));
  }
}

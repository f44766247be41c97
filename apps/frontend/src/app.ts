// The HTTP server: /healthz, the page's static files, /api/* forwarded to the backend and /mcp
// to the MCP server, both as the session's user (an MCP client gets its session by loading the
// page, as a browser does). One JSON log line per request, without cookies or query strings.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import type { Config } from './config.ts';
import type { Logger } from './log.ts';
import { backendUpstream, forward, mcpUpstream, upstreamTarget, type Upstream } from './proxy.ts';
import { resolveSession } from './session.ts';
import type { Asset } from './static.ts';

// The page only loads its own files; nothing inline, nothing from elsewhere.
const PAGE_HEADERS = {
  'content-security-policy': "default-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
};

export interface App {
  server: Server;
  /** Stops accepting connections; resolves once requests in flight have finished. */
  shutdown(): Promise<void>;
}

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', ...headers });
  res.end(JSON.stringify(body));
}

function isSecure(req: IncomingMessage): boolean {
  // Behind the ingress the browser's scheme arrives in X-Forwarded-Proto.
  const proto = req.headers['x-forwarded-proto'];
  return typeof proto === 'string' && proto.split(',')[0]?.trim() === 'https';
}

function serveAsset(req: IncomingMessage, res: ServerResponse, asset: Asset, setCookie: string | undefined): void {
  const headers: Record<string, string> = {
    ...PAGE_HEADERS,
    'content-type': asset.contentType,
    'cache-control': 'no-cache',
    etag: asset.etag,
  };
  if (setCookie) headers['set-cookie'] = setCookie;
  if (req.headers['if-none-match'] === asset.etag) {
    res.writeHead(304, headers);
    res.end();
    return;
  }
  res.writeHead(200, { ...headers, 'content-length': String(asset.body.length) });
  res.end(req.method === 'HEAD' ? undefined : asset.body);
}

export function createApp(config: Config, log: Logger, assets: Map<string, Asset>): App {
  let closing = false;
  const inFlight = new Set<ServerResponse>();
  const upstreams: Upstream[] = [backendUpstream(config.backendOrigin), mcpUpstream(config.mcpOrigin)];

  async function route(req: IncomingMessage, res: ServerResponse, path: string): Promise<void> {
    const rawUrl = req.url ?? '';
    if (path === '/healthz') {
      sendJson(res, 200, { status: 'ok' });
      return;
    }
    const upstream = upstreams.find((u) => path === u.prefix || path.startsWith(`${u.prefix}/`));
    if (upstream) {
      const target = upstreamTarget(upstream, rawUrl);
      if (!target) {
        sendJson(res, 404, { error: 'Not found.' });
        return;
      }
      const session = resolveSession(req.headers.cookie, config.secret, isSecure(req));
      if (session.setCookie) res.setHeader('set-cookie', session.setCookie);
      await forward(req, res, target, { upstream, userId: session.id, log });
      return;
    }
    const asset = assets.get(path);
    if (!asset) {
      sendJson(res, 404, { error: 'Not found.' });
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      sendJson(res, 405, { error: 'Method not allowed.' }, { allow: 'GET, HEAD' });
      return;
    }
    const session = resolveSession(req.headers.cookie, config.secret, isSecure(req));
    serveAsset(req, res, asset, session.setCookie);
  }

  const server = createServer((req, res) => {
    const started = performance.now();
    inFlight.add(res);
    // Only the path is logged: query strings and headers may carry personal data.
    let path = '?';
    const rawUrl = req.url ?? '';
    if (rawUrl.startsWith('/')) path = new URL(rawUrl, 'http://frontend.invalid').pathname;
    if (closing) res.setHeader('connection', 'close');
    res.on('close', () => {
      inFlight.delete(res);
      log.info('request', {
        method: req.method,
        path,
        status: res.writableFinished ? res.statusCode : 499,
        ms: Math.round((performance.now() - started) * 10) / 10,
      });
    });
    if (!rawUrl.startsWith('/')) {
      sendJson(res, 400, { error: 'Only origin-form request targets are accepted.' });
      return;
    }
    route(req, res, path).catch((err: unknown) => {
      log.error('request failed', { method: req.method, path, cause: err instanceof Error ? err.message : String(err) });
      if (!res.headersSent) sendJson(res, 500, { error: 'Internal error.' });
      else res.destroy();
    });
  });

  function shutdown(): Promise<void> {
    closing = true;
    // Responses not yet started tell their client to hang up, so keep-alive sockets drain.
    for (const res of inFlight) if (!res.headersSent) res.setHeader('connection', 'close');
    return new Promise((resolve) => {
      server.close(() => resolve());
      server.closeIdleConnections();
    });
  }

  return { server, shutdown };
}

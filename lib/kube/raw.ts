// Plain JSON to and from the API server, as it is sent. client-node's KubernetesObjectApi
// passes what it sends and reads through its typed models, which rename fields (a
// NetworkPolicy rule's `from` is `_from` there), turn timestamps into Dates and drop whatever a
// model does not know: a manifest's `from:` was silently left out of the apply, so the policy
// allowed every source. Applies and the diff's lists go through here instead, with the
// kubeconfig's credentials and one kept-alive connection per cluster. Paths come from the kind
// table (or discovery), so no request is spent on looking a kind up.
import http from 'node:http';
import https from 'node:https';
import { DeployError } from '../errors.ts';
import type { WatchTarget } from '../kinds.ts';
import { networkCause, unreachableError, type Cluster } from './client.ts';

/** The collection path of a kind (in a namespace, when the kind is namespaced): no discovery needed. */
export function resourcePath(target: WatchTarget): string {
  const { apiVersion, plural, namespaced } = target.kind;
  const base = apiVersion.includes('/') ? `/apis/${apiVersion}` : `/api/${apiVersion}`;
  const ns = namespaced && target.namespace ? `/namespaces/${target.namespace}` : '';
  return `${base}${ns}/${plural}`;
}

const agents = new WeakMap<Cluster, https.Agent>();

function agentFor(cluster: Cluster): https.Agent {
  let agent = agents.get(cluster);
  if (!agent) {
    agent = new https.Agent({ keepAlive: true });
    agents.set(cluster, agent);
  }
  return agent;
}

/** A non-2xx answer. `code` and `body` have the shape lib/kube/apply.ts reads from client-node's errors. */
export class ApiStatusError extends DeployError {
  constructor(
    message: string,
    readonly code: number,
    readonly body: unknown,
  ) {
    super(message);
    this.name = 'ApiStatusError';
  }

  /** The server's Retry-After, when it sent one. */
  retryAfterSeconds?: number;
}

export interface RequestOptions {
  query?: Record<string, string | undefined>;
  /** JSON body (sent as given; an apply's object is valid YAML as JSON). */
  body?: unknown;
  contentType?: string;
  /** The Accept header (default application/json): aggregated discovery asks for its own media type first. */
  accept?: string;
}

/** Answers that say "ask again shortly": too many requests (or storage of a new CRD still starting), unavailable. */
const RETRY_STATUS = new Set([429, 503]);
const RETRIES = 5;
const MAX_RETRY_WAIT_MS = 2000;

/**
 * One request; resolves with the parsed JSON answer. 429 and 503 are asked again after the
 * server's Retry-After (at most 2 s, 5 times): every request here is idempotent (GET, and
 * server-side apply). Network failures become unreachableError.
 */
export async function requestJson<T = unknown>(cluster: Cluster, method: string, path: string, options: RequestOptions = {}): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await requestOnce<T>(cluster, method, path, options);
    } catch (err) {
      if (!(err instanceof ApiStatusError) || !RETRY_STATUS.has(err.code) || attempt >= RETRIES) throw err;
      const wait = Math.min(MAX_RETRY_WAIT_MS, (err.retryAfterSeconds ?? 0) * 1000 || 100 * 2 ** attempt);
      await new Promise((r) => setTimeout(r, wait));
    }
  }
}

async function requestOnce<T>(cluster: Cluster, method: string, path: string, options: RequestOptions): Promise<T> {
  const url = new URL(cluster.server.replace(/\/$/, '') + path);
  for (const [k, v] of Object.entries(options.query ?? {})) if (v !== undefined) url.searchParams.set(k, v);
  const payload = options.body === undefined ? undefined : Buffer.from(JSON.stringify(options.body), 'utf8');
  const headers: Record<string, string | number> = { Accept: options.accept ?? 'application/json' };
  if (payload) Object.assign(headers, { 'Content-Type': options.contentType ?? 'application/json', 'Content-Length': payload.length });
  const request: https.RequestOptions = { method, headers };
  await cluster.kc.applyToHTTPSOptions(request);
  const secure = url.protocol === 'https:';
  if (secure) request.agent = agentFor(cluster);
  try {
    return await new Promise<T>((resolve, reject) => {
      const req = (secure ? https : http).request(url, request, (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (c: Buffer) => chunks.push(c));
        response.on('error', reject);
        response.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let parsed: unknown = text;
          try {
            parsed = text ? JSON.parse(text) : undefined;
          } catch {
            // not JSON: kept as text
          }
          const status = response.statusCode ?? 0;
          if (status < 200 || status > 299) {
            const message = (parsed as { message?: unknown } | undefined)?.message;
            const error = new ApiStatusError(`${method} ${path}: HTTP ${status}: ${typeof message === 'string' ? message : text}`, status, parsed);
            const retryAfter = Number(response.headers['retry-after']);
            if (Number.isFinite(retryAfter)) error.retryAfterSeconds = retryAfter;
            reject(error);
            return;
          }
          if (typeof parsed === 'string') reject(new DeployError(`${method} ${path}: the API server's answer is not JSON.`));
          else resolve(parsed as T);
        });
      });
      req.on('error', reject);
      req.end(payload);
    });
  } catch (err) {
    const cause = networkCause(err);
    if (cause) throw unreachableError(cluster, cause);
    throw err;
  }
}

export function getJson<T = unknown>(cluster: Cluster, path: string, query: Record<string, string | undefined> = {}): Promise<T> {
  return requestJson<T>(cluster, 'GET', path, { query });
}

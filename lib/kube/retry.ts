// Transient API faults are waited out, not reported: a connection refused or reset (an API
// server restarting), 429 Too Many Requests, a 5xx, are retried with a growing pause until the
// gate's deadline. An API server that stays away past it ends the run with one sentence that
// names the server, how long it was gone and the last error, never a stack.
import { DeployError } from '../errors.ts';
import { networkCause } from './client.ts';

/** HTTP statuses that say "try again": throttled, or the server (or a proxy before it) failed. */
const TRANSIENT_STATUS = new Set([429, 500, 502, 503, 504]);
/** Socket-level failures of a server that is restarting or a connection that dropped. */
const TRANSIENT_CAUSE = /^(ECONNREFUSED|ECONNRESET|EPIPE|ETIMEDOUT|EAI_AGAIN|ENETUNREACH|EHOSTUNREACH|UND_ERR_SOCKET|UND_ERR_CONNECT_TIMEOUT|UND_ERR_HEADERS_TIMEOUT|UND_ERR_BODY_TIMEOUT|UND_ERR_CLOSED)$|socket hang up|other side closed/i;

export interface Fault {
  transient: boolean;
  /** Short words for messages: "connection refused", "HTTP 503". */
  what: string;
  /** Seconds the server asked us to wait (Retry-After), when it said. */
  retryAfterSeconds?: number;
}

const CAUSE_WORDS: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset',
  EPIPE: 'connection closed while writing',
  ETIMEDOUT: 'connection timed out',
  UND_ERR_SOCKET: 'connection closed by the server',
};

/** Words of an API server that is stopping or starting (its Status message), whatever the code says. */
const TRANSIENT_MESSAGE = /apiserver is shutting down|the server is currently unable to handle the request|etcdserver: (leader changed|request timed out)/i;

/** The HTTP status of an error, or of the error it wraps (our messages keep the API's error as their cause). */
function httpStatus(err: unknown): { status: number; error: unknown } | undefined {
  let e: any = err;
  for (let depth = 0; e && depth < 5; depth++, e = e.cause) {
    if (typeof e.code === 'number') return { status: e.code, error: e };
  }
  return undefined;
}

/** Whether an error from client-node (or fetch below it) is worth retrying. Pure. */
export function classifyFault(err: unknown): Fault {
  const message = err instanceof Error ? err.message : String(err);
  // A retry that already waited until its deadline is final: an outer retry must not start over.
  if (err instanceof ApiUnavailable) return { transient: false, what: message };
  const http = httpStatus(err);
  if (http) {
    const headers = (http.error as { headers?: Record<string, string> }).headers ?? {};
    const after = Number(headers['retry-after'] ?? headers['Retry-After']);
    return { transient: TRANSIENT_STATUS.has(http.status) || TRANSIENT_MESSAGE.test(message), what: `HTTP ${http.status}`, retryAfterSeconds: Number.isFinite(after) && after > 0 ? after : undefined };
  }
  if (TRANSIENT_MESSAGE.test(message)) return { transient: true, what: message };
  const cause = networkCause(err);
  if (cause) return { transient: TRANSIENT_CAUSE.test(cause), what: CAUSE_WORDS[cause] ?? cause };
  return { transient: TRANSIENT_CAUSE.test(message), what: message };
}

const FIRST_PAUSE_MS = 200;
const MAX_PAUSE_MS = 5_000;

/** The pause before retry number `attempt` (0-based): doubling from 200 ms to 5 s, or what Retry-After asked. Pure. */
export function retryPause(attempt: number, retryAfterSeconds?: number): number {
  if (retryAfterSeconds !== undefined) return Math.min(retryAfterSeconds * 1000, 30_000);
  return Math.min(MAX_PAUSE_MS, FIRST_PAUSE_MS * 2 ** attempt);
}

export interface RetryOptions {
  /** Absolute time (ms since epoch) after which a fault is no longer waited out. */
  deadline: number;
  /** The API server, for the message when it stays away. */
  server?: string;
  signal?: AbortSignal;
  /** Told about each retry (the task title can say "API server away, retrying"). */
  onRetry?: (fault: Fault, attempt: number, pauseMs: number) => void;
}

export class ApiUnavailable extends DeployError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ApiUnavailable';
  }
}

/**
 * Runs `call`, retrying transient faults until the deadline. A fault that is not transient (a
 * 4xx the request earned) is thrown at once, as is everything after the signal aborts.
 */
export async function withRetry<T>(what: string, call: () => Promise<T>, options: RetryOptions): Promise<T> {
  const started = Date.now();
  for (let attempt = 0; ; attempt++) {
    try {
      return await call();
    } catch (err) {
      if (options.signal?.aborted) throw err;
      const fault = classifyFault(err);
      if (!fault.transient) throw err;
      const pause = retryPause(attempt, fault.retryAfterSeconds);
      if (Date.now() + pause > options.deadline) {
        const away = Math.round((Date.now() - started) / 1000);
        throw new ApiUnavailable(
          `The API server${options.server ? ` at ${options.server}` : ''} did not answer ${what} for ${away} s (last: ${fault.what}), until the deadline. ` +
            'What was applied before stays. Fix: check that the cluster runs (`kubectl get --raw /readyz`), then run the command again: it carries on from what is there.',
          { cause: err },
        );
      }
      options.onRetry?.(fault, attempt, pause);
      await sleep(pause, options.signal);
      if (options.signal?.aborted) throw err;
    }
  }
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}

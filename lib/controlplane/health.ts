// Waiting for a component to answer on its health endpoint. The wait ends on the first
// healthy answer, when the process exits (with its log in the error), or at the deadline.

import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { logTail, type Component } from './processes.ts';

export interface HealthCheck {
  /** For messages, e.g. "kube-apiserver". */
  name: string;
  url: string;
  /** PEM to trust for https; omitted with insecure for self-signed component certs on loopback. */
  ca?: string;
  insecure?: boolean;
  token?: string;
  /** Healthy when this accepts the body of a 200 answer (default: any 200). */
  accept?: (body: string) => boolean;
}

export interface Answer {
  status: number;
  body: string;
}

export function get(check: Pick<HealthCheck, 'url' | 'ca' | 'insecure' | 'token'>, timeoutMs = 2_000): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const url = new URL(check.url);
    const headers: Record<string, string> = {};
    if (check.token) headers.authorization = `Bearer ${check.token}`;
    const options = { method: 'GET', headers, timeout: timeoutMs, agent: false as const };
    const req =
      url.protocol === 'https:'
        ? httpsRequest(url, { ...options, ca: check.ca, rejectUnauthorized: !check.insecure })
        : httpRequest(url, options);
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on('error', reject);
    req.on('response', (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      res.on('error', reject);
    });
    req.end();
  });
}

const POLL_MS = 100;

export async function waitForHealthy(check: HealthCheck, deadlineMs: number, component?: Component): Promise<void> {
  const deadline = Date.now() + deadlineMs;
  let last = 'no answer yet';
  let exitedWith: string | undefined;
  component?.exited.then((how) => (exitedWith = how));
  while (true) {
    if (exitedWith) {
      throw new Error(`${check.name} stopped before it was healthy (${exitedWith}). Last lines of ${component!.logFile}:\n${logTail(component!.logFile)}`);
    }
    try {
      const answer = await get(check);
      if (answer.status === 200 && (check.accept ?? (() => true))(answer.body)) return;
      last = `HTTP ${answer.status}: ${answer.body.trim().split('\n').slice(-5).join(' | ')}`;
    } catch (err) {
      last = (err as Error).message;
    }
    if (Date.now() >= deadline) {
      const log = component ? ` Last lines of ${component.logFile}:\n${logTail(component.logFile)}` : '';
      throw new Error(`${check.name} was not healthy at ${check.url} within ${Math.round(deadlineMs / 1000)} s (last: ${last}).${log}`);
    }
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}

/**
 * The health check of a component, read from the arguments it was started with (the same for a
 * plane this process started and for one a CLI finds by its pids). Pure.
 */
export function healthFromArgs(name: string, args: readonly string[], adminToken?: string): HealthCheck {
  const flag = (key: string) => args.find((a) => a.startsWith(`--${key}=`))?.slice(key.length + 3);
  const need = (key: string) => {
    const value = flag(key);
    if (!value) throw new Error(`${name} was started without --${key}, so its health endpoint is unknown.`);
    return value;
  };
  switch (name) {
    case 'etcd':
      return { name, url: `${need('listen-client-urls').split(',')[0]}/health`, accept: (b) => b.includes('"health":"true"') };
    case 'kube-apiserver':
      return { name, url: `https://127.0.0.1:${need('secure-port')}/readyz`, insecure: true, token: adminToken };
    case 'kube-controller-manager':
    case 'kube-scheduler':
      return { name, url: `https://127.0.0.1:${need('secure-port')}/healthz`, insecure: true };
    case 'kwok':
      return { name, url: `http://${need('server-address')}/healthz` };
    default:
      throw new Error(`${name} has no known health endpoint.`);
  }
}

// The checks of .github/workflows/smoke.yml, from the host: the frontend page through the
// ingress, a todo created through the ingress's /api (with the cookies the frontend sets, as
// curl's jar keeps them) and read back from PostgreSQL in its pod, and an MCP tool call through
// the ingress's /mcp with the same cookies (Streamable HTTP: JSON-RPC over POST) that lists it.

import { execFile, execFileSync } from 'node:child_process';
import { nodeArtifacts, readVersions } from '../../../lib/controlplane/versions.ts';

export interface Answer {
  status: number;
  type: string;
  body: string;
}

/** The headers of a Streamable HTTP request to /mcp, as smoke.yml sends them with curl -H. */
export const MCP_HEADERS = ['content-type: application/json', 'accept: application/json, text/event-stream', 'mcp-protocol-version: 2025-06-18'];

/** The body of a JSON-RPC request to /mcp. */
export const rpc = (id: number, method: string, params: Record<string, unknown>) => ({ jsonrpc: '2.0', id, method, params });

/**
 * curl --resolve HOST:80:ADDRESS, as smoke.yml asks through the ingress: requests to
 * http://HOST/... go to ADDRESS with HOST in the Host header, cookies kept in `jar` (curl's
 * -b/-c). `retry` adds curl's own retries (the controller may still be loading its routes
 * when the Ingress has its address, as smoke.yml allows for ingress-nginx's reload).
 */
export function curlVia(host: string, address: string, jar: string): (url: string, init?: { method?: string; json?: unknown; headers?: string[]; retry?: boolean }) => Promise<Answer> {
  return (url, init = {}) =>
    new Promise((resolve, reject) => {
      const args = ['-sS', '--max-time', '20', '--resolve', `${host}:80:${address}`, '-b', jar, '-c', jar, '-X', init.method ?? 'GET', '-w', '\n%{http_code} %{content_type}'];
      if (init.retry) args.push('--retry', '10', '--retry-all-errors', '--retry-delay', '2', '-f');
      for (const h of init.headers ?? []) args.push('-H', h);
      if (init.json !== undefined) args.push(...(init.headers?.some((h) => /^content-type:/i.test(h)) ? [] : ['-H', 'content-type: application/json']), '--data-binary', JSON.stringify(init.json));
      execFile('curl', [...args, url], { encoding: 'utf8' }, (err, stdout, stderr) => {
        if (err && !stdout) return reject(new Error(`curl ${args.join(' ')} ${url}: ${stderr || err.message}`));
        const cut = stdout.lastIndexOf('\n');
        const [code, type] = stdout.slice(cut + 1).split(' ');
        resolve({ status: Number(code), type: type ?? '', body: stdout.slice(0, cut) });
      });
    });
}

/** The sandbox's kubectl (built here) with its kubeconfig, as smoke.yml runs kubectl: its output. */
export function kubectl(kubeconfig: string, args: string[]): string {
  return execFileSync(nodeArtifacts(readVersions()).kubectl, ['--kubeconfig', kubeconfig, ...args], { encoding: 'utf8', timeout: 60_000 });
}

/**
 * The SQL both smoke.yml and the suite run with psql in the PostgreSQL pod (over its local
 * socket, which needs no password): the owner of the todo with this title, one line each.
 */
export const ownerOfTitleSql = (title: string): string => `SELECT owner_id FROM todos WHERE title = '${title.replaceAll("'", "''")}'`;

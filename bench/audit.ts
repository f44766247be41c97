// Counting the API requests each tool makes: the benchmark's kube-apiserver writes an audit log
// (one JSON line per finished request) of one identity only, a ServiceAccount given to the
// tools under test and to nothing else (the benchmark's own watches, snapshots and the
// stand-ins use the admin credentials). A phase's requests are the lines written between its
// start and its end; a watch counts when it ends, which is when its tool exits.
import { closeSync, openSync, readSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { renderKubeconfig } from '../lib/controlplane/config.ts';
import type { Cluster } from '../lib/kube/client.ts';
import { requestJson } from '../lib/kube/raw.ts';

export const TOOL_NAMESPACE = 'default';
export const TOOL_ACCOUNT = 'bench-tool';
export const TOOL_USER = `system:serviceaccount:${TOOL_NAMESPACE}:${TOOL_ACCOUNT}`;

/** The audit policy: Metadata for the tools' identity, nothing for anyone else. Pure. */
export function auditPolicy(): string {
  return [
    'apiVersion: audit.k8s.io/v1',
    'kind: Policy',
    'omitStages: [RequestReceived, ResponseStarted]',
    'rules:',
    `  - level: Metadata`,
    `    users: ["${TOOL_USER}"]`,
    '  - level: None',
    '',
  ].join('\n');
}

export interface AuditFiles {
  policy: string;
  log: string;
  /** kube-apiserver flags for startControlPlane's apiserverExtraArgs. */
  args: string[];
}

export function writeAuditPolicy(dir: string): AuditFiles {
  const policy = path.join(dir, 'audit-policy.yaml');
  const log = path.join(dir, 'audit.log');
  writeFileSync(policy, auditPolicy(), { mode: 0o600 });
  // Blocking mode: a request's line is written before its answer, so counting right after a tool exits misses none.
  return { policy, log, args: [`--audit-policy-file=${policy}`, `--audit-log-path=${log}`, '--audit-log-format=json', '--audit-log-mode=blocking', '--audit-log-maxsize=0'] };
}

/**
 * Creates the tools' ServiceAccount (cluster-admin, as the admin kubeconfig is) and writes a
 * kubeconfig with a token for it. Returns the kubeconfig's path.
 */
export async function writeToolKubeconfig(cluster: Cluster, caPem: string, file: string): Promise<string> {
  const apply = (apiPath: string, body: unknown) =>
    requestJson(cluster, 'PATCH', apiPath, { query: { fieldManager: 'todo-deploy-bench', force: 'true' }, body, contentType: 'application/apply-patch+yaml' });
  await apply(`/api/v1/namespaces/${TOOL_NAMESPACE}/serviceaccounts/${TOOL_ACCOUNT}`, { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: TOOL_ACCOUNT, namespace: TOOL_NAMESPACE } });
  await apply(`/apis/rbac.authorization.k8s.io/v1/clusterrolebindings/${TOOL_ACCOUNT}`, {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'ClusterRoleBinding',
    metadata: { name: TOOL_ACCOUNT },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'cluster-admin' },
    subjects: [{ kind: 'ServiceAccount', name: TOOL_ACCOUNT, namespace: TOOL_NAMESPACE }],
  });
  const token = await requestJson<{ status: { token: string } }>(cluster, 'POST', `/api/v1/namespaces/${TOOL_NAMESPACE}/serviceaccounts/${TOOL_ACCOUNT}/token`, {
    body: { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', spec: { expirationSeconds: 48 * 3600 } },
  });
  writeFileSync(file, renderKubeconfig({ server: cluster.server, caPem, user: TOOL_ACCOUNT, token: token.status.token }), { mode: 0o600 });
  return file;
}

export interface RequestCount {
  total: number;
  /** get, list, watch, create, patch, update, delete, deletecollection, ... */
  byVerb: Record<string, number>;
}

/** Counts the tool identity's finished requests in audit-log lines. Pure. */
export function countRequests(lines: string): RequestCount {
  const byVerb: Record<string, number> = {};
  let total = 0;
  for (const line of lines.split('\n')) {
    if (!line.trim()) continue;
    let event: { stage?: string; verb?: string; user?: { username?: string } };
    try {
      event = JSON.parse(line);
    } catch {
      continue; // a line cut in the middle: the next read gets it whole
    }
    if (event.user?.username !== TOOL_USER || (event.stage !== 'ResponseComplete' && event.stage !== 'Panic')) continue;
    total++;
    const verb = event.verb ?? 'unknown';
    byVerb[verb] = (byVerb[verb] ?? 0) + 1;
  }
  return { total, byVerb };
}

/** Where the log ends now; countSince reads from there. */
export function logOffset(file: string): number {
  try {
    return statSync(file).size;
  } catch {
    return 0;
  }
}

export function countSince(file: string, offset: number): RequestCount {
  const end = logOffset(file);
  if (end <= offset) return { total: 0, byVerb: {} };
  const fd = openSync(file, 'r');
  try {
    const buffer = Buffer.alloc(end - offset);
    readSync(fd, buffer, 0, buffer.length, offset);
    return countRequests(buffer.toString('utf8'));
  } finally {
    closeSync(fd);
  }
}

/** "47 (list 12, watch 11, patch 22, get 2)". Pure. */
export function describeCount(c: RequestCount): string {
  const verbs = Object.entries(c.byVerb).sort((a, b) => b[1] - a[1]).map(([v, n]) => `${v} ${n}`);
  return verbs.length ? `${c.total} (${verbs.join(', ')})` : String(c.total);
}

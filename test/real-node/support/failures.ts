// The four failures only a real node shows, each as one small Deployment added to a copy of
// manifests/: it runs the backend image (already on the node) with a command that fails in
// one way. Each passes the policy gate like the stack's own workloads, so `up` applies it and
// its rollout gate is what fails.
import { cpSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { REPO_ROOT as repoRoot } from '../../../lib/repo-root.ts';

export type FailureKind = 'crash' | 'never-pulled' | 'never-ready' | 'oom';

interface Variant {
  image: string;
  command?: string[];
  /** Memory limit (the OOM case sets it just above what Node needs to start). */
  memory: string;
  /** What the diagnosis must name. */
  reason: RegExp;
  /** A log line the diagnosis must show, when the container ran. */
  logLine?: string;
}

export const FAILURES: Record<FailureKind, Variant> = {
  // Exits at start, every time: the kubelet restarts it with a growing back-off.
  crash: {
    image: '${BACKEND_IMAGE}',
    command: ['node', '-e', "console.log('fail-crash: DATABASE_URL points nowhere, exiting'); process.exit(3)"],
    memory: '128Mi',
    reason: /container app (CrashLoopBackOff|last terminated Error \(exit 3\))/,
    logLine: 'fail-crash: DATABASE_URL points nowhere, exiting',
  },
  // imagePullPolicy Never (dev) and an image the node does not hold.
  'never-pulled': {
    image: 'todo-deploy-absent/never-built:1.0.0',
    memory: '128Mi',
    reason: /container app ErrImageNeverPull/,
  },
  // Serves, but its readiness endpoint always answers 503.
  'never-ready': {
    image: '${BACKEND_IMAGE}',
    command: ['node', '-e', "require('node:http').createServer((q, r) => { console.log('fail-never-ready: ' + q.url + ' -> 503'); r.statusCode = 503; r.end('not ready'); }).listen(8000)"],
    memory: '128Mi',
    reason: /container app running but not ready \(readiness probe failing\)[\s\S]*Readiness probe failed: HTTP probe failed with statuscode: 503/,
    logLine: 'fail-never-ready: /readyz -> 503',
  },
  // Allocates past its memory limit: the kernel's OOM killer ends it.
  oom: {
    image: '${BACKEND_IMAGE}',
    command: ['node', '-e', "console.log('fail-oom: allocating'); const a = []; setInterval(() => a.push(Buffer.alloc(8 << 20, 1)), 20)"],
    memory: '96Mi',
    reason: /container app last terminated OOMKilled \(exit 137\)/,
  },
};

/** The failing Deployment of one kind, rendered by up like the stack's manifests. */
export function failureDeployment(kind: FailureKind): Record<string, unknown> {
  const v = FAILURES[kind];
  const name = `fail-${kind}`;
  const labels = {
    'app.kubernetes.io/name': name,
    'app.kubernetes.io/instance': 'todo',
    'app.kubernetes.io/component': 'test-failure',
    'app.kubernetes.io/part-of': 'todo',
    'app.kubernetes.io/managed-by': 'todo-deploy',
  };
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: {
      name,
      namespace: '${NAMESPACE}',
      labels,
      annotations: {
        'todo-deploy.dev/allow.serviceaccount.one-per-component': 'a test fixture that fails on purpose borrows the MCP server\'s account, which is granted nothing',
      },
    },
    spec: {
      replicas: 1,
      selector: { matchLabels: { 'app.kubernetes.io/name': name, 'app.kubernetes.io/instance': 'todo' } },
      template: {
        metadata: { labels },
        spec: {
          serviceAccountName: 'mcp-server-sa',
          automountServiceAccountToken: false,
          securityContext: { runAsNonRoot: true, runAsUser: 1000, runAsGroup: 1000, fsGroup: 1000, seccompProfile: { type: 'RuntimeDefault' } },
          containers: [
            {
              name: 'app',
              image: v.image,
              imagePullPolicy: '${IMAGE_PULL_POLICY}',
              ...(v.command ? { command: v.command } : {}),
              ports: [{ name: 'http', containerPort: 8000, protocol: 'TCP' }],
              securityContext: { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } },
              resources: { requests: { cpu: '10m', memory: '32Mi' }, limits: { cpu: '250m', memory: v.memory } },
              livenessProbe: { httpGet: { path: '/healthz', port: 'http' }, initialDelaySeconds: 60, periodSeconds: 10 },
              readinessProbe: { httpGet: { path: '/readyz', port: 'http' }, periodSeconds: 2, failureThreshold: 1 },
              volumeMounts: [{ name: 'tmp', mountPath: '/tmp' }],
            },
          ],
          volumes: [{ name: 'tmp', emptyDir: { sizeLimit: '16Mi' } }],
        },
      },
    },
  };
}

/** A copy of manifests/ with the failing Deployment of one kind added; returns the folder. */
export function failureManifests(tmp: string, kind: FailureKind): string {
  const dir = join(tmp, `manifests-fail-${kind}`);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  cpSync(join(repoRoot, 'manifests'), dir, { recursive: true });
  writeFileSync(join(dir, `95-fail-${kind}.yaml`), `# A Deployment that fails on purpose (test/real-node).\n${stringify(failureDeployment(kind))}`);
  return dir;
}

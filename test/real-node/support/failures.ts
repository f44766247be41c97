// The four failures only a real node shows. Each runs the backend image (already on the node)
// with a command that fails in one way, or an image the node does not hold, and passes the
// policy gate like the stack's own workloads, so `up` applies it and its rollout gate is what
// fails. Two are a failed upgrade of the stack's own backend Deployment, which `up` rolls back
// (the test checks the diagnosis and that the previous revision is back); the other two are a
// small Deployment of their own added to a copy of manifests/, which `up --no-rollback` keeps
// for the test to read.
import { cpSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments, stringify } from 'yaml';
import { REPO_ROOT as repoRoot } from '../../../lib/repo-root.ts';

export type FailureKind = 'crash' | 'never-pulled' | 'never-ready' | 'oom';

interface Variant {
  /**
   * backend: the stack's backend Deployment is changed to fail (container backend);
   * added: a Deployment fail-<kind> of its own is added (container app).
   */
  into: 'backend' | 'added';
  image: string;
  command?: string[];
  /** Memory limit of an added Deployment (the OOM case sets it just above what Node needs to start). */
  memory: string;
  /** What the diagnosis must name, for the container's name. */
  reason: (container: string) => RegExp;
  /** A log line the diagnosis must show, when the container ran. */
  logLine?: string;
  /** The waiting reason a pod shows that fail fast acts on (the time from it to up's exit is measured). */
  shows?: string;
}

export const FAILURES: Record<FailureKind, Variant> = {
  // Exits at start, every time: the kubelet restarts it with a growing back-off.
  crash: {
    into: 'backend',
    shows: 'CrashLoopBackOff',
    image: '${BACKEND_IMAGE}',
    command: ['node', '-e', "console.log('fail-crash: DATABASE_URL points nowhere, exiting'); process.exit(3)"],
    memory: '128Mi',
    reason: (c) => new RegExp(`container ${c} (CrashLoopBackOff|last terminated Error \\(exit 3\\))`),
    logLine: 'fail-crash: DATABASE_URL points nowhere, exiting',
  },
  // imagePullPolicy Never (dev) and an image the node does not hold.
  'never-pulled': {
    into: 'backend',
    shows: 'ErrImageNeverPull',
    image: 'todo-deploy-absent/never-built:1.0.0',
    memory: '128Mi',
    reason: (c) => new RegExp(`container ${c} ErrImageNeverPull`),
  },
  // Serves, but its readiness endpoint always answers 503.
  'never-ready': {
    into: 'added',
    image: '${BACKEND_IMAGE}',
    command: ['node', '-e', "require('node:http').createServer((q, r) => { console.log('fail-never-ready: ' + q.url + ' -> 503'); r.statusCode = 503; r.end('not ready'); }).listen(8000)"],
    memory: '128Mi',
    reason: (c) => new RegExp(`container ${c} running but not ready \\(readiness probe failing\\)[\\s\\S]*Readiness probe failed: HTTP probe failed with statuscode: 503`),
    logLine: 'fail-never-ready: /readyz -> 503',
  },
  // Allocates past its memory limit: the kernel's OOM killer ends it.
  oom: {
    into: 'added',
    image: '${BACKEND_IMAGE}',
    command: ['node', '-e', "console.log('fail-oom: allocating'); const a = []; setInterval(() => a.push(Buffer.alloc(8 << 20, 1)), 20)"],
    memory: '96Mi',
    reason: (c) => new RegExp(`container ${c} last terminated OOMKilled \\(exit 137\\)`),
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

/** The Deployment and container that fail for a kind. */
export function failureTarget(kind: FailureKind): { deployment: string; container: string } {
  return FAILURES[kind].into === 'backend' ? { deployment: 'backend', container: 'backend' } : { deployment: `fail-${kind}`, container: 'app' };
}

/**
 * A copy of manifests/ that fails in one way; returns the folder. The backend kinds change the
 * backend's container (its image or command) in 80-deployments.yaml; the others add their own
 * Deployment.
 */
export function failureManifests(tmp: string, kind: FailureKind): string {
  const dir = join(tmp, `manifests-fail-${kind}`);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  cpSync(join(repoRoot, 'manifests'), dir, { recursive: true });
  const v = FAILURES[kind];
  if (v.into === 'added') {
    writeFileSync(join(dir, `95-fail-${kind}.yaml`), `# A Deployment that fails on purpose (test/real-node).\n${stringify(failureDeployment(kind))}`);
    return dir;
  }
  const file = join(dir, '80-deployments.yaml');
  const docs = parseAllDocuments(readFileSync(file, 'utf8'));
  const backend = docs.find((d) => d.getIn(['kind']) === 'Deployment' && d.getIn(['metadata', 'name']) === 'backend');
  const containers = backend?.getIn(['spec', 'template', 'spec', 'containers']) as { items: { get(k: string): unknown; set(k: string, v: unknown): void }[] } | undefined;
  const container = containers?.items.find((c) => c.get('name') === 'backend');
  if (!backend || !container) throw new Error(`${file}: no Deployment backend with a container backend to make fail`);
  container.set('image', v.image);
  if (v.command) container.set('command', backend.createNode(v.command));
  writeFileSync(file, docs.map((d) => d.toString()).map((t) => (t.startsWith('---') ? t : `---\n${t}`)).join(''));
  return dir;
}

// Shared parts of the recording stand-ins (fake-minikube, fake-kind, fake-helm, fake-dapr,
// fake-docker). Tests install them under the real tools' names (symlinks) in a temporary bin
// folder put first on PATH; Node resolves the symlink, so these imports work from there.
//
// Every call is appended to $FAKE_STATE_DIR/calls.jsonl: the tool, its argv, KUBECONFIG and
// the current context of that kubeconfig, plus anything the fake adds (the kind config it was
// given). Behaviour comes from $FAKE_STATE_DIR/state.json, which the test writes and the
// fakes update as a real tool would (a started profile, a created cluster):
//   fail: { "<tool> <first args>": { stderr, code } }    fail a command with that prefix
//   cluster: "<kubeconfig>"                              the real (test) control plane the
//                                                        fakes act on, when they create objects
// Plain JavaScript on purpose: the fakes start as fast as a real CLI and need no loader.
import { appendFileSync, existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse, parseAllDocuments, stringify } from 'yaml';

const here = path.dirname(fileURLToPath(import.meta.url));
export const REPO = path.resolve(here, '..', '..');

function stateDir() {
  const dir = process.env.FAKE_STATE_DIR;
  if (!dir) {
    process.stderr.write('fake tool: FAKE_STATE_DIR is not set (the test harness sets it)\n');
    process.exit(99);
  }
  return dir;
}

export function readState() {
  const file = path.join(stateDir(), 'state.json');
  return existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')) : {};
}

export function writeState(state) {
  writeFileSync(path.join(stateDir(), 'state.json'), JSON.stringify(state, null, 2));
}

/** The current context named in a kubeconfig file, if it can be read. */
function currentContextOf(file) {
  if (!file || !existsSync(file)) return undefined;
  try {
    return parse(readFileSync(file, 'utf8'))?.['current-context'];
  } catch {
    return undefined;
  }
}

export function record(tool, argv, extra = {}) {
  const entry = { tool, argv, KUBECONFIG: process.env.KUBECONFIG, context: currentContextOf(process.env.KUBECONFIG), ...extra };
  appendFileSync(path.join(stateDir(), 'calls.jsonl'), `${JSON.stringify(entry)}\n`);
}

/** Exits the way the state says this command fails, if it does. */
export function maybeFail(tool, argv, state) {
  const line = [tool, ...argv].join(' ');
  for (const [prefix, failure] of Object.entries(state.fail ?? {})) {
    if (line === prefix || line.startsWith(`${prefix} `)) {
      process.stderr.write(`${failure.stderr ?? `${tool}: failing as asked`}\n`);
      process.exit(failure.code ?? 1);
    }
  }
}

/** The value after a flag (--name x or --name=x), or undefined. */
export function flag(argv, name) {
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === name) return argv[i + 1];
    if (argv[i].startsWith(`${name}=`)) return argv[i].slice(name.length + 1);
  }
  return undefined;
}

/**
 * Adds a context (with its cluster and user) named `name` to the kubeconfig file at `target`,
 * pointing at the control plane of `source`, and makes it current: what `minikube start` and
 * `kind create cluster` do to the user's kubeconfig.
 */
export function writeContext(target, source, name) {
  const src = parse(readFileSync(source, 'utf8'));
  const cfg = existsSync(target) ? parse(readFileSync(target, 'utf8')) ?? {} : {};
  const cluster = src.clusters[0].cluster;
  const user = src.users[0].user;
  const put = (list, entry) => [...(list ?? []).filter((e) => e.name !== name), entry];
  cfg.apiVersion = 'v1';
  cfg.kind = 'Config';
  cfg.clusters = put(cfg.clusters, { name, cluster });
  cfg.users = put(cfg.users, { name, user });
  cfg.contexts = put(cfg.contexts, { name, context: { cluster: name, user: name } });
  cfg['current-context'] = name;
  writeFileSync(target, stringify(cfg), { mode: 0o600 });
}

export function removeContext(target, name) {
  if (!target || !existsSync(target)) return;
  const cfg = parse(readFileSync(target, 'utf8')) ?? {};
  for (const key of ['clusters', 'users', 'contexts']) cfg[key] = (cfg[key] ?? []).filter((e) => e.name !== name);
  if (cfg['current-context'] === name) cfg['current-context'] = '';
  writeFileSync(target, stringify(cfg), { mode: 0o600 });
}

/** Server-side applies objects to the control plane of a kubeconfig. */
export async function apply(kubeconfig, objects, manager) {
  // Loaded only here: it takes most of a second, and most calls never need it.
  const { KubeConfig, KubernetesObjectApi, PatchStrategy } = await import('@kubernetes/client-node');
  const kc = new KubeConfig();
  kc.loadFromFile(kubeconfig);
  const client = KubernetesObjectApi.makeApiClient(kc);
  for (const object of objects) await client.patch(object, undefined, undefined, manager, true, PatchStrategy.ServerSideApply);
}

/**
 * What minikube's ingress addon creates, as far as the pipeline looks: the ingress-nginx
 * namespace, the IngressClass nginx and the controller Deployment. Its pod turns Ready on the
 * kwok node after `readyDelay` seconds (the readinessProbe's initialDelaySeconds), or never.
 */
export function ingressNginxObjects({ readyDelay = 2, neverReady = false } = {}) {
  const labels = { 'app.kubernetes.io/name': 'ingress-nginx', 'app.kubernetes.io/component': 'controller' };
  return [
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'ingress-nginx', labels: { 'app.kubernetes.io/name': 'ingress-nginx' } } },
    { apiVersion: 'networking.k8s.io/v1', kind: 'IngressClass', metadata: { name: 'nginx', labels }, spec: { controller: 'k8s.io/ingress-nginx' } },
    {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'ingress-nginx-controller', namespace: 'ingress-nginx', labels },
      spec: {
        replicas: 1,
        selector: { matchLabels: labels },
        template: {
          metadata: { labels, annotations: neverReady ? { 'todo-deploy.test/never-ready': 'true' } : {} },
          spec: {
            containers: [
              {
                name: 'controller',
                image: 'fake.invalid/ingress-nginx-controller:fake',
                readinessProbe: { httpGet: { path: '/healthz', port: 10254 }, initialDelaySeconds: readyDelay },
              },
            ],
          },
        },
      },
    },
  ];
}

/**
 * What installing Dapr creates, as far as the pipeline looks: the dapr.io CRDs (the repo's
 * structural copies), dapr-system, and the five control-plane workloads, simulated by kwok.
 * `failAs` names workloads whose pods show a failure (the control plane's fail-as annotation).
 */
export function daprObjects(failAs = {}) {
  const crdDir = path.join(REPO, 'manifests', 'crds');
  const crds = readdirSync(crdDir)
    .filter((f) => f.endsWith('.yaml'))
    .flatMap((f) => parseAllDocuments(readFileSync(path.join(crdDir, f), 'utf8')).map((d) => d.toJS()))
    .filter(Boolean);
  const workload = (kind, name) => {
    const labels = { app: name };
    const spec = {
      replicas: 1,
      selector: { matchLabels: labels },
      template: {
        metadata: { labels, ...(failAs[name] ? { annotations: { 'todo-deploy.test/fail-as': failAs[name] } } : {}) },
        spec: { containers: [{ name: 'main', image: 'fake.invalid/dapr:fake' }] },
      },
    };
    if (kind === 'StatefulSet') spec.serviceName = name;
    return { apiVersion: 'apps/v1', kind, metadata: { name, namespace: 'dapr-system', labels }, spec };
  };
  return [
    ...crds,
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'dapr-system' } },
    workload('Deployment', 'dapr-operator'),
    workload('Deployment', 'dapr-sidecar-injector'),
    workload('Deployment', 'dapr-sentry'),
    workload('StatefulSet', 'dapr-placement-server'),
    workload('StatefulSet', 'dapr-scheduler-server'),
  ];
}

/** Runs a fake's main and turns an unexpected error into exit 98 with the reason. */
export function run(main) {
  main().then(
    (code) => process.exit(code ?? 0),
    (err) => {
      process.stderr.write(`fake tool crashed: ${err?.stack ?? err}\n`);
      process.exit(98);
    },
  );
}

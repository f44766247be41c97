// Smoke test of the test control plane itself: real etcd, kube-apiserver,
// kube-controller-manager and kube-scheduler, kwok as the kubelet. A Deployment becomes
// available through the real controllers; its pods go Pending -> Running -> Ready as the
// kwok stages say; the never-ready annotation holds; the ingress stand-in publishes an
// address; the Dapr CRDs accept and reject as written; stop() leaves no process behind, and
// neither does a SIGKILL of the process that started a plane.
import { suite } from '../support/suite.ts';
import * as assert from 'uvu/assert';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { AppsV1Api, CoreV1Api, CustomObjectsApi, NetworkingV1Api, type V1Deployment } from '@kubernetes/client-node';
import { FAIL_AS_ANNOTATION, NEVER_READY_ANNOTATION, startControlPlane, type ControlPlane } from '../../lib/controlplane/index.ts';
import { isAlive } from '../../lib/controlplane/processes.ts';
import { REPO_ROOT } from '../../lib/repo-root.ts';
import { clusterFromKubeConfig } from '../../lib/kube/client.ts';
import { watchUntil, type Verdict, type WatchTarget } from '../../lib/kube/watch.ts';
import type { KubeObject } from '../../lib/types.ts';

const NS = 'cp-smoke';
const DEADLINE = 90_000;

const KINDS = {
  Pod: { apiVersion: 'v1', kind: 'Pod', plural: 'pods', namespaced: true },
  Deployment: { apiVersion: 'apps/v1', kind: 'Deployment', plural: 'deployments', namespaced: true },
  EndpointSlice: { apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', plural: 'endpointslices', namespaced: true },
  Ingress: { apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', plural: 'ingresses', namespaced: true },
  Namespace: { apiVersion: 'v1', kind: 'Namespace', plural: 'namespaces', namespaced: false },
};

/** Watches until `done` holds for the matching objects, failing after DEADLINE with `goal` (and `explain`) in the message. */
function waitUntil(
  plane: ControlPlane,
  target: WatchTarget,
  done: (items: any[]) => boolean,
  goal: string,
  more: { explain?: (items: KubeObject[]) => string; onWatching?: () => void } = {},
): Promise<KubeObject[]> {
  const verdict = (items: KubeObject[]): Verdict => ({ done: done(items) });
  return watchUntil(clusterFromKubeConfig(plane.kc), target, verdict, { deadline: Date.now() + DEADLINE, goal, ...more });
}

const test = suite<{ plane?: ControlPlane }>('control plane on loopback');

test.before(async (ctx) => {
  ctx.plane = await startControlPlane({ log: (l) => console.log(`  ${l}`) });
});

test.after(async (ctx) => {
  await ctx.plane?.stop();
});

function deployment(name: string, replicas: number, annotations?: Record<string, string>): V1Deployment {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace: NS },
    spec: {
      replicas,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name }, annotations },
        spec: {
          containers: [
            {
              name: 'app',
              image: 'todo-smoke:0.1.0',
              ports: [{ containerPort: 8080 }],
              readinessProbe: { httpGet: { path: '/health', port: 8080 }, initialDelaySeconds: 1 },
            },
          ],
        },
      },
    },
  };
}

const readyOf = (pod: any) => pod?.status?.conditions?.find((c: any) => c.type === 'Ready')?.status;

test('a Deployment of 2 becomes available; pods go Pending -> Running (unready) -> Ready on a kwok node', async ({ plane }) => {
  const { kc } = plane!;
  const core = kc.makeApiClient(CoreV1Api);
  const apps = kc.makeApiClient(AppsV1Api);
  await core.createNamespace({ body: { metadata: { name: NS } } });

  // Record every state each pod passes through, from before the Deployment exists.
  const seen = new Map<string, string[]>();
  let watching!: () => void;
  const established = new Promise<void>((resolve) => (watching = resolve));
  const podStates = waitUntil(
    plane!,
    { kind: KINDS.Pod, namespace: NS, labelSelector: 'app=web' },
    (pods) => {
      for (const pod of pods) {
        const state = `${pod.status?.phase}/${readyOf(pod) ?? '-'}`;
        const list = seen.get(pod.metadata.name) ?? [];
        if (list.at(-1) !== state) list.push(state);
        seen.set(pod.metadata.name, list);
      }
      return pods.length === 2 && pods.every((p) => readyOf(p) === 'True');
    },
    'two ready web pods',
    { onWatching: watching },
  );

  await established;
  await apps.createNamespacedDeployment({ namespace: NS, body: deployment('web', 2) });
  await core.createNamespacedService({
    namespace: NS,
    body: { metadata: { name: 'web' }, spec: { selector: { app: 'web' }, ports: [{ port: 80, targetPort: 8080 }] } },
  });

  await waitUntil(
    plane!,
    { kind: KINDS.Deployment, namespace: NS, name: 'web' },
    ([dep]) => dep?.status?.observedGeneration >= dep?.metadata?.generation && dep?.status?.availableReplicas === 2,
    'deployment web to have 2 available replicas',
    { explain: ([dep]) => JSON.stringify(dep?.status) },
  );
  const pods = await podStates;

  for (const [name, states] of seen) {
    // The watch may first see a pod already scheduled; what matters is the order after it.
    const running = states.indexOf('Running/False');
    const ready = states.indexOf('Running/True');
    assert.ok(running >= 0 && ready > running, `${name} went ${states.join(' -> ')}`);
    assert.ok(states.slice(0, running).every((s) => s.startsWith('Pending')), `${name} went ${states.join(' -> ')}`);
  }
  for (const pod of pods as any[]) {
    assert.is(pod.spec.nodeName, plane!.nodes[0]);
    assert.match(pod.status.podIP, /^10\.244\./);
    assert.is(pod.status.containerStatuses[0].ready, true);
  }

  // The EndpointSlice controller publishes both pods as ready endpoints of the Service.
  await waitUntil(
    plane!,
    { kind: KINDS.EndpointSlice, namespace: NS, labelSelector: 'kubernetes.io/service-name=web' },
    (slices) => slices.flatMap((s) => s.endpoints ?? []).filter((e: any) => e.conditions?.ready).length === 2,
    'two ready endpoints for service web',
  );
});

test('a pod annotated never-ready runs but never turns Ready, while an ordinary one does', async ({ plane }) => {
  const { kc } = plane!;
  const apps = kc.makeApiClient(AppsV1Api);
  await apps.createNamespacedDeployment({ namespace: NS, body: deployment('stuck', 1, { [NEVER_READY_ANNOTATION]: 'true' }) });
  await waitUntil(
    plane!,
    { kind: KINDS.Pod, namespace: NS, labelSelector: 'app=stuck' },
    (pods) => pods.some((p) => p.status?.phase === 'Running'),
    'the stuck pod to run',
  );
  // A pod created after it, with the same readiness delay, becomes ready: kwok has
  // handled the stuck one by then and left it unready.
  await apps.createNamespacedDeployment({ namespace: NS, body: deployment('after', 1) });
  await waitUntil(
    plane!,
    { kind: KINDS.Deployment, namespace: NS, name: 'after' },
    ([dep]) => dep?.status?.availableReplicas === 1,
    'deployment after to be available',
  );
  const stuck = (await kc.makeApiClient(CoreV1Api).listNamespacedPod({ namespace: NS, labelSelector: 'app=stuck' })).items;
  assert.is(stuck.length, 1);
  const ready = stuck[0].status?.conditions?.find((c) => c.type === 'Ready');
  assert.is(stuck[0].status?.phase, 'Running');
  assert.is(ready?.status, 'False');
  assert.is(ready?.reason, 'ContainersNotReady');
  assert.match(ready?.message ?? '', /containers with unready status: \[app\]/);
  const dep = await apps.readNamespacedDeployment({ name: 'stuck', namespace: NS });
  assert.not.ok(dep.status?.availableReplicas, 'the stuck deployment has no available replica');
});

test('pods annotated fail-as show ImagePullBackOff (Pending), CrashLoopBackOff and OOMKilled (Running), each with a warning event', async ({ plane }) => {
  const { kc } = plane!;
  const apps = kc.makeApiClient(AppsV1Api);
  const cases = [
    { name: 'no-image', failAs: 'ImagePullBackOff', phase: 'Pending', waiting: 'ImagePullBackOff', last: undefined },
    { name: 'crasher', failAs: 'CrashLoopBackOff', phase: 'Running', waiting: 'CrashLoopBackOff', last: 'Error' },
    { name: 'oom', failAs: 'OOMKilled', phase: 'Running', waiting: 'CrashLoopBackOff', last: 'OOMKilled' },
  ];
  for (const c of cases) await apps.createNamespacedDeployment({ namespace: NS, body: deployment(c.name, 1, { [FAIL_AS_ANNOTATION]: c.failAs }) });
  for (const c of cases) {
    const [pod] = await waitUntil(
      plane!,
      { kind: KINDS.Pod, namespace: NS, labelSelector: `app=${c.name}` },
      (pods) => pods.some((p) => p.status?.containerStatuses?.[0]?.state?.waiting?.reason === c.waiting),
      `the ${c.name} pod to show ${c.waiting}`,
    );
    const status = pod!.status!;
    assert.is(status.phase, c.phase, c.name);
    assert.is(status.containerStatuses[0].ready, false);
    assert.is(status.containerStatuses[0].lastState?.terminated?.reason, c.last, c.name);
    assert.is(status.conditions.find((x: { type: string }) => x.type === 'Ready')?.status, 'False');
  }
  const events = await waitUntil(
    plane!,
    { kind: { apiVersion: 'v1', kind: 'Event', plural: 'events', namespaced: true }, namespace: NS },
    (items) => cases.every((c) => items.some((e) => e.type === 'Warning' && String(e.involvedObject?.name).startsWith(`${c.name}-`))),
    'a warning event for each failing pod',
  );
  assert.ok(events.some((e) => e.reason === 'Failed' && /ImagePullBackOff/.test(e.message)));
  for (const c of cases) await apps.deleteNamespacedDeployment({ name: c.name, namespace: NS });
});

test('the ingress stand-in publishes 127.0.0.1 for an nginx Ingress and records it', async ({ plane }) => {
  const { kc } = plane!;
  const net = kc.makeApiClient(NetworkingV1Api);
  await net.createNamespacedIngress({
    namespace: NS,
    body: {
      metadata: { name: 'web' },
      spec: {
        ingressClassName: 'nginx',
        rules: [{ host: 'todo.local', http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: 'web', port: { number: 80 } } } }] } }],
      },
    },
  });
  await waitUntil(
    plane!,
    { kind: KINDS.Ingress, namespace: NS, name: 'web' },
    ([ing]) => ing?.status?.loadBalancer?.ingress?.[0]?.ip === '127.0.0.1',
    'ingress web to get an address',
  );
  assert.ok(plane!.ingress!.served.some((s) => s.namespace === NS && s.name === 'web' && s.address === '127.0.0.1'));
  const cls = await net.readIngressClass({ name: 'nginx' });
  assert.is(cls.spec?.controller, 'k8s.io/ingress-nginx');
});

test('the Dapr CRDs accept a Component and a Configuration, and reject a Component without a version', async ({ plane }) => {
  const custom = plane!.kc.makeApiClient(CustomObjectsApi);
  const component = (spec: Record<string, unknown>) => ({
    apiVersion: 'dapr.io/v1alpha1',
    kind: 'Component',
    metadata: { name: spec.version ? 'statestore' : 'broken' },
    auth: { secretStore: 'kubernetes' },
    scopes: ['todo-backend'],
    spec,
  });
  await custom.createNamespacedCustomObject({
    group: 'dapr.io',
    version: 'v1alpha1',
    namespace: NS,
    plural: 'components',
    body: component({
      type: 'state.postgresql',
      version: 'v1',
      initTimeout: '10s',
      ignoreErrors: false,
      metadata: [{ name: 'connectionString', secretKeyRef: { name: 'todo-secrets', key: 'database-url' } }, { name: 'tableName', value: 'state' }],
    }),
  });
  await custom.createNamespacedCustomObject({
    group: 'dapr.io',
    version: 'v1alpha1',
    namespace: NS,
    plural: 'configurations',
    body: {
      apiVersion: 'dapr.io/v1alpha1',
      kind: 'Configuration',
      metadata: { name: 'dapr-config' },
      spec: { mtls: { enabled: true, workloadCertTTL: '24h', allowedClockSkew: '15m' }, tracing: { samplingRate: '1' }, metric: { enabled: true } },
    },
  });
  const stored: any = await custom.getNamespacedCustomObject({ group: 'dapr.io', version: 'v1alpha1', namespace: NS, plural: 'components', name: 'statestore' });
  assert.equal(stored.spec.metadata[0].secretKeyRef, { name: 'todo-secrets', key: 'database-url' });
  assert.equal(stored.scopes, ['todo-backend']);
  try {
    await custom.createNamespacedCustomObject({ group: 'dapr.io', version: 'v1alpha1', namespace: NS, plural: 'components', body: component({ type: 'state.redis' }) });
    assert.unreachable('a Component without spec.version was accepted');
  } catch (err) {
    assert.is((err as { code?: number }).code, 422);
    assert.match(String((err as { body?: unknown }).body), /spec\.version/);
  }
});

test('deleting the namespace removes it with its pods (namespace controller + kwok)', async ({ plane }) => {
  const { kc } = plane!;
  const gone = waitUntil(plane!, { kind: KINDS.Namespace, name: NS }, (ns) => ns.length === 0, `namespace ${NS} to be gone`);
  await kc.makeApiClient(CoreV1Api).deleteNamespace({ name: NS });
  await gone;
});

test('restart(kube-apiserver) takes the API away for the down time and brings it back with the stored objects', async ({ plane }) => {
  const core = plane!.kc.makeApiClient(CoreV1Api);
  await core.createNamespace({ body: { metadata: { name: 'cp-restart' } } });
  const before = plane!.processes.find((p) => p.name === 'kube-apiserver')!.pid;
  let refusedWhileDown = false;
  const restarting = plane!.restart('kube-apiserver', { downMs: 1500 });
  // Asked while it is down (the stop takes the first part of the restart), the API refuses.
  await new Promise((r) => setTimeout(r, 1000));
  await core.readNamespace({ name: 'cp-restart' }).catch(() => (refusedWhileDown = true));
  await restarting;
  assert.ok(refusedWhileDown, 'the API server did not answer while it was down');
  const after = plane!.processes.find((p) => p.name === 'kube-apiserver')!.pid;
  assert.is.not(after, before, 'a new process');
  assert.ok(isAlive(after));
  assert.is((await core.readNamespace({ name: 'cp-restart' })).metadata?.name, 'cp-restart', 'etcd kept the object');
  const unknown = await plane!.restart('ingress' as never).then(() => undefined, (err: Error) => err.message);
  assert.match(String(unknown), /has no component ingress/);
});

test('stop() ends every process and removes the folder', async (ctx) => {
  const plane = ctx.plane!;
  await plane.stop();
  ctx.plane = undefined;
  const left = plane.processes.filter((p) => isAlive(p.pid));
  assert.equal(left, [], `still running: ${JSON.stringify(left)}`);
  assert.not.ok(existsSync(plane.dir), `${plane.dir} removed`);
});

test.run();

const owner = suite('control plane whose owner dies');

owner('a SIGKILLed owner leaves no process and no folder behind', async () => {
  // A separate process starts a plane and prints what it started; we kill it hard.
  const script = `
    import { startControlPlane } from './lib/controlplane/index.ts';
    const plane = await startControlPlane({ installCrds: false, ingressStandIn: false });
    console.log(JSON.stringify({ dir: plane.dir, pids: plane.processes.map((p) => p.pid) }));
    setInterval(() => {}, 1 << 30);
  `;
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
  const info = await new Promise<{ dir: string; pids: number[] }>((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
      const line = out.split('\n').find((l) => l.startsWith('{'));
      if (line) resolve(JSON.parse(line));
    });
    child.once('exit', (code) => reject(new Error(`the owner exited (${code}) before starting the plane`)));
  });
  assert.ok(info.pids.length === 5 && info.pids.every(isAlive));
  child.kill('SIGKILL');
  // The reaper notices the closed pipe and kills the groups. No exit event exists for
  // processes that are not our children: poll their liveness, with a deadline.
  const deadline = Date.now() + 20_000;
  while ((info.pids.some(isAlive) || existsSync(info.dir)) && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.equal(info.pids.filter(isAlive), [], 'no component survives its owner');
  assert.not.ok(existsSync(join(info.dir)), 'the folder is removed');
});

owner.run();

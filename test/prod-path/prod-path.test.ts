// The prod path, for real on this machine. `npm run controlplane -- start --pods real --nodes 2
// --registry` starts the sandbox with two real nodes and its image registry (CNCF Distribution,
// built here); then `npm run up -- --env prod --cluster current` runs as against a user's
// cluster, with REGISTRY at that registry and DATABASE_URL at a PostgreSQL on the host (prod
// always uses an external database): the images are built, tagged and pushed with docker, both
// nodes pull them from the registry (IfNotPresent), each app Deployment's two replicas run on
// both nodes, every pod's image ID is the digest the registry holds for the pushed tag, the
// frontend answers through its Service from either node, each node reaches the other's pods and
// each frontend pod the backend pod on the other node (exec through that node's kubelet), the page
// and a todo go through the ingress controller to the database, and `down` removes the stack. With the registry ended, `up` fails
// before any stage, naming it. `controlplane stop` then leaves the host as it was.
//
// The cluster's ingress controller is the one the sandbox deploys on real nodes (Traefik, built
// here, serving IngressClass nginx), installed by the suite as a cluster's admin would before a
// user's `up`. Dapr's control plane is the project's stand-in (pause containers; no sidecar).
import { suite } from '../support/suite.ts';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { AppsV1Api, CoreV1Api, Exec, KubeConfig, NetworkingV1Api, type V1Pod } from '@kubernetes/client-node';
import { applyDaprStandIn } from '../../lib/cluster/dapr-stand-in.ts';
import { deployTraefik } from '../../lib/cluster/sandbox-ingress.ts';
import { clusterFromKubeConfig } from '../../lib/kube/client.ts';
import { noRedact } from '../../lib/output.ts';
import { isAlive, stopPids, TEARDOWN_GRACE_MS } from '../../lib/controlplane/processes.ts';
import { readState, type ControlPlaneState } from '../../lib/controlplane/state.ts';
import { HOST_ADDRESS, nodeIdentity } from '../../lib/controlplane/node/layout.ts';
import { imageRefs, readVersions } from '../../lib/controlplane/versions.ts';
import { dockerRaw } from '../../lib/images/docker.ts';
import { runScript, show, STACK_LINE } from '../support/run-script.ts';
import { startPostgres, type Postgres } from '../support/postgres.ts';
import { hostDifferences, hostSnapshot, type HostSnapshot } from '../real-node/support/host.ts';
import { leaveNoSandbox, openSandboxSuite, type SandboxSuiteCtx } from '../real-node/support/sandbox-run.ts';
import { curlVia } from '../real-node/support/smoke.ts';

const NS = 'todo';
/** DOMAIN of env/prod.env: the Ingress's host. */
const DOMAIN = 'todo.example.com';
const NODES = [nodeIdentity(0), nodeIdentity(1)];
const APPS = ['frontend', 'backend', 'mcp-server'];

interface Ctx extends SandboxSuiteCtx {
  pg?: Postgres;
  registry?: string;
  /** The refs up pushed (REGISTRY/<repository>:<tag>), from its output. */
  pushed?: string[];
}

const test = suite<Ctx>('prod path: two real nodes, a real registry, up --env prod --cluster current');

test.before(async (ctx) => {
  openSandboxSuite(ctx, 'prod-path');
  const start = await runScript('controlplane', ['start', '--pods', 'real', '--nodes', '2', '--registry'], ctx.env!, 600_000);
  if (start.code !== 0) throw new Error(`controlplane start failed:\n${show(start)}`);
  console.log(`  controlplane start with two real nodes and the registry: ${(start.ms / 1000).toFixed(1)} s (${/real node todo-deploy-node-2 Ready [\d.]+ s after its start/.exec(start.output)?.[0] ?? 'second node: no time printed'})`);
  ctx.state = readState(ctx.stateFile!);
  if (!ctx.state?.registry || !ctx.state.node) throw new Error(`no registry or real node in the recorded state:\n${start.output}`);
  ctx.kc = new KubeConfig();
  ctx.kc.loadFromFile(ctx.state.kubeconfig);
  ctx.registry = ctx.state.registry.push;
  // The external database where the nodes' pods reach the host.
  // The pods (their own addresses: the nodes masquerade nothing) and the suite's own psql from the host.
  ctx.pg = await startPostgres({ host: HOST_ADDRESS, allow: ['10.244.0.0/16', `${HOST_ADDRESS}/32`] });
  // What the cluster's admin installs before a user's up: an ingress controller and Dapr.
  const installed = await deployTraefik(clusterFromKubeConfig(ctx.kc), { environment: 'prod', settings: {}, log: (line) => console.log(`  ${line}`), redact: noRedact, timeoutSeconds: 180 }, [ctx.state.node, ...(ctx.state.furtherNodes ?? [])]);
  console.log(`  ${installed}`);
  await applyDaprStandIn(ctx.kc, imageRefs(readVersions()).pause);
  Object.assign(ctx.env!, { KUBECONFIG: ctx.state.kubeconfig, REGISTRY: ctx.registry, DATABASE_URL: ctx.pg.url });
});

test.after(async (ctx) => {
  // Whatever happened above, nothing of the sandbox may outlive the suite.
  await leaveNoSandbox(ctx.stateFile);
  await ctx.pg?.destroy();
  // The registry's tags in Docker's image store (the images themselves stay, as after any push).
  for (const ref of ctx.pushed ?? []) await dockerRaw(['image', 'rm', '--no-prune', ref]);
  if (ctx.tmp) rmSync(ctx.tmp, { recursive: true, force: true });
});

const core = (ctx: Ctx) => ctx.kc!.makeApiClient(CoreV1Api);

function ready(pod: V1Pod): boolean {
  return (pod.status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');
}

/** RSS of a process in MiB, from /proc. */
function rssMiB(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : 0;
}

/** What the registry holds for repository:tag: the manifest digest it serves (Docker-Content-Digest). */
async function registryDigest(registry: string, repository: string, tag: string): Promise<string | undefined> {
  const res = await fetch(`http://${registry}/v2/${repository}/manifests/${tag}`, {
    method: 'HEAD',
    headers: { accept: ['application/vnd.docker.distribution.manifest.v2+json', 'application/vnd.oci.image.manifest.v1+json', 'application/vnd.docker.distribution.manifest.list.v2+json', 'application/vnd.oci.image.index.v1+json'].join(', ') },
  });
  return res.ok ? res.headers.get('docker-content-digest') ?? undefined : undefined;
}

/** GET a URL from inside a node's network namespace (Node's fetch, run there with nsenter). */
function fetchFromNode(netns: string, url: string): { status: number; body: string; error?: string } {
  const script = `fetch(${JSON.stringify(url)}, { signal: AbortSignal.timeout(15000) }).then(async (r) => console.log(JSON.stringify({ status: r.status, body: (await r.text()).slice(0, 400) })), (e) => console.log(JSON.stringify({ status: 0, body: '', error: String(e.cause ?? e) })))`;
  const r = spawnSync('nsenter', [`--net=/run/netns/${netns}`, '--', process.execPath, '-e', script], { encoding: 'utf8', timeout: 30_000 });
  try {
    return JSON.parse(r.stdout.trim().split('\n').at(-1) ?? '');
  } catch {
    return { status: 0, body: '', error: `${r.stdout}${r.stderr}` };
  }
}

/** Runs `node -e script` in a pod's container (through the API server and that node's kubelet); its stdout, or the failure. */
async function nodeInPod(kc: KubeConfig, pod: V1Pod, script: string): Promise<string> {
  const out = new PassThrough();
  const err = new PassThrough();
  let text = '';
  out.on('data', (d) => (text += d));
  err.on('data', (d) => (text += d));
  const status = await new Promise<unknown>((resolve, reject) => {
    new Exec(kc).exec(NS, pod.metadata!.name!, pod.spec!.containers[0]!.name, ['node', '-e', script], out, err, null, false, resolve).catch(reject);
    setTimeout(() => reject(new Error(`exec in ${pod.metadata?.name} did not end within 30 s: ${text}`)), 30_000).unref();
  });
  return `${text.trim()}${(status as { status?: string })?.status === 'Success' ? '' : ` (exec ${JSON.stringify(status)})`}`;
}

test('the sandbox: two Ready real nodes, each with its own address and pods\' range, and the registry answering', async (ctx) => {
  const nodes = (await core(ctx).listNode()).items;
  assert.equal(nodes.map((n) => n.metadata?.name).sort(), NODES.map((n) => n.name).sort());
  for (const id of NODES) {
    const node = nodes.find((n) => n.metadata?.name === id.name)!;
    assert.ok(node.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'), `${id.name} is Ready`);
    assert.is(node.spec?.podCIDR, id.podCidr, `${id.name} has the pods' range its bridge uses`);
    assert.is(node.status?.addresses?.find((a) => a.type === 'InternalIP')?.address, id.address);
  }
  assert.match(ctx.registry!, /^127\.0\.0\.1:\d+$/);
  const answer = await fetch(`http://${ctx.registry}/v2/`);
  assert.is(answer.status, 200, 'the registry answers on the address docker pushes to');
  const names = ctx.state!.processes.map((p) => p.name);
  assert.equal(names, ['registry', 'registry-nodes', 'etcd', 'kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'containerd', 'kubelet', 'kube-proxy', 'containerd-2', 'kubelet-2', 'kube-proxy-2']);
  const second = ctx.state!.processes.filter((p) => /-2$/.test(p.name));
  const first = ctx.state!.processes.filter((p) => ['containerd', 'kubelet', 'kube-proxy'].includes(p.name));
  const mib = (ps: { pid: number }[]) => ps.reduce((sum, p) => sum + rssMiB(p.pid), 0).toFixed(0);
  console.log(`  memory (RSS) of the node programs: first node ${mib(first)} MiB, second node ${mib(second)} MiB; registry ${mib(ctx.state!.processes.filter((p) => p.name.startsWith('registry')))} MiB`);
});

test('up --env prod --cluster current: images built, pushed to the registry, every stage green on the two nodes', async (ctx) => {
  const r = await runScript('up', ['--env', 'prod', '--cluster', 'current', '--timeout', '300'], ctx.env!, 1_800_000);
  assert.is(r.code, 0, show(r));
  assert.match(r.output, `registry ${ctx.registry} answers`);
  for (let n = 1; n <= 10; n++) assert.match(r.output, new RegExp(`✔ Stage ${n}/10 `));
  assert.not.match(r.output, STACK_LINE);
  assert.not.match(r.output, ctx.pg!.password);
  // What the manifests now run: the pushed refs, REGISTRY/<repository>:<tag>.
  const pods = (await core(ctx).listNamespacedPod({ namespace: NS })).items;
  ctx.pushed = [...new Set(pods.flatMap((p) => p.spec?.containers.map((c) => c.image!) ?? []))].sort();
  assert.equal(ctx.pushed.map((ref) => ref.replace(/:[^:/]+$/, '')), ['backend', 'frontend', 'mcp-server', 'redis'].map((n) => `${ctx.registry}/todo-${n}`), `the pods run the four images of prod from the registry:\n${r.output}`);
  console.log(`  up --env prod: ${(r.ms / 1000).toFixed(1)} s`);
});

test('every pod runs an image the nodes pulled from the registry: its image ID is the digest the registry holds for the pushed tag', async (ctx) => {
  const pods = (await core(ctx).listNamespacedPod({ namespace: NS })).items;
  for (const ref of ctx.pushed!) {
    const [, repository, tag] = /^[^/]+\/(.+):([^:]+)$/.exec(ref)!;
    const digest = await registryDigest(ctx.registry!, repository!, tag!);
    assert.ok(digest, `the registry holds ${ref}`);
    const running = pods.filter((p) => p.spec?.containers.some((c) => c.image === ref));
    assert.ok(running.length >= 1, `a pod runs ${ref}`);
    for (const pod of running) {
      const status = pod.status?.containerStatuses?.find((c) => c.image === ref || c.image === `${ref}`);
      assert.ok(status, `${pod.metadata?.name} reports its container`);
      assert.is(status!.imageID, `${ctx.registry}/${repository}@${digest}`, `${pod.metadata?.name} on ${pod.spec?.nodeName} runs ${ref} as pulled`);
    }
  }
  const pulled = (await core(ctx).listNamespacedEvent({ namespace: NS, fieldSelector: 'reason=Pulled' })).items;
  const pulledOn = new Set(pulled.filter((e) => /Successfully pulled image/.test(e.message ?? '')).map((e) => e.source?.host ?? e.reportingInstance));
  assert.equal([...pulledOn].sort(), NODES.map((n) => n.name).sort(), 'both nodes pulled images themselves');
});

test('each app Deployment\'s two replicas are Ready, one on each node; the only other Deployment is Redis, one replica by design', async (ctx) => {
  // Every Deployment of the stack, so none goes unchecked: the three apps, and Redis (unclustered,
  // so one replica: manifests/60-redis.yaml); PostgreSQL is outside the cluster in prod.
  const deployments = (await ctx.kc!.makeApiClient(AppsV1Api).listNamespacedDeployment({ namespace: NS })).items;
  assert.equal(deployments.map((d) => d.metadata?.name).sort(), [...APPS, 'redis'].sort());
  assert.is(deployments.find((d) => d.metadata?.name === 'redis')?.spec?.replicas, 1);
  for (const app of APPS) {
    const pods = (await core(ctx).listNamespacedPod({ namespace: NS, labelSelector: `app.kubernetes.io/name=${app}` })).items;
    assert.is(pods.length, 2, `${app} runs two replicas`);
    assert.ok(pods.every(ready), `${app}'s replicas are Ready`);
    assert.equal(pods.map((p) => p.spec?.nodeName).sort(), NODES.map((n) => n.name).sort(), `${app} is spread over both nodes`);
  }
});

test('the frontend answers through its Service from either node; each node reaches the other node\'s pods, and each frontend pod the backend pod on the other node', async (ctx) => {
  const svc = await core(ctx).readNamespacedService({ name: 'frontend-svc', namespace: NS });
  const url = `http://${svc.spec!.clusterIP}:${svc.spec!.ports![0]!.port}/`;
  for (const id of NODES) {
    const page = fetchFromNode(id.netns, url);
    assert.is(page.status, 200, `from ${id.name}: ${JSON.stringify(page)}`);
    assert.match(page.body, /<html/i);
  }
  const frontends = (await core(ctx).listNamespacedPod({ namespace: NS, labelSelector: 'app.kubernetes.io/name=frontend' })).items;
  for (const id of NODES) {
    const remote = frontends.find((p) => p.spec?.nodeName !== id.name)!;
    const health = fetchFromNode(id.netns, `http://${remote.status!.podIP}:3000/healthz`);
    assert.is(health.status, 200, `${id.name} reaches ${remote.metadata?.name} on ${remote.spec?.nodeName} at ${remote.status?.podIP}: ${JSON.stringify(health)}`);
  }
  // Pod to pod across the nodes: each frontend calls the backend on the other node by its pod IP.
  const backends = (await core(ctx).listNamespacedPod({ namespace: NS, labelSelector: 'app.kubernetes.io/name=backend' })).items;
  for (const frontend of frontends) {
    const backend = backends.find((p) => p.spec?.nodeName !== frontend.spec?.nodeName)!;
    const url = `http://${backend.status!.podIP}:8000/healthz`;
    const said = await nodeInPod(ctx.kc!, frontend, `fetch(${JSON.stringify(url)}, { signal: AbortSignal.timeout(10000) }).then((r) => console.log('HTTP', r.status), (e) => console.log('failed', String(e.cause ?? e)))`);
    assert.is(said, 'HTTP 200', `${frontend.metadata?.name} on ${frontend.spec?.nodeName} -> ${backend.metadata?.name} on ${backend.spec?.nodeName} (${url})`);
  }
});

test('through the ingress controller (curl --resolve DOMAIN:80:<the Ingress\'s address>): the page, and a todo created through /api and stored in the external PostgreSQL', async (ctx) => {
  const ing = await ctx.kc!.makeApiClient(NetworkingV1Api).readNamespacedIngress({ name: 'todo-ingress', namespace: NS });
  const address = ing.status?.loadBalancer?.ingress?.[0]?.ip;
  assert.ok(address, `the Ingress has an address: ${JSON.stringify(ing.status)}`);
  assert.is(ing.spec?.rules?.[0]?.host, DOMAIN);
  const http = curlVia(DOMAIN, address!, join(ctx.tmp!, 'cookies.txt'));
  const page = await http(`http://${DOMAIN}/`, { retry: true });
  assert.is(page.status, 200, page.body);
  assert.match(page.body, /<html/i);
  const title = 'prod path: through the ingress and two nodes';
  const created = await http(`http://${DOMAIN}/api/todos`, { method: 'POST', json: { title } });
  assert.ok(created.status >= 200 && created.status < 300, `POST /api/todos: ${created.status} ${created.body}`);
  const list = await http(`http://${DOMAIN}/api/todos`);
  assert.match(list.body, title);
  // In the database outside the cluster (DATABASE_URL), read with psql from the host.
  const stored = spawnSync('psql', [ctx.pg!.url.replace(`:${ctx.pg!.password}@`, '@'), '-tAc', `SELECT count(*) FROM todos WHERE title = '${title}'`], { encoding: 'utf8', env: { ...process.env, PGPASSWORD: ctx.pg!.password }, timeout: 30_000 });
  assert.is(stored.stdout.trim(), '1', `psql: ${stored.stderr}`);
});

test('down --env prod --cluster current removes the stack', async (ctx) => {
  const down = await runScript('down', ['--env', 'prod', '--cluster', 'current'], ctx.env!, 600_000);
  assert.is(down.code, 0, show(down));
  assert.equal((await core(ctx).listNamespace({ fieldSelector: `metadata.name=${NS}` })).items, [], 'the namespace is gone');
  console.log(`  down: ${(down.ms / 1000).toFixed(1)} s`);
});

test('the registry down: up --env prod fails before any stage, naming the registry and the fix; nothing built, pushed or applied', async (ctx) => {
  // The sandbox's own registry, ended: its push endpoint, the one REGISTRY names.
  const push = ctx.state!.processes.find((p) => p.name === 'registry')!;
  await stopPids([push.pid], TEARDOWN_GRACE_MS);
  assert.not.ok(isAlive(push.pid), 'the registry ended');
  const r = await runScript('up', ['--env', 'prod', '--cluster', 'current', '--timeout', '120'], ctx.env!, 300_000);
  assert.is(r.code, 1, show(r));
  assert.match(r.output, `The images cannot be pushed: REGISTRY=${ctx.registry} names a registry at ${ctx.registry}, and connection refused`);
  assert.match(r.output, 'Nothing was built, installed or applied.');
  assert.match(r.output, 'Fix: start that registry');
  assert.not.match(r.output, /Stage 1\/10/);
  assert.not.match(r.output, /pushing /);
  assert.not.match(r.output, STACK_LINE);
  assert.not.match(r.output, ctx.pg!.password);
  assert.equal((await core(ctx).listNamespace({ fieldSelector: `metadata.name=${NS}` })).items, [], 'no object of the stack was created');
});

test('controlplane stop leaves the host as it was', async (ctx) => {
  const stop = await runScript('controlplane', ['stop'], ctx.env!, 300_000);
  assert.is(stop.code, 0, show(stop));
  // Its own lines say where the time went (the node programs, the rest, the sweep).
  console.log(`  controlplane stop: ${(stop.ms / 1000).toFixed(1)} s (${stop.output.split('\n').filter((l) => /^(stopped|real node swept|folder)/.test(l.trim())).map((l) => l.trim()).join('; ')})`);
  assert.ok(ctx.state!.processes.every((p) => !isAlive(p.pid)), 'every recorded process ended, both registries included');
  assert.not.ok(existsSync(ctx.state!.dir), 'the sandbox folder (with the registry\'s store) is removed');
  assert.equal(hostDifferences(ctx.before!, hostSnapshot()), [], 'no process, netns, veth, route, mount, iptables rule, cgroup, host path or kernel setting is left or changed');
});

test.run();

// `--cluster current` and the Dapr control plane, on a real control plane (kwok as the kubelet,
// the ingress-nginx stand-in), with the scripts run as a person runs them. PATH holds neither
// helm nor the Dapr CLI (only npm, node, the shells and fake-docker, whose daemon answers):
//   1. Dapr absent: `up` stops before the stack with the clear message; nothing is created.
//   2. doctor says the same: the helm-or-dapr line blocks, exit 1.
//   3. With the project's Dapr stand-in in dapr-system made ready (kwok runs its Deployments
//      and StatefulSets), `up` proceeds to the end, prints the URL and, with --write-hosts
//      --yes, writes the hosts line into a scratch hosts file.
//   4. doctor then finds nothing blocking; `down` removes the stack.
// Before them, 0. prod with REGISTRY naming a registry that is down: `up` stops in its first
// step, naming the registry, the reason and the fix, before anything is built (no docker call),
// installed (the Dapr step never runs) or applied.
import { suite } from '../support/suite.ts';
import * as assert from 'uvu/assert';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { CoreV1Api, KubernetesObjectApi } from '@kubernetes/client-node';
import { startControlPlane, type ControlPlane } from '../../lib/controlplane/index.ts';
import { applyDaprStandIn } from '../../lib/cluster/dapr-stand-in.ts';
import { probeDapr, notReady } from '../../lib/cluster/dapr.ts';
import { resolvesTo } from '../../lib/cluster/hosts.ts';
import { fakeBin, type FakeBin } from '../fakes/harness.ts';
import { freePort } from '../../lib/free-port.ts';
import { runScript, show, STACK_LINE } from '../support/run-script.ts';

interface Ctx {
  plane?: ControlPlane;
  bin?: FakeBin;
  tmp?: string;
  env?: NodeJS.ProcessEnv;
  hostsFile?: string;
}

const test = suite<Ctx>('--cluster current and the Dapr control plane (real control plane, no helm or dapr)');

const UP = ['--cluster', 'current', '--skip-images', '--timeout', '120'];

test.before(async (ctx) => {
  ctx.plane = await startControlPlane({ log: (l) => console.log(`  ${l}`) });
  ctx.bin = fakeBin(['docker'], { system: ['npm', 'sh'] });
  ctx.tmp = mkdtempSync(path.join(tmpdir(), 'todo-deploy-dapr-current-'));
  ctx.hostsFile = path.join(ctx.tmp, 'hosts');
  writeFileSync(ctx.hostsFile, '127.0.0.1 localhost\n');
  ctx.env = {
    ...ctx.bin.env(),
    HOME: ctx.tmp,
    KUBECONFIG: ctx.plane.kubeconfig,
    TODO_DEPLOY_HOSTS_FILE: ctx.hostsFile,
    OPENAI_API_KEY: 'sk-dapr-current-test-not-real',
    BETTER_AUTH_SECRET: 'dapr-current-test-auth-secret-0123456789abcdef',
    CI: 'true',
    NO_COLOR: '1',
  };
});

test.after(async (ctx) => {
  ctx.bin?.cleanup();
  await ctx.plane?.stop();
  if (ctx.tmp) rmSync(ctx.tmp, { recursive: true, force: true });
});

async function namespaceExists(plane: ControlPlane, name: string): Promise<boolean> {
  const list = await plane.kc.makeApiClient(CoreV1Api).listNamespace({ fieldSelector: `metadata.name=${name}` });
  return list.items.length > 0;
}

test('0. prod, REGISTRY at a registry that is down: up stops in its first step naming it and the fix; nothing built, installed or applied', async (ctx) => {
  const closed = await freePort();
  const registry = `127.0.0.1:${closed}/todo`;
  ctx.bin!.clearCalls();
  const r = await runScript('up', ['--env', 'prod', '--cluster', 'current', '--timeout', '120'], { ...ctx.env!, REGISTRY: registry, DATABASE_URL: 'postgresql://todo:not-a-password@db.example:5432/todo' }, 120_000);
  assert.is(r.code, 1, show(r));
  assert.match(r.output, `The images cannot be pushed: REGISTRY=${registry} names a registry at 127.0.0.1:${closed}, and connection refused`);
  assert.match(r.output, 'Nothing was built, installed or applied.');
  assert.match(r.output, 'Fix: start that registry');
  assert.not.match(r.output, 'Ingress controller:', 'the steps after the cluster step never ran');
  assert.not.match(r.output, /Stage 1\/10/);
  assert.not.match(r.output, STACK_LINE);
  assert.not.match(r.output, 'not-a-password');
  assert.equal(ctx.bin!.lines('docker').filter((l) => !l.startsWith('info') && !l.startsWith('version')), [], 'no image was built, tagged or pushed');
  assert.not.ok(await namespaceExists(ctx.plane!, 'todo'), 'no object of the stack was created');
});

test('1. Dapr absent: up stops before the stack, saying what is missing and what to install', async (ctx) => {
  const r = await runScript('up', UP, ctx.env!, 120_000);
  assert.is(r.code, 2, show(r));
  assert.match(r.output, 'The Dapr control plane is not installed in the cluster of context');
  assert.match(r.output, '(missing: namespace dapr-system)');
  assert.match(r.output, 'neither helm nor the Dapr CLI is on PATH');
  assert.match(r.output, 'install Helm 3');
  assert.match(r.output, 'nothing of the stack was applied');
  assert.not.match(r.output, STACK_LINE);
  assert.not.ok(await namespaceExists(ctx.plane!, 'todo'), 'no object of the stack was created');
  // The ingress check came first and passed on the stand-in's IngressClass.
  assert.match(r.output, 'Ingress controller: IngressClass nginx');
});

test('2. doctor says the same: helm or dapr blocks, exit 1', async (ctx) => {
  const r = await runScript('doctor', ['--cluster', 'current'], ctx.env!, 60_000);
  assert.is(r.code, 1, show(r));
  assert.match(r.output, /✗ helm or dapr\s+neither helm nor the Dapr CLI is installed; needed: up must install Dapr into the cluster\s+\[blocks up\]/);
  assert.match(r.output, /✗ Dapr control plane\s+missing \(namespace dapr-system\): up cannot install it without helm or the Dapr CLI/);
  assert.match(r.output, /✓ Cluster and context\s+current context; context /);
  assert.match(r.output, /✓ Ingress controller\s+IngressClass nginx/);
  assert.match(r.output, '1 problem(s) block `npm run up -- --env dev --cluster current`: helm or dapr.');
});

test('3. with a stand-in dapr-system made ready, up proceeds, prints the URL and writes the hosts line', async (ctx) => {
  await applyDaprStandIn(ctx.plane!.kc);
  const r = await runScript('up', [...UP, '--write-hosts', '--yes'], ctx.env!, 240_000);
  assert.is(r.code, 0, show(r));
  assert.match(r.output, 'Dapr control plane: Dapr already installed; operator, sidecar injector, sentry, placement and scheduler ready');
  for (let n = 1; n <= 10; n++) assert.match(r.output, new RegExp(`✔ Stage ${n}/10 `));
  assert.match(r.output, 'The Todo stack is deployed in namespace todo: http://todo.local/');
  const alreadyResolves = await resolvesTo('todo.local', '127.0.0.1');
  if (alreadyResolves) {
    assert.not.match(r.output, 'does not resolve');
  } else {
    assert.match(r.output, `todo.local does not resolve to 127.0.0.1. Add this line to ${ctx.hostsFile}:\n  127.0.0.1 todo.local`);
    assert.match(r.output, `Added "127.0.0.1 todo.local" to ${ctx.hostsFile}.`);
    assert.is(readFileSync(ctx.hostsFile!, 'utf8'), '127.0.0.1 localhost\n127.0.0.1 todo.local\n');
  }
  // The stand-in is what `up` waited for: every workload ready.
  const cluster = { kc: ctx.plane!.kc, objects: KubernetesObjectApi.makeApiClient(ctx.plane!.kc), context: 'admin', server: ctx.plane!.server };
  assert.equal(notReady(await probeDapr(cluster)), []);
});

test('4. doctor finds nothing blocking now; down removes the stack', async (ctx) => {
  const doc = await runScript('doctor', ['--cluster', 'current'], ctx.env!, 60_000);
  assert.is(doc.code, 0, show(doc));
  // Ready, and doctor says what it is: the project's stand-in (labelled so), not Dapr.
  assert.match(doc.output, /✓ Dapr control plane\s+the sandbox's stand-in ready \(workloads named like Dapr's; not Dapr, no sidecars\)/);
  assert.match(doc.output, 'Nothing blocks');
  const down = await runScript('down', ['--cluster', 'current'], ctx.env!, 180_000);
  assert.is(down.code, 0, show(down));
  assert.not.ok(await namespaceExists(ctx.plane!, 'todo'));
  assert.ok(existsSync(ctx.hostsFile!));
});

test.run();

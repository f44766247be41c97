// The whole pipeline with --cluster minikube, as a person runs it (`npm run up`, `npm run down
// -- --purge`), with fake-minikube, fake-helm and fake-docker on PATH and a real control plane
// behind them: fake-minikube's start writes the `todo` context into KUBECONFIG, its ingress
// addon creates the controller (Ready only after 3 s), fake-helm creates the Dapr workloads.
// Watches started before the run record every change with its store revision (a total order),
// so the test can check the order the issue asks for: the ingress controller available before
// any Ingress exists, and every Dapr workload ready before the backend's Deployment exists.
import { suite } from '../support/suite.ts';
import * as assert from 'uvu/assert';
import { Watch } from '@kubernetes/client-node';
import { runScript, show, STACK_LINE } from '../support/run-script.ts';
import { deploymentVerdict } from '../../lib/kinds.ts';
import { DAPR_WORKLOADS } from '../../lib/cluster/dapr.ts';
import { statefulSetVerdict } from '../../lib/kinds.ts';
import { DAPR_VERSION } from '../../lib/cluster/versions.ts';
import type { KubeObject } from '../../lib/types.ts';
import { startWorld, type World } from './support.ts';

interface Seen {
  kind: string;
  id: string;
  type: string;
  revision: number;
  object: KubeObject;
}

interface Ctx {
  world?: World;
  seen: Seen[];
  watches: AbortController[];
  env?: NodeJS.ProcessEnv;
}

const test = suite<Ctx>('up and down --cluster minikube (fakes on PATH, real control plane)', { seen: [], watches: [] });

test.before(async (ctx) => {
  ctx.world = await startWorld(['minikube', 'helm', 'docker'], { ingressStandIn: true }, ['npm', 'sh']);
  const w = ctx.world;
  w.bin.setState({ cluster: w.plane.kubeconfig, ingress: { readyDelay: 3 } });
  for (const [kind, path] of [['Deployment', '/apis/apps/v1/deployments'], ['StatefulSet', '/apis/apps/v1/statefulsets'], ['Ingress', '/apis/networking.k8s.io/v1/ingresses']] as const) {
    ctx.watches.push(
      await new Watch(w.plane.kc).watch(path, {}, (type, object: KubeObject) => {
        ctx.seen.push({ kind, id: `${object.metadata.namespace}/${object.metadata.name}`, type, revision: Number(object.metadata.resourceVersion), object: { ...object, kind } });
      }, () => {}),
    );
  }
  ctx.env = {
    ...w.bin.env(),
    HOME: w.tmp,
    KUBECONFIG: w.kubeconfig,
    TODO_DEPLOY_STATE_DIR: w.stateDir,
    TODO_DEPLOY_HOSTS_FILE: `${w.tmp}/hosts`,
    OPENAI_API_KEY: 'sk-up-minikube-test-not-real',
    BETTER_AUTH_SECRET: 'up-minikube-test-auth-secret-0123456789abcdef',
    CI: 'true',
    NO_COLOR: '1',
  };
});

test.after(async (ctx) => {
  for (const w of ctx.watches) w.abort();
  await ctx.world?.stop();
});

/** Revision of the first event matching, or Infinity. */
const first = (seen: Seen[], match: (s: Seen) => boolean) => Math.min(...seen.filter(match).map((s) => s.revision), Infinity);

test('up: minikube started, ingress addon waited for, Dapr installed with helm and waited for, then the stack; the URL and hosts line', async (ctx) => {
  const w = ctx.world!;
  const r = await runScript('up', ['--skip-images', '--timeout', '120'], ctx.env!, 300_000);
  assert.is(r.code, 0, show(r));
  assert.match(r.output, 'cluster minikube (chosen by default: no running local cluster in the current context; minikube and Docker are installed)');
  assert.match(r.output, 'Cluster (minikube): minikube profile todo: created and started; context todo');
  assert.equal(w.bin.lines('minikube'), ['status -p todo -o json', 'start -p todo --driver=docker --cni=calico --cpus=2 --memory=4096', 'addons enable ingress -p todo', 'ip -p todo']);
  assert.equal(w.bin.lines('helm').at(-1), `upgrade --install dapr dapr/dapr --version ${DAPR_VERSION} --namespace dapr-system --create-namespace --wait --timeout 10m --kube-context todo`);
  for (let n = 1; n <= 10; n++) assert.match(r.output, new RegExp(`✔ Stage ${n}/10 `));
  assert.match(r.output, 'The Todo stack is deployed in namespace todo: http://todo.local/');
  assert.match(r.output, 'Add this line to');
  assert.match(r.output, '192.168.49.2 todo.local');
  assert.not.match(r.output, STACK_LINE);

  const controllerAvailable = first(ctx.seen, (s) => s.id === 'ingress-nginx/ingress-nginx-controller' && deploymentVerdict(s.object).done);
  const ingressCreated = first(ctx.seen, (s) => s.kind === 'Ingress' && s.id === 'todo/todo-ingress');
  assert.ok(Number.isFinite(controllerAvailable) && Number.isFinite(ingressCreated), 'both events were seen');
  assert.ok(controllerAvailable < ingressCreated, `the Ingress (revision ${ingressCreated}) was created before the controller was available (revision ${controllerAvailable})`);

  const daprReady = Math.max(
    ...DAPR_WORKLOADS.map((wl) => first(ctx.seen, (s) => s.id === `dapr-system/${wl.name}` && (wl.kind === 'Deployment' ? deploymentVerdict(s.object) : statefulSetVerdict(s.object)).done)),
  );
  const backendCreated = first(ctx.seen, (s) => s.kind === 'Deployment' && s.id === 'todo/backend');
  assert.ok(Number.isFinite(daprReady) && Number.isFinite(backendCreated), 'both events were seen');
  assert.ok(daprReady < backendCreated, `the backend Deployment (revision ${backendCreated}) was created before Dapr was ready (revision ${daprReady})`);
});

test('down --purge: the stack removed, then the profile up created deleted', async (ctx) => {
  const w = ctx.world!;
  w.bin.clearCalls();
  const r = await runScript('down', ['--purge', '--timeout', '120'], ctx.env!, 300_000);
  assert.is(r.code, 0, show(r));
  assert.match(r.output, /Removed \d+ object\(s\); namespace todo is gone\. Purge: minikube profile todo deleted\./);
  assert.equal(w.bin.lines('minikube'), ['status -p todo -o json', 'delete -p todo']);
  assert.equal(w.bin.state().minikube, {});
});

test.run();

// Choosing the provider: the environment's default, --cluster's values, and the tool check
// against a PATH that holds only the chosen recording fakes (nothing is run, only looked up).
import { suite } from '../support/suite.ts';
import * as assert from 'uvu/assert';
import { defaultProviderName, parseProviderName, selectProvider } from '../../lib/cluster/index.ts';
import { UsageError } from '../../lib/errors.ts';
import { fakeBin, useFakes, type FakeTool } from '../fakes/harness.ts';
import { chooseDevDefault, kubeconfigFiles, readCurrentContext } from '../../lib/cluster/default.ts';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

const test = suite('cluster: provider selection');

async function withPath<T>(tools: FakeTool[], fn: () => Promise<T>): Promise<T> {
  const bin = fakeBin(tools);
  const restore = useFakes(bin);
  try {
    return await fn();
  } finally {
    restore();
    bin.cleanup();
  }
}

async function refusal(fn: () => Promise<unknown>): Promise<Error> {
  try {
    await fn();
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected a refusal');
}

test('defaults: minikube for dev, the current context for prod', () => {
  assert.is(defaultProviderName('dev'), 'minikube');
  assert.is(defaultProviderName('prod'), 'current');
});

test('--cluster values', () => {
  assert.is(parseProviderName(undefined), undefined);
  assert.is(parseProviderName('kind'), 'kind');
  assert.instance((() => { try { parseProviderName('k3d'); } catch (e) { return e; } })(), UsageError);
});

test('dev default with minikube missing but kind and docker installed: kind, saying why (no kubeconfig)', async () => {
  const tmp = mkdtempSync(path.join(tmpdir(), 'select-'));
  const saved = process.env.KUBECONFIG;
  process.env.KUBECONFIG = path.join(tmp, 'none');
  try {
    const chosen = await withPath(['kind', 'docker'], () => selectProvider(undefined, 'dev', { needsDocker: true }));
    assert.is(chosen.provider.name, 'kind');
    assert.ok(chosen.defaulted);
    assert.is(chosen.why, 'no running local cluster in the current context; kind and Docker are installed');
    const none = await withPath([], () => selectProvider(undefined, 'dev', { needsDocker: true }));
    assert.is(none.provider.name, 'sandbox');
    assert.is(none.why, 'no running local cluster in the current context; neither minikube nor kind is installed');
  } finally {
    if (saved === undefined) delete process.env.KUBECONFIG;
    else process.env.KUBECONFIG = saved;
    rmSync(tmp, { recursive: true, force: true });
  }
});

test('--cluster minikube with minikube missing: exit 2, how to install it, and the other providers including sandbox', async () => {
  const err = await withPath(['kind', 'docker'], () => refusal(() => selectProvider('minikube', 'dev', { needsDocker: true })));
  assert.instance(err, UsageError);
  assert.match(err.message, 'The cluster provider minikube needs it: `minikube` is not installed');
  assert.match(err.message, 'https://minikube.sigs.k8s.io/docs/start/');
  assert.match(err.message, '--cluster sandbox');
  assert.match(err.message, '--cluster kind');
});

const facts = { current: undefined, currentAnswers: false, minikube: false, kind: false, docker: false };

test('dev default order: a running local current context, then minikube, then kind, then the sandbox', () => {
  const mk = { name: 'dev-profile', minikube: true };
  assert.equal(chooseDevDefault({ ...facts, current: mk, currentAnswers: true, minikube: true, kind: true, docker: true }), {
    name: 'minikube',
    why: 'the current context "dev-profile" is a running minikube cluster (profile dev-profile)',
    settings: { MINIKUBE_PROFILE: 'dev-profile' },
  });
  const kindCtx = { name: 'kind-demo', minikube: false };
  assert.equal(chooseDevDefault({ ...facts, current: kindCtx, currentAnswers: true, minikube: true, kind: true, docker: true }).settings, { KIND_CLUSTER: 'demo' });
  // Docker Desktop, or a local cluster whose tool is missing, is used as the current context.
  assert.is(chooseDevDefault({ ...facts, current: { name: 'docker-desktop', minikube: false }, currentAnswers: true }).name, 'current');
  assert.is(chooseDevDefault({ ...facts, current: kindCtx, currentAnswers: true, docker: true }).name, 'current');
  // A local context that does not answer is passed over, and says so.
  const stopped = chooseDevDefault({ ...facts, current: mk, currentAnswers: false, kind: true, docker: true });
  assert.is(stopped.name, 'kind');
  assert.match(stopped.why, 'the current context "dev-profile" does not answer');
  // A remote current context is never the dev default, even when it answers.
  assert.is(chooseDevDefault({ ...facts, current: { name: 'prod-eu', minikube: false }, currentAnswers: true, minikube: true, docker: true }).name, 'minikube');
  // minikube or kind without Docker cannot run: the sandbox, and the reason names Docker.
  const noDocker = chooseDevDefault({ ...facts, minikube: true });
  assert.is(noDocker.name, 'sandbox');
  assert.match(noDocker.why, 'minikube is installed but Docker is not');
});

test('the current context from kubeconfig files: the first current-context wins; minikube marks its contexts', () => {
  const tmp = mkdtempSync(path.join(tmpdir(), 'kubeconfig-'));
  try {
    const a = path.join(tmp, 'a');
    const b = path.join(tmp, 'b');
    writeFileSync(a, 'apiVersion: v1\nkind: Config\ncontexts: []\n');
    writeFileSync(b, ['apiVersion: v1', 'kind: Config', 'current-context: todo', 'contexts:', '- name: todo', '  context:', '    cluster: todo', '    extensions:', '    - name: context_info', '      extension:', '        provider: minikube.sigs.k8s.io', ''].join('\n'));
    assert.equal(readCurrentContext([a, b, path.join(tmp, 'missing')]), { name: 'todo', minikube: true });
    assert.is(readCurrentContext([a]), undefined);
    assert.equal(kubeconfigFiles({ KUBECONFIG: `${a}${path.delimiter}${b}` }), [a, b]);
    assert.equal(kubeconfigFiles({ HOME: '/home/x' }), ['/home/x/.kube/config']);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
});

test('kind chosen and installed, but no docker: refused naming docker', async () => {
  const err = await withPath(['kind'], () => refusal(() => selectProvider('kind', 'dev', { needsDocker: true })));
  assert.instance(err, UsageError);
  assert.match(err.message, '`docker` is not installed');
  // down needs no docker: it only asks kind.
  const ok = await withPath(['kind'], () => selectProvider('kind', 'dev', { needsDocker: false }));
  assert.is(ok.provider.name, 'kind');
});

test('prod default is current, which needs no tool; sandbox needs none either', async () => {
  const prod = await withPath([], () => selectProvider(undefined, 'prod', { needsDocker: true }));
  assert.is(prod.provider.name, 'current');
  assert.ok(prod.defaulted);
  const sandbox = await withPath([], () => selectProvider('sandbox', 'dev', { needsDocker: true }));
  assert.is(sandbox.provider.name, 'sandbox');
  assert.not.ok(sandbox.defaulted);
});

test('--context belongs to --cluster current', async () => {
  const err = await withPath(['minikube', 'docker'], () => refusal(() => selectProvider('minikube', 'dev', { needsDocker: true, kubeContext: 'x' })));
  assert.instance(err, UsageError);
  assert.match(err.message, '--context x applies to --cluster current only');
  const ok = await withPath([], () => selectProvider('current', 'dev', { needsDocker: true, kubeContext: 'x' }));
  assert.is(ok.provider.name, 'current');
});

test.run();

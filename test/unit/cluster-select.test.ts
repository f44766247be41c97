// Choosing the provider: the environment's default, --cluster's values, and the tool check
// against a PATH that holds only the chosen recording fakes (nothing is run, only looked up).
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { defaultProviderName, parseProviderName, selectProvider } from '../../lib/cluster/index.ts';
import { UsageError } from '../../lib/errors.ts';
import { fakeBin, useFakes, type FakeTool } from '../fakes/harness.ts';

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

test('dev default with minikube missing: exit 2, how to install it, and the other providers including sandbox', async () => {
  const err = await withPath(['kind', 'docker'], () => refusal(() => selectProvider(undefined, 'dev', { needsDocker: true })));
  assert.instance(err, UsageError);
  assert.match(err.message, 'The cluster provider minikube (the default for --env dev) needs it: `minikube` is not installed');
  assert.match(err.message, 'https://minikube.sigs.k8s.io/docs/start/');
  assert.match(err.message, '--cluster sandbox');
  assert.match(err.message, '--cluster kind');
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

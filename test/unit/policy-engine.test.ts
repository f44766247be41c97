// The engine around the rules: exceptions (reasons, prod and security), ordering, a rule that
// throws, and the registry's own consistency.
import { suite } from '../support/suite.ts';
import * as assert from 'uvu/assert';
import { RULES, exceptionAnnotation, runPolicy } from '../../lib/policy/index.ts';
import type { Rule } from '../../lib/policy/index.ts';
import { FixtureSet, context, run } from '../fixtures/policy/load.ts';

const test = suite('policy engine');

function except(set: FixtureSet, ruleId: string, reason: string) {
  const d = set.get('Deployment', 'web');
  d.metadata.annotations = { ...(d.metadata.annotations ?? {}), [exceptionAnnotation(ruleId)]: reason };
}

test('the base fixture passes every rule in dev and prod', () => {
  for (const environment of ['dev', 'prod'] as const) {
    const r = run(new FixtureSet(), { environment });
    assert.equal(r.violations.map((v) => `${v.ruleId} ${v.object}: ${v.message}`), []);
    assert.equal(r.exceptions, []);
    assert.is(r.rulesChecked, RULES.length);
  }
});

test('an exception with a reason moves the violation to the exceptions, with the reason', () => {
  const set = new FixtureSet();
  set.container('Deployment', 'web').securityContext.readOnlyRootFilesystem = false;
  except(set, 'pod/read-only-root-fs', 'the vendor image writes its cache at start');
  const r = run(set);
  assert.equal(r.violations, []);
  assert.is(r.exceptions.length, 1);
  assert.is(r.exceptions[0]!.ruleId, 'pod/read-only-root-fs');
  assert.is(r.exceptions[0]!.object, 'Deployment/shop/web');
  assert.is(r.exceptions[0]!.reason, 'the vendor image writes its cache at start');
});

test('a non-security rule can be excepted in prod too', () => {
  const set = new FixtureSet();
  set.container('Deployment', 'web').securityContext.readOnlyRootFilesystem = false;
  except(set, 'pod/read-only-root-fs', 'needed');
  const r = run(set, { environment: 'prod' });
  assert.equal(r.violations, []);
  assert.is(r.exceptions.length, 1);
});

test('a security rule is excepted in dev but not in prod, where the violation says why', () => {
  const set = new FixtureSet();
  delete set.podSpec('Deployment', 'web').securityContext.runAsNonRoot;
  except(set, 'pod/run-as-non-root', 'legacy image needs root');
  const dev = run(set, { environment: 'dev' });
  assert.equal(dev.violations, []);
  assert.is(dev.exceptions[0]!.ruleId, 'pod/run-as-non-root');
  const prod = run(set, { environment: 'prod' });
  assert.equal(prod.exceptions, []);
  assert.is(prod.violations.length, 1);
  assert.is(prod.violations[0]!.ruleId, 'pod/run-as-non-root');
  assert.ok(prod.violations[0]!.security);
  assert.match(prod.violations[0]!.message, /cannot be excepted in prod/);
});

test('every security rule refuses its exception in prod', () => {
  const security = RULES.filter((r) => r.security).map((r) => r.id);
  assert.equal(security.sort(), [
    'dapr-component/secret-key-ref',
    'dapr-configuration/mtls-enabled',
    'networkpolicy/default-deny',
    'networkpolicy/intended-paths',
    'pod/drop-capabilities',
    'pod/no-host-namespaces',
    'pod/no-privilege-escalation',
    'pod/run-as-non-root',
    'rbac/least-privilege',
    'rbac/namespace-scoped',
    'rbac/no-sensitive-verbs',
    'rbac/no-wildcards',
    'secret/credential-word-in-name',
    'secret/no-plaintext-credentials',
    'secret/not-committed',
  ]);
});

test('the host-namespace and credential-name rules keep their violation in prod despite an exception', () => {
  const set = new FixtureSet();
  set.podSpec('Deployment', 'web').hostNetwork = true;
  set.container('Deployment', 'web').env.push({ name: 'SECRET_KEY_BASE', value: 'f00dfeed' });
  except(set, 'pod/no-host-namespaces', 'needs the node network');
  except(set, 'secret/credential-word-in-name', 'only a test value');
  assert.equal(run(set, { environment: 'dev' }).violations.map((v) => v.ruleId), []);
  const prod = run(set, { environment: 'prod' });
  assert.equal(prod.violations.map((v) => v.ruleId).sort(), ['pod/no-host-namespaces', 'secret/credential-word-in-name']);
  for (const v of prod.violations) assert.match(v.message, /cannot be excepted in prod/);
});

test('the namespace rules are never excepted, in dev either, and the annotation is itself a violation', () => {
  const set = new FixtureSet();
  set.add(`apiVersion: v1\nkind: Namespace\nmetadata:\n  name: scratch\n  annotations: {${exceptionAnnotation('config/single-namespace')}: scratch space}\n`);
  const svc = set.get('Service', 'web-svc');
  svc.metadata.namespace = 'scratch';
  svc.metadata.annotations = { [exceptionAnnotation('config/configured-namespace')]: 'a shared service' };
  const ids = run(set, { environment: 'dev' }).violations.filter((v) => /^(config\/(configured|single)-namespace|policy\/)/.test(v.ruleId)).map((v) => `${v.ruleId} ${v.object}`).sort();
  assert.equal(ids, [
    'config/configured-namespace Service/scratch/web-svc',
    'config/single-namespace Namespace/scratch',
    'policy/exception-known-rule Namespace/scratch',
    'policy/exception-known-rule Service/scratch/web-svc',
  ]);
});

test('an exception without a reason is not honoured and is itself a violation', () => {
  const set = new FixtureSet();
  set.container('Deployment', 'web').securityContext.readOnlyRootFilesystem = false;
  except(set, 'pod/read-only-root-fs', ' ');
  const ids = run(set).violations.map((v) => `${v.ruleId} ${v.object}`).sort();
  assert.equal(ids, ['pod/read-only-root-fs Deployment/shop/web', 'policy/exception-reason Deployment/shop/web']);
});

test('an exception for one rule does not hide another', () => {
  const set = new FixtureSet();
  set.container('Deployment', 'web').securityContext.readOnlyRootFilesystem = false;
  except(set, 'pod/resources', 'not this one');
  assert.equal(run(set).violations.map((v) => v.ruleId), ['pod/read-only-root-fs']);
});

test('exceptions apply only to the annotated object', () => {
  const set = new FixtureSet();
  set.container('Deployment', 'web').securityContext.readOnlyRootFilesystem = false;
  set.container('Deployment', 'api').securityContext.readOnlyRootFilesystem = false;
  except(set, 'pod/read-only-root-fs', 'web only');
  const r = run(set);
  assert.equal(r.violations.map((v) => v.object), ['Deployment/shop/api']);
  assert.equal(r.exceptions.map((v) => v.object), ['Deployment/shop/web']);
});

test('violations are sorted by file, line and rule, and carry object, file, line, fix', () => {
  const set = new FixtureSet();
  set.container('Deployment', 'api').securityContext.readOnlyRootFilesystem = false;
  set.container('Deployment', 'web').securityContext.readOnlyRootFilesystem = false;
  set.get('Ingress', 'shop-ingress').spec.ingressClassName = 'traefik';
  const r = run(set);
  const lines = r.violations.map((v) => v.line);
  assert.equal(lines, [...lines].sort((a, b) => a - b));
  assert.equal(r.violations.map((v) => v.object), ['Deployment/shop/web', 'Deployment/shop/api', 'Ingress/shop/shop-ingress']);
  for (const v of r.violations) {
    assert.is(v.file, 'manifests/base.yaml');
    assert.ok(v.fix.length > 10);
  }
});

test('a rule that throws on a malformed object is reported, not fatal', () => {
  const boom: Rule = { id: 'pod/boom', entity: 'pod', title: 't', fix: 'f', security: false, source: 's', check: () => { throw new Error('spec.containers is not a list'); } };
  const r = runPolicy(new FixtureSet().objects, context(), [boom]);
  assert.is(r.violations.length, 1);
  assert.is(r.violations[0]!.ruleId, 'pod/boom');
  assert.match(r.violations[0]!.message, /could not be checked: spec.containers is not a list/);
});

test('malformed objects do not crash the shipped rules', () => {
  const set = new FixtureSet();
  set.add(`apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: odd, namespace: shop}\nspec:\n  template:\n    spec:\n      containers: "not a list"\n      volumes: 3\n`);
  set.add(`apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: odd, namespace: shop}\nspec: {ingress: [null, {from: [null]}], egress: "x"}\n`);
  set.add(`apiVersion: v1\nkind: Service\nmetadata: {name: odd, namespace: shop}\nspec: {ports: [null], selector: {a: b}}\n`);
  const r = run(set);
  assert.not.ok(r.violations.some((v) => v.message.includes('could not be checked')), r.violations.filter((v) => v.message.includes('could not be checked')).map((v) => `${v.ruleId}: ${v.message}`).join('\n'));
});

test('rule ids are unique, prefixed by their entity, and fit an exception annotation', () => {
  const ids = RULES.map((r) => r.id);
  assert.is(new Set(ids).size, ids.length);
  for (const r of RULES) {
    assert.ok(r.id.startsWith(`${r.entity}/`), r.id);
    const name = exceptionAnnotation(r.id).split('/')[1]!;
    assert.ok(name.length <= 63 && /^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/.test(name), `annotation name for ${r.id}`);
    assert.not.match(r.title, /\n/);
    assert.ok(r.fix.length > 0 && r.source.length > 0, r.id);
  }
});

test.run();

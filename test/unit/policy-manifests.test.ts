// The shipped manifests: rendered the way `up` renders them, they pass the gate in dev (with and
// without the embedded PostgreSQL) and prod, and they hold what the issue asks for. Also: every
// rule has break and keep cases, and docs/rules.md is the generated table.
import { suite } from '../support/suite.ts';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Environment } from '../../lib/config.ts';
import { manifestFiles, prepareForApply } from '../../lib/manifests.ts';
import { SECRET_KEYS, SECRET_NAME, secretObject } from '../../lib/secrets.ts';
import { RULES, formatText, rulesMarkdown, runPolicy, withReadmeRules } from '../../lib/policy/index.ts';
import type { KubeObject, SourcedObject } from '../../lib/types.ts';
import { CASES } from '../fixtures/policy/cases/index.ts';
import { shippedManifests } from '../support/shipped-manifests.ts';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const test = suite('shipped manifests and rule docs');

const render = shippedManifests(test, 'policy-manifests-');

function gate(environment: Environment, objects: SourcedObject[]) {
  const files = manifestFiles(path.join(REPO, 'manifests')).map((f) => path.relative(REPO, f));
  return runPolicy(objects, { environment, manifestFiles: files, secretKeys: SECRET_KEYS, secretName: SECRET_NAME, namespace: 'todo' });
}

const find = (objects: SourcedObject[], kind: string, name: string): KubeObject => {
  const s = objects.find((o) => o.object.kind === kind && o.object.metadata.name === name);
  assert.ok(s, `${kind}/${name} is shipped`);
  return s!.object;
};

for (const [environment, embedded] of [['dev', true], ['dev', false], ['prod', false]] as const) {
  test(`${environment}${embedded ? ' with the embedded PostgreSQL' : ''}: the shipped manifests pass every rule`, () => {
    const r = gate(environment, render(environment, embedded));
    assert.equal(r.violations.length, 0, formatText(r, environment));
    assert.equal(r.exceptions, [], 'the shipped manifests need no exception');
  });
}

test('with the Secret the pipeline generates (labels as up applies them), the gate still passes', () => {
  const objects = render('dev', true);
  const values = { 'database-url': 'postgresql://x', 'openai-api-key': 'k', 'better-auth-secret': 's'.repeat(32), 'postgres-password': 'p' };
  const secret = prepareForApply(secretObject('todo', { values, embeddedPostgres: true, chat: true }), 'todo');
  const r = gate('dev', [...objects, { object: secret, file: '(generated from .env)', line: 1 }]);
  assert.equal(r.violations.length, 0, formatText(r, 'dev'));
});

test('the embedded PostgreSQL is rendered only when asked, and never in prod', () => {
  const names = (objects: SourcedObject[]) => objects.filter((o) => o.file.endsWith('61-postgres.yaml')).map((o) => `${o.object.kind}/${o.object.metadata.name}`);
  assert.equal(names(render('dev', true)), ['ServiceAccount/postgres-sa', 'Role/postgres-role', 'RoleBinding/postgres-rolebinding', 'NetworkPolicy/backend-to-postgres-egress', 'NetworkPolicy/backend-to-postgres-ingress', 'Deployment/postgres', 'Service/postgres-svc']);
  assert.equal(names(render('dev', false)), []);
  assert.equal(names(render('prod', false)), []);
});

test('the manifests hold the entities and values the issue names', () => {
  const objects = render('dev', true);
  assert.is(find(objects, 'Namespace', 'todo').metadata.name, 'todo');
  for (const c of ['frontend', 'backend', 'mcp-server']) {
    assert.is(find(objects, 'ServiceAccount', `${c}-sa`).automountServiceAccountToken, false);
    assert.equal(find(objects, 'Role', `${c}-role`).rules, []);
    assert.equal(find(objects, 'RoleBinding', `${c}-rolebinding`).subjects, [{ kind: 'ServiceAccount', name: `${c}-sa`, namespace: 'todo' }]);
    const pod = find(objects, 'Deployment', c).spec.template.spec;
    assert.is(pod.serviceAccountName, `${c}-sa`);
    assert.is(pod.securityContext.runAsUser, 1000);
    assert.is(pod.securityContext.seccompProfile.type, 'RuntimeDefault');
  }
  const mtls = find(objects, 'Configuration', 'dapr-config').spec.mtls;
  assert.equal([mtls.enabled, mtls.workloadCertTTL, mtls.allowedClockSkew], [true, '24h', '15m']);
  for (const [name, type] of [['statestore', 'state.redis'], ['pubsub', 'pubsub.redis']]) {
    const comp = find(objects, 'Component', name!);
    assert.equal([comp.spec.type, comp.spec.version, comp.scopes], [type, 'v1', ['backend']]);
  }
  const ports = (name: string) => find(objects, 'Service', name).spec.ports.map((p: any) => p.port);
  assert.equal(ports('frontend-svc'), [3000]);
  assert.equal(ports('backend-svc'), [8000]);
  assert.equal(ports('mcp-server-svc'), [8080]);
  const backend = find(objects, 'Deployment', 'backend');
  assert.equal(backend.spec.template.metadata.annotations, { 'dapr.io/enabled': 'true', 'dapr.io/app-id': 'backend', 'dapr.io/app-port': '8000', 'dapr.io/config': 'dapr-config', 'dapr.io/disable-builtin-k8s-secret-store': 'true' });
  assert.is(backend.spec.template.spec.containers[0].image, 'todo-backend:0.1.0');
  assert.is(backend.spec.template.spec.containers[0].imagePullPolicy, 'Never');
  const ing = find(objects, 'Ingress', 'todo-ingress').spec;
  assert.is(ing.ingressClassName, 'nginx');
  assert.is(ing.rules[0].host, 'todo.local');
  assert.equal(ing.rules[0].http.paths[0].backend.service, { name: 'frontend-svc', port: { number: 3000 } });
  const deny = find(objects, 'NetworkPolicy', 'default-deny-all').spec;
  assert.equal([deny.podSelector, deny.policyTypes], [{}, ['Ingress', 'Egress']]);
});

test('prod takes replicas, domain and pull policy from env/prod.env', () => {
  const objects = render('prod', false);
  const fe = find(objects, 'Deployment', 'frontend');
  assert.is(fe.spec.replicas, 2);
  assert.is(fe.spec.template.spec.containers[0].imagePullPolicy, 'IfNotPresent');
  assert.is(find(objects, 'Ingress', 'todo-ingress').spec.rules[0].host, 'todo.example.com');
});

test('every rule has at least one refusing and one accepting test case', () => {
  const breaks = new Set(Object.values(CASES).flatMap((c) => c.breaks.map((b) => b.rule)));
  const keeps = new Set(Object.values(CASES).flatMap((c) => c.keeps.map((k) => k.rule)));
  const known = new Set(RULES.map((r) => r.id));
  assert.equal(RULES.map((r) => r.id).filter((id) => !breaks.has(id)), [], 'rules without a refusing case');
  assert.equal(RULES.map((r) => r.id).filter((id) => !keeps.has(id)), [], 'rules without an accepting case');
  assert.equal([...breaks, ...keeps].filter((id) => !known.has(id)), [], 'cases naming no rule');
});

test('docs/rules.md is the generated rule table (regenerate: npm run -s validate -- --list-rules > docs/rules.md)', () => {
  assert.fixture(readFileSync(path.join(REPO, 'docs', 'rules.md'), 'utf8'), rulesMarkdown());
});

test('the README rule section is the generated one (regenerate: npm run -s validate -- --list-rules --readme)', () => {
  const readme = readFileSync(path.join(REPO, 'README.md'), 'utf8');
  const expected = withReadmeRules(readme);
  assert.ok(expected, 'README.md keeps its <!-- rules:start --> and <!-- rules:end --> markers');
  assert.fixture(readme, expected!);
});

test.run();

// The creation order of the data model ("Component Lifecycle"), its reverse for deletion, how an
// object finds its stage, and the plan that groups rendered objects by stage.
import { suite } from '../support/suite.ts';
import * as assert from 'uvu/assert';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { STAGES, DELETION_STAGES, stageOf, kindRefOf, planStages, objectRef, apiGroup, knownKindsText } from '../../lib/order.ts';
import { buildPlan, manifestVars, defaultImageRefs } from '../../lib/plan.ts';
import { buildSecrets } from '../../lib/secrets.ts';
import type { Config } from '../../lib/config.ts';
import { UsageError } from '../../lib/errors.ts';
import type { KubeObject, SourcedObject } from '../../lib/types.ts';

// The data model's list, written out here rather than read from lib/order, so a change there fails.
const CREATION = [
  'Namespace',
  'Secrets',
  'ServiceAccounts',
  'Roles and RoleBindings',
  'Dapr Configuration',
  'Dapr Components',
  'NetworkPolicies',
  'Services',
  'Deployments',
  'Ingress',
];

const obj = (apiVersion: string, kind: string, name: string): KubeObject => ({ apiVersion, kind, metadata: { name } });
const sourced = (object: KubeObject, file: string, line: number): SourcedObject => ({ object, file, line });

// ---------------------------------------------------------------------------------------------
const stages = suite('order: stages');

stages('the ten creation stages follow the data model, numbered 1 to 10', () => {
  assert.equal(STAGES.map((s) => s.title), CREATION);
  assert.equal(STAGES.map((s) => s.number), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  assert.is(new Set(STAGES.map((s) => s.id)).size, 10, 'stage ids are unique');
});

stages('deletion is the exact reverse of creation', () => {
  assert.equal(DELETION_STAGES.map((s) => s.title), [...CREATION].reverse());
  assert.equal(DELETION_STAGES.map((s) => s.number), [10, 9, 8, 7, 6, 5, 4, 3, 2, 1]);
  assert.is(DELETION_STAGES[0].title, 'Ingress');
  assert.is(DELETION_STAGES[9].title, 'Namespace');
  assert.equal(STAGES.map((s) => s.title), CREATION, 'reversing did not reorder the creation list');
});

stages('each kind of the data model has its stage', () => {
  const cases: Array<[string, string, string]> = [
    ['v1', 'Namespace', 'Namespace'],
    ['v1', 'Secret', 'Secrets'],
    ['v1', 'ServiceAccount', 'ServiceAccounts'],
    ['rbac.authorization.k8s.io/v1', 'Role', 'Roles and RoleBindings'],
    ['rbac.authorization.k8s.io/v1', 'RoleBinding', 'Roles and RoleBindings'],
    ['dapr.io/v1alpha1', 'Configuration', 'Dapr Configuration'],
    ['dapr.io/v1alpha1', 'Component', 'Dapr Components'],
    ['networking.k8s.io/v1', 'NetworkPolicy', 'NetworkPolicies'],
    ['v1', 'Service', 'Services'],
    ['apps/v1', 'Deployment', 'Deployments'],
    ['networking.k8s.io/v1', 'Ingress', 'Ingress'],
  ];
  for (const [apiVersion, kind, title] of cases) assert.is(stageOf({ apiVersion, kind })?.title, title, `${apiVersion} ${kind}`);
});

stages('the stage is found by group and kind, whatever the version', () => {
  assert.is(stageOf({ apiVersion: 'networking.k8s.io/v2', kind: 'Ingress' })?.id, 'ingress');
  assert.is(stageOf({ apiVersion: 'apps/v1beta2', kind: 'Deployment' })?.id, 'deployments');
  assert.is(stageOf({ apiVersion: 'dapr.io/v2', kind: 'Component' })?.id, 'dapr-components');
  assert.is(stageOf({ apiVersion: 'v2', kind: 'Secret' })?.id, 'secrets');
});

stages('the same kind name in another group is not confused with ours', () => {
  assert.is(stageOf({ apiVersion: 'extensions/v1beta1', kind: 'Ingress' }), undefined);
  assert.is(stageOf({ apiVersion: 'v1', kind: 'Deployment' }), undefined);
  assert.is(stageOf({ apiVersion: 'config.example.com/v1', kind: 'Configuration' }), undefined);
  assert.is(stageOf({ apiVersion: 'apps/v1', kind: 'StatefulSet' }), undefined);
  assert.is(stageOf({ apiVersion: 'v1', kind: 'ConfigMap' }), undefined);
});

stages('kindRefOf gives the plural and scope the watches need', () => {
  assert.equal(kindRefOf({ apiVersion: 'v1', kind: 'Namespace' }), { apiVersion: 'v1', kind: 'Namespace', plural: 'namespaces', namespaced: false });
  assert.equal(kindRefOf({ apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy' }), { apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', plural: 'networkpolicies', namespaced: true });
  assert.is(kindRefOf({ apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'RoleBinding' })?.plural, 'rolebindings');
  assert.is(kindRefOf({ apiVersion: 'networking.k8s.io/v1', kind: 'Ingress' })?.plural, 'ingresses');
  assert.is(kindRefOf({ apiVersion: 'v1', kind: 'Pod' }), undefined);
  // Only the Namespace is cluster-scoped.
  assert.equal(STAGES.flatMap((s) => s.kinds).filter((k) => !k.namespaced).map((k) => k.kind), ['Namespace']);
});

stages('apiGroup and objectRef', () => {
  assert.is(apiGroup('v1'), '');
  assert.is(apiGroup('apps/v1'), 'apps');
  assert.is(apiGroup('rbac.authorization.k8s.io/v1'), 'rbac.authorization.k8s.io');
  assert.is(objectRef({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'backend', namespace: 'todo' } }), 'Deployment/todo/backend');
  assert.is(objectRef(obj('v1', 'Namespace', 'todo')), 'Namespace/todo');
});

stages.run();

// ---------------------------------------------------------------------------------------------
const plan = suite('order: planStages');

plan('an object defined twice is refused with both places; the same name in another kind or group is fine', () => {
  const twice = [
    sourced(obj('v1', 'Service', 'backend-svc'), 'manifests/70-services.yaml', 3),
    sourced(obj('apps/v1', 'Deployment', 'backend-svc'), 'manifests/80-deployments.yaml', 1),
    sourced(obj('v1', 'Service', 'backend-svc'), 'manifests/99-extra.yaml', 7),
  ];
  try {
    planStages(twice);
    assert.unreachable('a duplicate must be refused');
  } catch (err) {
    assert.instance(err, UsageError);
    const message = (err as Error).message;
    assert.match(message, 'Service/backend-svc at manifests/99-extra.yaml:7 and manifests/70-services.yaml:3');
    assert.not.match(message, 'Deployment');
  }
  assert.is(planStages(twice.slice(0, 2)).reduce((n, p) => n + p.objects.length, 0), 2);
});

plan('groups objects by stage in creation order, keeping file order within a stage, all ten stages returned', () => {
  const input = [
    sourced(obj('networking.k8s.io/v1', 'Ingress', 'todo-ingress'), 'manifests/ingress.yaml', 1),
    sourced(obj('v1', 'Service', 'frontend-svc'), 'manifests/frontend.yaml', 1),
    sourced(obj('apps/v1', 'Deployment', 'frontend'), 'manifests/frontend.yaml', 14),
    sourced(obj('v1', 'Service', 'backend-svc'), 'manifests/backend.yaml', 1),
    sourced(obj('rbac.authorization.k8s.io/v1', 'RoleBinding', 'backend'), 'manifests/rbac.yaml', 12),
    sourced(obj('rbac.authorization.k8s.io/v1', 'Role', 'backend'), 'manifests/rbac.yaml', 1),
    sourced(obj('v1', 'Namespace', 'todo'), 'manifests/namespace.yaml', 1),
  ];
  const planned = planStages(input);
  assert.is(planned.length, 10);
  assert.equal(planned.map((p) => p.stage.title), CREATION);
  const names = (id: string) => planned.find((p) => p.stage.id === id)!.objects.map((o) => `${o.object.kind}/${o.object.metadata.name}`);
  assert.equal(names('namespace'), ['Namespace/todo']);
  assert.equal(names('rbac'), ['RoleBinding/backend', 'Role/backend'], 'file order, not kind order, within a stage');
  assert.equal(names('services'), ['Service/frontend-svc', 'Service/backend-svc']);
  assert.equal(names('deployments'), ['Deployment/frontend']);
  assert.equal(names('ingress'), ['Ingress/todo-ingress']);
  for (const id of ['secrets', 'serviceaccounts', 'dapr-configuration', 'dapr-components', 'networkpolicies']) assert.equal(names(id), [], id);
  assert.is(planned.reduce((n, p) => n + p.objects.length, 0), input.length);
  assert.is(planned[8].objects[0].line, 14, 'the source line travels with the object');
});

plan('no objects: ten empty stages', () => {
  const planned = planStages([]);
  assert.is(planned.length, 10);
  assert.ok(planned.every((p) => p.objects.length === 0));
});

plan('objects of unknown kinds are refused together, each with file and line, and the known kinds listed', () => {
  const input = [
    sourced(obj('v1', 'Namespace', 'todo'), 'manifests/namespace.yaml', 1),
    sourced(obj('v1', 'ConfigMap', 'settings'), 'manifests/config.yaml', 3),
    sourced(obj('apps/v1', 'StatefulSet', 'postgres'), 'manifests/postgres.yaml', 17),
  ];
  let err: unknown;
  try {
    planStages(input);
  } catch (e) {
    err = e;
  }
  assert.instance(err, UsageError);
  const message = (err as UsageError).message;
  assert.is((err as UsageError).exitCode, 2);
  assert.match(message, 'nothing was sent to a cluster');
  assert.match(message, '  - manifests/config.yaml:3 ConfigMap settings (v1)');
  assert.match(message, '  - manifests/postgres.yaml:17 StatefulSet postgres (apps/v1)');
  assert.not.match(message, 'namespace.yaml');
  assert.match(message, 'Fix: ');
  assert.match(message, knownKindsText());
  assert.match(knownKindsText(), 'Deployment (apps/v1)');
});

plan.run();

// ---------------------------------------------------------------------------------------------
const full = suite('order: buildPlan over the minimal fixture set');
const here = path.dirname(fileURLToPath(import.meta.url));

const config: Config = {
  environment: 'dev',
  namespace: 'todo-test',
  domain: 'todo.local',
  replicas: 1,
  imagePullPolicy: 'Never',
  images: { frontend: 'todo-frontend', backend: 'todo-backend', mcpServer: 'todo-mcp-server', postgres: 'todo-postgres', redis: 'todo-redis' },
  imageTag: '0.1.0',
  readyTimeoutSeconds: 300,
  sources: {} as Config['sources'],
  dotenv: {},
  fileSettings: {},
};
const AUTH = 'plan-test-auth-secret-0123456789abcdef';
const OPENAI = 'sk-plan-test-key-0000';

full('manifest variables are the documented ones and carry no secret', () => {
  const secrets = buildSecrets(config, { OPENAI_API_KEY: OPENAI, BETTER_AUTH_SECRET: AUTH });
  const vars = manifestVars(config, defaultImageRefs(config), secrets.embeddedPostgres);
  assert.equal(Object.keys(vars).sort(), ['BACKEND_IMAGE', 'DOMAIN', 'EMBEDDED_POSTGRES', 'ENVIRONMENT', 'FRONTEND_IMAGE', 'IMAGE_PULL_POLICY', 'MCP_SERVER_IMAGE', 'NAMESPACE', 'POSTGRES_IMAGE', 'REDIS_IMAGE', 'REPLICAS']);
  assert.is(vars.BACKEND_IMAGE, 'todo-backend:0.1.0');
  assert.is(vars.POSTGRES_IMAGE, 'todo-postgres:0.1.0');
  assert.is(vars.REDIS_IMAGE, 'todo-redis:0.1.0');
  assert.is(vars.EMBEDDED_POSTGRES, 'true');
  for (const value of Object.values(secrets.values).filter(Boolean)) assert.not.ok(Object.values(vars).includes(value));
});

full('every object is labelled, namespaced objects get the namespace, the Secret joins stage 2', () => {
  const secrets = buildSecrets(config, { OPENAI_API_KEY: OPENAI, BETTER_AUTH_SECRET: AUTH });
  const result = buildPlan(config, secrets, defaultImageRefs(config), path.resolve(here, '../fixtures/core/minimal'), path.resolve(here, '../fixtures/core'));
  const byStage = Object.fromEntries(result.stages.map((p) => [p.stage.id, p.objects.map((o) => objectRef(o.object))]));
  assert.equal(byStage, {
    namespace: ['Namespace/todo-test'],
    secrets: ['Secret/todo-test/todo-secrets'],
    serviceaccounts: ['ServiceAccount/todo-test/backend-sa'],
    rbac: ['Role/todo-test/backend', 'RoleBinding/todo-test/backend'],
    'dapr-configuration': [],
    'dapr-components': [],
    networkpolicies: ['NetworkPolicy/todo-test/default-deny'],
    services: ['Service/todo-test/backend-svc'],
    deployments: ['Deployment/todo-test/backend'],
    ingress: ['Ingress/todo-test/todo-ingress'],
  });
  for (const planned of result.stages) {
    for (const o of planned.objects) {
      assert.is(o.object.metadata.labels?.['app.kubernetes.io/managed-by'], 'todo-deploy', objectRef(o.object));
      assert.is(o.object.metadata.labels?.['app.kubernetes.io/part-of'], 'todo', objectRef(o.object));
    }
  }
  const secret = result.stages[1].objects[0];
  assert.is(secret.file, '(generated from .env)');
  assert.is(secret.object.metadata.labels?.['app.kubernetes.io/name'], 'todo-secrets', 'its own labels are kept beside ours');
  assert.is(result.stages[0].objects[0].object.metadata.namespace, undefined, 'a Namespace has no namespace');
  // The policy gate sees the manifests as written: without the generated Secret, and not the copies that are applied.
  assert.is(result.rendered.length, 8);
  assert.not.ok(result.rendered.some((o) => o.object.kind === 'Secret'));
  const applied = result.stages.flatMap((p) => p.objects.map((o) => o.object));
  assert.not.ok(result.rendered.some((o) => applied.includes(o.object)));
});

full.run();

// The plan is what validate checks and up applies: both build it with planDeployment from the
// same configuration, environment and manifests ('optional' secrets for validate, 'required'
// for up), so the objects must be byte for byte the same, and the embedded database decided
// alike: an exported empty DATABASE_URL counts as unset in both, so .env's value is used.
import { suite } from '../support/suite.ts';
import * as assert from 'uvu/assert';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../../lib/config.ts';
import { planDeployment, requireDeployable, withImages, type Plan } from '../../lib/plan.ts';
import { UsageError } from '../../lib/errors.ts';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const MANIFESTS = path.join(REPO, 'manifests');
const AUTH = 'plan-test-auth-secret-0123456789abcdef';
const KEY = 'sk-plan-test-not-a-real-key';
const EXTERNAL = 'postgresql://app:pw-plan-test@db.example.internal:5432/todo';

let root = '';

function repoWith(dotenv: string): string {
  root = mkdtempSync(path.join(tmpdir(), 'todo-deploy-plan-'));
  mkdirSync(path.join(root, 'env'));
  // The repository's own dev settings, so the test follows them as they grow.
  copyFileSync(path.join(REPO, 'env', 'dev.env'), path.join(root, 'env', 'dev.env'));
  writeFileSync(path.join(root, '.env'), dotenv);
  return root;
}

/** The plan as validate makes it and as up makes it, from the same inputs. */
function bothPlans(dotenv: string, processEnv: Record<string, string | undefined>): { validate: Plan; up: Plan } {
  const repoRoot = repoWith(dotenv);
  const config = loadConfig({ env: 'dev', repoRoot });
  const input = { config, processEnv, repoRoot, manifestsDir: MANIFESTS };
  return { validate: planDeployment({ ...input, secrets: 'optional' }), up: planDeployment({ ...input, secrets: 'required' }) };
}

const objectsOf = (plan: Plan) => JSON.stringify({ rendered: plan.rendered.map((s) => s.object), stages: plan.stages.map((s) => s.objects.map((o) => o.object)) });
const kinds = (plan: Plan) => plan.stages.flatMap((s) => s.objects.map((o) => `${o.object.kind}/${o.object.metadata.name}`));

const test = suite('plan: validate and up render the same objects');

test.after.each(() => {
  if (root) rmSync(root, { recursive: true, force: true });
  root = '';
});

test('an exported empty DATABASE_URL counts as unset: .env\'s external database is used by both', () => {
  const { validate, up } = bothPlans(`DATABASE_URL=${EXTERNAL}\n`, { DATABASE_URL: '', OPENAI_API_KEY: KEY, BETTER_AUTH_SECRET: AUTH });
  assert.is(validate.secrets.embeddedPostgres, false);
  assert.is(up.secrets.embeddedPostgres, false);
  assert.ok(!kinds(up).includes('Deployment/postgres'), 'no embedded PostgreSQL rendered');
  assert.is(objectsOf(validate), objectsOf(up));
});

test('no DATABASE_URL anywhere: both render the embedded PostgreSQL', () => {
  const { validate, up } = bothPlans('', { DATABASE_URL: '', OPENAI_API_KEY: KEY, BETTER_AUTH_SECRET: AUTH });
  assert.is(up.secrets.embeddedPostgres, true);
  assert.ok(kinds(up).includes('Deployment/postgres'));
  assert.is(objectsOf(validate), objectsOf(up));
});

test('the environment wins over .env, in both', () => {
  const { validate, up } = bothPlans('DATABASE_URL=\n', { DATABASE_URL: EXTERNAL, OPENAI_API_KEY: KEY, BETTER_AUTH_SECRET: AUTH });
  assert.is(up.secrets.embeddedPostgres, false);
  assert.is(objectsOf(validate), objectsOf(up));
});

test('validate plans without usable secrets (keeping the problems); up refuses before rendering', () => {
  const repoRoot = repoWith('');
  const config = loadConfig({ env: 'dev', repoRoot });
  const input = { config, processEnv: {}, repoRoot, manifestsDir: MANIFESTS };
  const plan = planDeployment({ ...input, secrets: 'optional' });
  assert.equal(plan.secretProblems.map((p) => p.key), ['BETTER_AUTH_SECRET']);
  assert.throws(() => requireDeployable(plan), (err: Error) => err instanceof UsageError && /1 secret\(s\) are not usable/.test(err.message));
  assert.throws(() => planDeployment({ ...input, secrets: 'required' }), (err: Error) => err instanceof UsageError);
});

test('re-planned with built image tags through the same function: only the images change', () => {
  const { up } = bothPlans('', { OPENAI_API_KEY: KEY, BETTER_AUTH_SECRET: AUTH });
  const retag = (ref: string) => ref.replace(/:[^:/]+$/, ':abc123');
  const refs = Object.fromEntries(Object.entries(up.refs).map(([k, v]) => [k, retag(v)])) as typeof up.refs;
  const built = withImages(up, refs);
  assert.equal(kinds(built), kinds(up));
  let before = objectsOf(up);
  for (const ref of Object.values(up.refs)) before = before.replaceAll(ref, retag(ref));
  assert.is(objectsOf(built), before);
  assert.ok(Object.isFrozen(built) && Object.isFrozen(built.stages), 'the plan is immutable');
});

test('every stage carries its gates: rollouts in their own stage, Service endpoints with the Deployments', () => {
  const { up } = bothPlans('', { OPENAI_API_KEY: KEY, BETTER_AUTH_SECRET: AUTH });
  const gates = Object.fromEntries(up.stages.map((s) => [s.stage.id, { rollouts: s.gates.rollouts.map((g) => g.title), endpoints: s.gates.endpoints.map((g) => g.title) }]));
  assert.equal(gates.namespace, { rollouts: ['namespace todo'], endpoints: [] });
  assert.equal(gates.services, { rollouts: [], endpoints: [] });
  assert.ok(gates.deployments!.rollouts.includes('backend rolling out'));
  assert.ok(gates.deployments!.endpoints.includes('backend-svc endpoints'));
  assert.equal(gates.ingress, { rollouts: ['todo-ingress address'], endpoints: [] });
});

test.run();

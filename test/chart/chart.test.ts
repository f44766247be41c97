// The chart charts/todo-app with the real helm CLI (built from the Go module proxy at the version
// bench/ pins): `helm lint` passes (the data model's rule for the Helm Release), and
// `helm template` with the dev values renders exactly the objects `npm run validate` checks.
import { suite } from '../support/suite.ts';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseAllDocuments } from 'yaml';
import { ensureTool } from '../../bench/tools.ts';
import { CHART_DIR } from '../../lib/chart.ts';
import { REPO_ROOT } from '../../lib/cli.ts';
import { loadConfig } from '../../lib/config.ts';
import { renderManifests } from '../../lib/manifests.ts';
import { defaultImageRefs, manifestVars } from '../../lib/plan.ts';
import type { KubeObject } from '../../lib/types.ts';

const test = suite<{ helm?: string; home?: string }>('chart: helm lint and helm template');

// uvu 0.5 swallows an error thrown in a before hook: keep it and fail every test with it.
let setupError: unknown;
test.before(async (ctx) => {
  try {
    ctx.helm = (await ensureTool('helm', { log: (l) => console.log(`  ${l}`) })).path;
    ctx.home = mkdtempSync(path.join(tmpdir(), 'todo-deploy-helm-'));
  } catch (err) {
    setupError = err;
    console.error(`  set-up failed: ${(err as Error)?.stack ?? String(err)}`);
  }
});
test.before.each(() => {
  if (setupError) throw setupError;
});
test.after((ctx) => {
  if (ctx.home) rmSync(ctx.home, { recursive: true, force: true });
});

function helm(ctx: { helm?: string; home?: string }, args: string[]) {
  const r = spawnSync(ctx.helm!, args, {
    cwd: REPO_ROOT,
    encoding: 'utf8',
    // No kubeconfig: lint and template never need a cluster.
    env: { ...process.env, KUBECONFIG: '/dev/null', HELM_CACHE_HOME: path.join(ctx.home!, 'cache'), HELM_CONFIG_HOME: path.join(ctx.home!, 'config'), HELM_DATA_HOME: path.join(ctx.home!, 'data') },
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('helm lint --strict passes with the base values and with the dev values', (ctx) => {
  for (const extra of [[], ['-f', `${CHART_DIR}/values-dev.yaml`]]) {
    const r = helm(ctx, ['lint', '--strict', CHART_DIR, ...extra]);
    assert.is(r.code, 0, `helm lint ${extra.join(' ')}:\n${r.stdout}${r.stderr}`);
    assert.match(r.stdout, /1 chart\(s\) linted, 0 chart\(s\) failed/);
  }
});

const key = (o: KubeObject) => `${o.apiVersion} ${o.kind} ${o.metadata.namespace ?? ''}/${o.metadata.name}`;

/** What `npm run validate --env dev` renders: env/dev.env without .env (so the embedded PostgreSQL), default image refs. */
function validatedObjects(): KubeObject[] {
  const root = mkdtempSync(path.join(tmpdir(), 'todo-deploy-chart-'));
  try {
    cpSync(path.join(REPO_ROOT, 'env'), path.join(root, 'env'), { recursive: true });
    const config = loadConfig({ env: 'dev', repoRoot: root });
    return renderManifests(path.join(REPO_ROOT, 'manifests'), manifestVars(config, defaultImageRefs(config), true), REPO_ROOT).map((s) => s.object);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

test('helm template with values-dev.yaml renders the same objects as validate checks, field for field', (ctx) => {
  const r = helm(ctx, ['template', 'todo-app', CHART_DIR, '-f', `${CHART_DIR}/values-dev.yaml`, '--namespace', 'todo']);
  assert.is(r.code, 0, r.stderr);
  const fromHelm = parseAllDocuments(r.stdout).map((d) => d.toJS() as KubeObject).filter(Boolean);
  const fromValidate = validatedObjects();
  assert.ok(fromValidate.length > 20, `the stack has its objects (${fromValidate.length})`);
  assert.equal(fromHelm.map(key).sort(), fromValidate.map(key).sort(), 'the same set of objects');
  const byKey = new Map(fromHelm.map((o) => [key(o), o]));
  for (const o of fromValidate) assert.equal(byKey.get(key(o)), o, `${key(o)} is identical`);
});

test('with the base (prod) values the embedded PostgreSQL is left out and images are pulled IfNotPresent', (ctx) => {
  const r = helm(ctx, ['template', 'todo-app', CHART_DIR, '--namespace', 'todo']);
  assert.is(r.code, 0, r.stderr);
  const objects = parseAllDocuments(r.stdout).map((d) => d.toJS() as KubeObject).filter(Boolean);
  assert.not.ok(objects.some((o) => o.metadata.name.startsWith('postgres')));
  const policies = objects.filter((o) => o.kind === 'Deployment').flatMap((d) => d.spec.template.spec.containers.map((c: { imagePullPolicy: string }) => c.imagePullPolicy));
  assert.ok(policies.length > 0 && policies.every((p) => p === 'IfNotPresent'), policies.join(','));
});

test.run();

// `npm run validate` as a user runs it: a child process per case, exit codes 0/1/2, the three
// output formats, and --manifests pointing at a folder outside the repository.
import { suite } from '../support/suite.ts';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
// As `npm run validate` runs it: the launcher and the build in dist/ (rebuilt first when a source
// changed), on the test's own Node (22, from the node devDependency), whatever `node` is on PATH.
const LAUNCHER = path.join(REPO, 'scripts', 'bundle', 'todo-deploy.mjs');
const test = suite('npm run validate');

function validate(...args: string[]) {
  const env = { ...process.env };
  delete env.DATABASE_URL; // dev then renders the embedded PostgreSQL, as on a fresh clone
  const r = spawnSync(process.execPath, [LAUNCHER, 'validate', ...args], { cwd: REPO, env, encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

let broken = '';
test.before(() => {
  // A copy of the shipped manifests with two faults: a writable root filesystem on the backend
  // and a Secret committed next to the manifests.
  broken = mkdtempSync(path.join(tmpdir(), 'validate-cli-'));
  cpSync(path.join(REPO, 'manifests'), broken, { recursive: true, filter: (src) => !src.includes(`${path.sep}crds`) });
  const deployments = path.join(broken, '80-deployments.yaml');
  const text = readFileSync(deployments, 'utf8');
  const backendAt = text.indexOf('name: backend\n');
  const fault = text.indexOf('readOnlyRootFilesystem: true', backendAt);
  writeFileSync(deployments, text.slice(0, fault) + 'readOnlyRootFilesystem: false' + text.slice(fault + 'readOnlyRootFilesystem: true'.length));
  writeFileSync(path.join(broken, '95-leak.yaml'), 'apiVersion: v1\nkind: Secret\nmetadata:\n  name: leak\n  namespace: ${NAMESPACE}\n  labels: {app.kubernetes.io/name: leak, app.kubernetes.io/part-of: todo, app.kubernetes.io/managed-by: todo-deploy}\nstringData:\n  api-key: not-a-real-key\n');
});
test.after(() => rmSync(broken, { recursive: true, force: true }));

test('the shipped manifests pass for dev and prod: exit 0', () => {
  for (const env of ['dev', 'prod']) {
    const r = validate('--env', env);
    assert.is(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, new RegExp(`^policy \\(${env}\\): passed, \\d+ rules over \\d+ objects\\.`, 'm'));
  }
});

test('violations: exit 1, each with object, file:line, rule, message and fix', () => {
  const r = validate('--manifests', broken);
  assert.is(r.code, 1, r.stderr);
  const file = path.join(broken, '80-deployments.yaml');
  const roLine = readFileSync(file, 'utf8').split('\n').findIndex((l) => l.includes('readOnlyRootFilesystem: false')) + 1;
  assert.ok(r.stdout.includes(`VIOLATION pod/read-only-root-fs  Deployment/todo/backend  ${file}:${roLine}`), r.stdout);
  assert.match(r.stdout, /VIOLATION secret\/not-committed \[security\]  Secret\/todo\/leak  .*95-leak\.yaml:2\n\s+Secret leak is written in a manifest file/);
  assert.match(r.stdout, /fix: Delete the Secret from the manifests/);
  assert.not.match(r.stdout + r.stderr, /not-a-real-key/, 'secret values are never printed');
});

test('--output json and sarif are parseable on stdout', () => {
  const json = validate('--manifests', broken, '--output', 'json');
  assert.is(json.code, 1);
  const report = JSON.parse(json.stdout);
  assert.equal(report.violations.map((v: any) => v.ruleId).sort(), ['pod/read-only-root-fs', 'secret/not-committed']);
  const sarif = validate('--manifests', broken, '--output', 'sarif', '--env', 'prod');
  assert.is(sarif.code, 1);
  const log = JSON.parse(sarif.stdout);
  assert.is(log.version, '2.1.0');
  assert.equal(log.runs[0].results.map((x: any) => x.locations[0].physicalLocation.artifactLocation.uri.startsWith('file:///')), [true, true]);
});

test('bad input: exit 2 with a sentence naming the fix', () => {
  const cases: [string[], RegExp][] = [
    [['--output', 'xml'], /Unknown output format "xml".*--output text, json or sarif/],
    [['--manifests', path.join(broken, 'nope')], /does not exist/],
  ];
  for (const [args, message] of cases) {
    const r = validate(...args);
    assert.is(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, message);
    assert.not.match(r.stderr, /\n\s+at /, 'no stack trace without --debug');
  }
});

test('--list-rules prints the table of docs/rules.md', () => {
  const r = validate('--list-rules');
  assert.is(r.code, 0);
  assert.is(r.stdout, readFileSync(path.join(REPO, 'docs', 'rules.md'), 'utf8'));
});

test.run();

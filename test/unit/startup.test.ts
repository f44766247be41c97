// What users run starts from the build (scripts/bundle/build.mjs -> dist/), never from a transpiler, and
// loads the heavy packages only in the commands that need them: `--help`, `validate` and
// doctor's local checks never load the Kubernetes client or listr2. Each command runs as
// npm runs it (node scripts/bundle/todo-deploy.mjs <command>), with a module hook that records every
// module the process resolves. The launcher's rebuild is checked in a throwaway copy of the
// sources: an edited source is rebuilt before it runs, one that does not compile is refused.
import { suite } from '../support/suite.ts';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const NODE = path.join(REPO, 'node_modules', '.bin', 'node');

// Resolve hooks that append every module URL to the file named by MODULE_LOG.
const HOOKS = `import { appendFileSync } from 'node:fs';
export async function resolve(specifier, context, next) {
  const result = await next(specifier, context);
  appendFileSync(process.env.MODULE_LOG, result.url + '\\n');
  return result;
}`;
const REGISTER = `import { register } from 'node:module'; register(${JSON.stringify(`data:text/javascript,${encodeURIComponent(HOOKS)}`)});`;

let scratch = '';

interface Run {
  code: number | null;
  output: string;
  modules: string[];
}

function launch(root: string, args: string[], env: Record<string, string> = {}): Run {
  const log = path.join(scratch, `modules-${Math.random().toString(36).slice(2)}.log`);
  writeFileSync(log, '');
  const r = spawnSync(NODE, ['--import', `data:text/javascript,${encodeURIComponent(REGISTER)}`, path.join(root, 'scripts', 'bundle', 'todo-deploy.mjs'), ...args], {
    cwd: root,
    env: { PATH: process.env.PATH ?? '', HOME: scratch, NO_COLOR: '1', CI: 'true', MODULE_LOG: log, ...env },
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { code: r.status, output: `${r.stdout}${r.stderr}`, modules: readFileSync(log, 'utf8').split('\n').filter(Boolean) };
}

const HEAVY = ['@kubernetes/client-node', 'listr2'];
/** A vendored package (scripts/bundle/build.mjs VENDORED) loads from dist/vendor/<name>-<hash>.js instead of node_modules. */
const vendored = (pkg: string) => `/dist/vendor/${pkg.replace(/^@/, '').replace(/\//g, '-')}-`;
const fromNodeModules = (run: Run, pkg: string) => run.modules.some((url) => url.includes(`/node_modules/${pkg}/`));
const loaded = (run: Run, pkg: string) => fromNodeModules(run, pkg) || run.modules.some((url) => url.includes(vendored(pkg)));

function assertLight(run: Run, what: string): void {
  for (const pkg of HEAVY) assert.not.ok(loaded(run, pkg), `${what} loaded ${pkg}`);
  assert.not.ok(loaded(run, 'tsx'), `${what} ran through tsx`);
  assert.not.ok(run.modules.some((url) => /\/(lib|scripts)\/[^/]+(\/[^/]+)*\.ts$/.test(url)), `${what} ran a TypeScript source:\n${run.modules.filter((u) => u.endsWith('.ts')).join('\n')}`);
}

const test = suite('start-up: the build, and what each command loads');

test.before(() => {
  scratch = mkdtempSync(path.join(tmpdir(), 'startup-'));
});
test.after(() => rmSync(scratch, { recursive: true, force: true }));

test('--help of every deploy command: the build runs, without the Kubernetes client or listr2', () => {
  for (const command of ['up', 'down', 'validate', 'doctor']) {
    const run = launch(REPO, [command, '--help']);
    assert.is(run.code, 0, run.output);
    assert.match(run.output, `Usage: npm run ${command}`);
    assert.ok(run.modules.some((url) => url.endsWith(`/dist/${command}.js`)), `${command} did not run dist/${command}.js`);
    assertLight(run, `${command} --help`);
  }
});

test('a refused flag is refused before anything heavy loads', () => {
  const run = launch(REPO, ['up', '--no-such-flag']);
  assert.is(run.code, 2, run.output);
  assertLight(run, 'up --no-such-flag');
});

test('validate of the shipped manifests: exit 0, no Kubernetes client', () => {
  const run = launch(REPO, ['validate']);
  assert.is(run.code, 0, run.output);
  assert.match(run.output, 'passed');
  assertLight(run, 'validate');
});

test("doctor's local checks (no minikube, so no cluster to ask) load no Kubernetes client", () => {
  // PATH with node alone: minikube, kind, helm, dapr and docker are all missing.
  const bin = path.join(scratch, 'bin');
  mkdirSync(bin, { recursive: true });
  if (!existsSync(path.join(bin, 'node'))) symlinkSync(NODE, path.join(bin, 'node'));
  const run = launch(REPO, ['doctor', '--cluster', 'minikube'], { PATH: bin, OPENAI_API_KEY: 'sk-startup-test-not-real', BETTER_AUTH_SECRET: 'startup-test-auth-secret-0123456789abcdef' });
  assert.is(run.code, 1, run.output);
  assert.match(run.output, /✗ Cluster \(minikube\)\s+not checked: minikube is not installed/);
  assertLight(run, 'doctor (local checks)');
});

test('up loads the Kubernetes client as one vendored file, and no zx when it runs no tool', () => {
  // An empty kubeconfig: up stops at reading it (exit 2), after the pipeline has loaded.
  const kubeconfig = path.join(scratch, 'empty.kubeconfig');
  writeFileSync(kubeconfig, '');
  const run = launch(REPO, ['up', '--cluster', 'current', '--skip-images'], { KUBECONFIG: kubeconfig, OPENAI_API_KEY: 'sk-startup-test-not-real', BETTER_AUTH_SECRET: 'startup-test-auth-secret-0123456789abcdef' });
  assert.is(run.code, 2, run.output);
  assert.match(run.output, 'The kubeconfig could not be read');
  assert.ok(run.modules.some((url) => url.includes(vendored('@kubernetes/client-node'))), `up did not load the vendored client:\n${run.modules.join('\n')}`);
  assert.not.ok(fromNodeModules(run, '@kubernetes/client-node'), 'up loaded @kubernetes/client-node from node_modules, module by module');
  assert.not.ok(fromNodeModules(run, 'zx'), 'up --cluster current --skip-images loaded zx');
});

test('the launcher rebuilds an edited source before running it, and refuses one that does not compile', () => {
  const copy = path.join(scratch, 'repo');
  for (const dir of ['lib', 'scripts', 'env', 'manifests', 'docs']) {
    cpSync(path.join(REPO, dir), path.join(copy, dir), { recursive: true });
  }
  cpSync(path.join(REPO, 'package.json'), path.join(copy, 'package.json'));
  symlinkSync(path.join(REPO, 'node_modules'), path.join(copy, 'node_modules'));

  const first = launch(copy, ['validate', '--help']);
  assert.is(first.code, 0, first.output);
  assert.ok(existsSync(path.join(copy, 'dist', 'validate.js')), 'no build was made');

  const script = path.join(copy, 'scripts', 'validate.ts');
  const source = readFileSync(script, 'utf8');
  writeFileSync(script, source.replace('Usage: npm run validate -- [options]', 'Usage: npm run validate -- [options] (edited)'));
  const edited = launch(copy, ['validate', '--help']);
  assert.is(edited.code, 0, edited.output);
  assert.match(edited.output, '(edited)');

  writeFileSync(script, `${source}\nconst broken = ;\n`);
  const broken = launch(copy, ['validate', '--help']);
  assert.is(broken.code, 2, broken.output);
  assert.match(broken.output, 'scripts/validate.ts');
  assert.not.match(broken.output, 'Usage: npm run validate');
});

test.run();

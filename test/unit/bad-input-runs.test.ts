// Bad input, as a user meets it: `up` run as a child process against the recording
// fake-apiserver, once per kind of bad input (a malformed .env, hostile or wrong manifests, a
// system namespace, objects outside the configured namespace, the policy gaps issue 14 names).
// Each run must exit 2, name the place (file and line, or the flag and key) and the fix, and
// send not a single request to the cluster: nothing is applied. `validate` is run on the same
// input and must refuse it too, naming the same place: the two agree.
import { suite } from '../support/suite.ts';
import * as assert from 'uvu/assert';
import { cpSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { DEV_ENV, REPO, createScriptSandbox, type Run, type ScriptSandbox } from '../support/script-sandbox.ts';

const MINIMAL = path.join(REPO, 'test', 'fixtures', 'core', 'minimal');
const OPENAI_API_KEY = 'sk-bad-input-runs-0p3n-must-not-leak';
const BETTER_AUTH_SECRET = 'bad-input-runs-auth-secret-0123456789abcdef';
const SECRET_ENV = { OPENAI_API_KEY, BETTER_AUTH_SECRET };
const STACK_TRACE = /\n\s+at .+:\d+:\d+/;

let box: ScriptSandbox | undefined;
let setupFailure: unknown;

/** A copy of the minimal manifest set inside the sandbox, with files replaced or added. */
function manifests(name: string, files: Record<string, string | ((text: string) => string)> = {}): string {
  const dir = path.join(box!.dir, 'manifests', name);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(path.dirname(dir), { recursive: true });
  cpSync(MINIMAL, dir, { recursive: true });
  for (const [file, content] of Object.entries(files)) {
    const at = path.join(dir, file);
    writeFileSync(at, typeof content === 'string' ? content : content(readFileSync(at, 'utf8')));
  }
  return dir;
}

/** 1-based line of the first line holding `needle` in a file of a manifest folder. */
function lineOf(dir: string, file: string, needle: string): number {
  const index = readFileSync(path.join(dir, file), 'utf8').split('\n').findIndex((l) => l.includes(needle));
  assert.ok(index >= 0, `${file} holds "${needle}"`);
  return index + 1;
}

const label = (dir: string, file: string) => path.relative(box!.dir, path.join(dir, file));

/** `up` with a recording API server: exit 2, every expected text, no request, no stack, no secret. */
async function refusedByUp(args: string[], expected: string[], env: Record<string, string> = SECRET_ENV): Promise<Run> {
  const { server, kubeconfig } = await box!.fakeServer();
  const r = await box!.run('up.ts', ['--cluster', 'current', '--skip-images', ...args], { KUBECONFIG: kubeconfig, ...env });
  assert.is(r.code, 2, r.output);
  for (const text of expected) assert.ok(r.stderr.includes(text), `up's error names "${text}":\n${r.output}`);
  assert.match(r.stderr, /fix/i, 'the error says how to fix it');
  assert.equal(server.requests, [], 'nothing reached the API server');
  assert.not.match(r.output, STACK_TRACE, 'no stack trace without --debug');
  for (const value of Object.values(SECRET_ENV)) assert.not.ok(r.output.includes(value), 'no secret value is printed');
  return r;
}

/**
 * `validate` on the same input refuses it too (1: violations, 2: bad input) and names the same
 * places (the manifest folders are inside the sandbox, so both label files relative to it).
 */
async function refusedByValidate(args: string[], expected: string[]): Promise<Run> {
  const r = await box!.run('validate.ts', args, {});
  assert.ok(r.code === 1 || r.code === 2, `validate exits 1 or 2, not ${r.code}:\n${r.output}`);
  for (const text of expected) assert.ok(r.output.includes(text), `validate names "${text}":\n${r.output}`);
  return r;
}

const test = suite('bad input: up refuses with the place and applies nothing; validate agrees');

test.before(() => {
  try {
    box = createScriptSandbox('todo-deploy-bad-input-');
  } catch (err) {
    setupFailure = err;
  }
});

test.before.each(() => {
  if (setupFailure !== undefined) throw setupFailure;
  box!.writeEnv({});
});

test.after.each(async () => {
  await box?.stopServers();
});

test.after(() => {
  box?.remove();
});

// ---------------------------------------------------------------------------------------------
// .env

test('.env with CRLF line ends is read as lines: the Secret carries the values without a carriage return', async () => {
  box!.writeEnv({ devEnv: DEV_ENV.replace(/\n/g, '\r\n'), dotenv: `OPENAI_API_KEY=${OPENAI_API_KEY}\r\nBETTER_AUTH_SECRET="${BETTER_AUTH_SECRET}"\r\n` });
  const { server, kubeconfig } = await box!.fakeServer({ rejectPlurals: ['secrets'] });
  const r = await box!.run('up.ts', ['--cluster', 'current', '--skip-images', '--manifests', MINIMAL], { KUBECONFIG: kubeconfig });
  assert.is(r.code, 1, `the run gets as far as the Secret, which the stand-in rejects:\n${r.output}`);
  const secret = server.requests.find((q) => q.method === 'PATCH' && q.url.includes('/secrets/todo-secrets'));
  assert.ok(secret, 'the Secret was sent');
  for (const value of [OPENAI_API_KEY, BETTER_AUTH_SECRET]) {
    assert.ok(secret!.body.includes(Buffer.from(value).toString('base64')), 'the exact value');
    assert.not.ok(secret!.body.includes(Buffer.from(`${value}\r`).toString('base64')), 'no carriage return in it');
  }
});

const dotenvCases: [string, string, string[]][] = [
  ['a value with a carriage return inside', `OPENAI_API_KEY=${OPENAI_API_KEY}\rX\nBETTER_AUTH_SECRET=${BETTER_AUTH_SECRET}\n`, ['.env:1 OPENAI_API_KEY: has a carriage return']],
  ['a value with a line break (\\n in double quotes)', `OPENAI_API_KEY="${OPENAI_API_KEY}\\nX"\nBETTER_AUTH_SECRET=${BETTER_AUTH_SECRET}\n`, ['.env:1 OPENAI_API_KEY: has a value with a line break']],
  ['a value with a NUL', `OPENAI_API_KEY=${OPENAI_API_KEY}\nBETTER_AUTH_SECRET=${BETTER_AUTH_SECRET}\0\n`, ['.env:2 BETTER_AUTH_SECRET: has a NUL character']],
  ['a quote that does not close', `OPENAI_API_KEY=${OPENAI_API_KEY}\n\nBETTER_AUTH_SECRET="${BETTER_AUTH_SECRET}\n`, ['.env:3 BETTER_AUTH_SECRET: opens its value with a double quote that does not close']],
  ['a malformed line', `OPENAI_API_KEY=${OPENAI_API_KEY}\n# ok\n${BETTER_AUTH_SECRET}\n`, ['.env:3 syntax: the line is not KEY=VALUE']],
];

for (const [name, dotenv, expected] of dotenvCases) {
  test(`.env: ${name} exits 2 naming the line and key`, async () => {
    // The secrets are only in .env here: the run must refuse before it could print one.
    box!.writeEnv({ dotenv });
    await refusedByUp(['--manifests', MINIMAL], expected, {});
    await refusedByValidate(['--manifests', MINIMAL], expected);
  });
}

// ---------------------------------------------------------------------------------------------
// Manifests

test('a manifest file over 1 MiB is refused before it is read; MANIFEST_MAX_BYTES raises the limit', async () => {
  const padding = `${'# padding\n'.repeat(110_000)}`;
  const dir = manifests('big', { '10-serviceaccount.yaml': (t) => padding + t });
  const size = readFileSync(path.join(dir, '10-serviceaccount.yaml')).length;
  const expected = [`${label(dir, '10-serviceaccount.yaml')} size: the file is ${size} bytes`, 'over the limit of 1048576 bytes', 'MANIFEST_MAX_BYTES'];
  await refusedByUp(['--manifests', dir], expected);
  await refusedByValidate(['--manifests', dir], expected);
  // Raised, the same folder passes the gate and the run reaches the cluster.
  const { server, kubeconfig } = await box!.fakeServer({ rejectPlurals: ['namespaces'] });
  const raised = await box!.run('up.ts', ['--cluster', 'current', '--skip-images', '--manifests', dir], { KUBECONFIG: kubeconfig, MANIFEST_MAX_BYTES: String(2 * 1024 * 1024), ...SECRET_ENV });
  assert.is(raised.code, 1, raised.output);
  assert.ok(server.requests.some((q) => q.method === 'PATCH'), 'past the gate, the run applied');
});

test('a YAML alias bomb exits 2 naming the file and line', async () => {
  const bomb = ['apiVersion: v1', 'kind: ServiceAccount', 'metadata: {name: lol, namespace: todo}', 'secrets:', '  - &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]', ...'bcdefg'.split('').map((n, i) => `  - &${n} [${Array(9).fill(`*${'abcdef'[i]}`).join(', ')}]`), ''].join('\n');
  const dir = manifests('bomb', { '15-lol.yaml': bomb });
  const expected = [`${label(dir, '15-lol.yaml')}:1 YAML: its aliases (*name) would expand beyond the limit`];
  await refusedByUp(['--manifests', dir], expected);
  await refusedByValidate(['--manifests', dir], expected);
});

test('a kind: List is read as its items: an item of a kind the order does not know is refused at its own line', async () => {
  const list = ['apiVersion: v1', 'kind: List', 'items:', '  - apiVersion: v1', '    kind: ConfigMap', '    metadata: {name: flags, namespace: todo}', ''].join('\n');
  const dir = manifests('list', { '15-list.yaml': list });
  await refusedByUp(['--manifests', dir], ['of a kind the creation order does not know', `${label(dir, '15-list.yaml')}:4 ConfigMap flags`]);
});

test('a kind: List of known kinds is applied item by item', async () => {
  const sa = readFileSync(path.join(MINIMAL, '10-serviceaccount.yaml'), 'utf8');
  const items = sa.split('\n').filter((l) => l !== '').map((l, i) => (i === 0 ? `  - ${l}` : `    ${l}`)).join('\n');
  const dir = manifests('list-ok', { '10-serviceaccount.yaml': `apiVersion: v1\nkind: List\nitems:\n${items}\n` });
  const { server, kubeconfig } = await box!.fakeServer({ rejectPlurals: ['serviceaccounts'] });
  const r = await box!.run('up.ts', ['--cluster', 'current', '--skip-images', '--manifests', dir], { KUBECONFIG: kubeconfig, ...SECRET_ENV });
  assert.is(r.code, 1, `stopped by the stand-in at the ServiceAccount:\n${r.output}`);
  assert.ok(server.requests.some((q) => q.method === 'PATCH' && q.url.startsWith('/api/v1/namespaces/todo/serviceaccounts/backend-sa')), 'the List item was applied as an object');
});

// ---------------------------------------------------------------------------------------------
// Namespaces

test('--namespace kube-system (and any *-system) exits 2 naming the flag, the key and the fix', async () => {
  for (const ns of ['kube-system', 'dapr-system']) {
    const expected = [`--namespace NAMESPACE: "${ns}" is a system namespace`, 'give the stack a namespace of its own'];
    await refusedByUp(['--manifests', MINIMAL, '--namespace', ns], expected);
  }
  await refusedByValidate(['--manifests', MINIMAL, '--namespace', 'default'], ['--namespace NAMESPACE: "default" is a system namespace']);
});

test('an extra Namespace in the manifests exits 2 naming its file and line', async () => {
  const extra = 'apiVersion: v1\nkind: Namespace\nmetadata:\n  name: scratch\n  labels: {app.kubernetes.io/name: scratch, app.kubernetes.io/part-of: todo, app.kubernetes.io/managed-by: todo-deploy}\n';
  const dir = manifests('extra-ns', { '01-scratch.yaml': extra });
  const expected = [`VIOLATION config/single-namespace  Namespace/scratch  ${label(dir, '01-scratch.yaml')}:4`];
  await refusedByUp(['--manifests', dir], expected);
  await refusedByValidate(['--manifests', dir], expected);
});

test('an object in another namespace exits 2 naming its file and line', async () => {
  const dir = manifests('other-ns', { '40-service.yaml': (t) => t.replace('namespace: ${NAMESPACE}', 'namespace: shared') });
  const line = lineOf(dir, '40-service.yaml', 'namespace: shared');
  const expected = [`VIOLATION config/configured-namespace  Service/shared/backend-svc  ${label(dir, '40-service.yaml')}:${line}`, 'not the configured namespace "todo"'];
  await refusedByUp(['--manifests', dir], expected);
  await refusedByValidate(['--manifests', dir], expected);
});

// ---------------------------------------------------------------------------------------------
// The policy gaps

test('host namespaces, a selector that misses its template, a credential word inside an env name and a serviceName backend: exit 2, each named', async () => {
  const dir = manifests('gaps', {
    '50-deployment.yaml': (t) =>
      t
        .replace('      serviceAccountName: backend-sa', '      hostNetwork: true\n      hostPID: true\n      serviceAccountName: backend-sa')
        .replace('    matchLabels:\n      app.kubernetes.io/name: backend', '    matchLabels:\n      app.kubernetes.io/name: backend-v2')
        .replace('          env:\n', '          env:\n            - name: SECRET_KEY_BASE\n              value: not-from-a-secret\n'),
    '60-ingress.yaml': (t) => t.replace(/service:\n\s+name: backend-svc\n\s+port:\n\s+number: 8000/, 'serviceName: backend-svc\n              servicePort: 8000'),
  });
  const dep = label(dir, '50-deployment.yaml');
  const ing = label(dir, '60-ingress.yaml');
  const expected = [
    `VIOLATION pod/no-host-namespaces [security]  Deployment/todo/backend  ${dep}:${lineOf(dir, '50-deployment.yaml', 'hostNetwork: true')}`,
    `VIOLATION pod/no-host-namespaces [security]  Deployment/todo/backend  ${dep}:${lineOf(dir, '50-deployment.yaml', 'hostPID: true')}`,
    `VIOLATION component/selector-matches-template  Deployment/todo/backend  ${dep}:${lineOf(dir, '50-deployment.yaml', 'selector:')}`,
    `VIOLATION secret/credential-word-in-name [security]  Deployment/todo/backend  ${dep}:${lineOf(dir, '50-deployment.yaml', 'value: not-from-a-secret')}`,
    `VIOLATION ingress/backend-current-form  Ingress/todo/todo-ingress  ${ing}:${lineOf(dir, '60-ingress.yaml', 'serviceName: backend-svc')}`,
  ];
  const r = await refusedByUp(['--manifests', dir], ['The policy gate refused the manifests; nothing was sent to a cluster', ...expected]);
  assert.not.match(r.output, 'not-from-a-secret', 'the literal value is not repeated');
  await refusedByValidate(['--manifests', dir], expected);
});

test('validate refuses what up refuses: an object of a kind the creation order does not know, and one defined twice', async () => {
  const configMap = 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: flags\n  namespace: ${NAMESPACE}\n  labels: {app.kubernetes.io/name: flags, app.kubernetes.io/part-of: todo, app.kubernetes.io/managed-by: todo-deploy}\ndata: {a: b}\n';
  const unknown = manifests('unknown-kind', { '45-flags.yaml': configMap });
  await refusedByUp(['--manifests', unknown], ['of a kind the creation order does not know', `${label(unknown, '45-flags.yaml')}:1 ConfigMap flags`]);
  const v = await refusedByValidate(['--manifests', unknown], ['of a kind the creation order does not know', '45-flags.yaml:1 ConfigMap flags']);
  assert.is(v.code, 2, 'bad input, as for up');
  const twice = manifests('twice', { '11-again.yaml': readFileSync(path.join(MINIMAL, '10-serviceaccount.yaml'), 'utf8') });
  await refusedByUp(['--manifests', twice], ['defined twice', `${label(twice, '11-again.yaml')}:1`]);
  const w = await refusedByValidate(['--manifests', twice], ['defined twice', '11-again.yaml:1']);
  assert.is(w.code, 2);
});

test('sanity: the minimal set itself passes validate, and the sandbox holds nothing else', async () => {
  const r = await box!.run('validate.ts', ['--manifests', MINIMAL], {});
  assert.is(r.code, 0, r.output);
  // .cache: the sandbox is the run's HOME, and rendering keeps its parse in ~/.cache/todo-deploy/render.
  // dist and package-lock.json: the build the commands run from, and one of its sources.
  const copied = ['lib', 'scripts', 'dist', 'node_modules', 'env', 'package.json', 'package-lock.json', 'tsconfig.json'];
  assert.equal(readdirSync(box!.dir).filter((f) => ![...copied, 'tmp', 'manifests', '.env', '.cache'].includes(f) && !f.startsWith('kubeconfig-')), []);
});

test.run();

// The real `up` and `down` scripts run as child processes, the way `npm run up` runs them, in
// failing runs: bad flags, a bad env/dev.env, a bad .env, an unreachable API server, and an API
// server (the recording fake-apiserver) that rejects the Secret and echoes it back. Every run
// is checked for the known secret values in all their forms; the bad-input runs must also exit 2
// without a single request to the cluster. Each run uses a throwaway copy of the scripts
// (test/support/script-sandbox.ts), so a developer's own .env is never read.
import { suite } from '../support/suite.ts';
import * as assert from 'uvu/assert';
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeKubeconfig } from '../fixtures/core/fake-apiserver.ts';
import { freePort } from '../../lib/free-port.ts';
import { embeddedPostgresPassword } from '../../lib/secrets.ts';
import { fakeBin } from '../fakes/harness.ts';
import { DEV_ENV, createScriptSandbox, type ScriptSandbox } from '../support/script-sandbox.ts';

const here = path.dirname(fileURLToPath(import.meta.url));
const MINIMAL = path.resolve(here, '../fixtures/core/minimal');

// Distinctive values: each form (raw, base64, URL-encoded, the URL's password) is easy to spot.
const DATABASE_URL = 'postgresql://todo_app:Zq9%40Kx%2Fpw-77ab-redact@db.example.internal:5432/todo';
const DB_PASSWORD_ENCODED = 'Zq9%40Kx%2Fpw-77ab-redact';
const DB_PASSWORD = 'Zq9@Kx/pw-77ab-redact';
const OPENAI_API_KEY = 'sk-test-0p3nA1-key-must-not-leak-4f3e2d1c';
// A quote and a backslash: JSON escapes them, once in a Status body and again when client-node
// puts that body into its error message (the --debug trace).
const BETTER_AUTH_SECRET = 'auth+secret/that="must"\\never-leak-0123456789';

const SECRET_ENV = { DATABASE_URL, OPENAI_API_KEY, BETTER_AUTH_SECRET };

/** JSON string escaping without the quotes, applied `times` times over. */
function jsonEscaped(value: string, times: number): string {
  let out = value;
  for (let i = 0; i < times; i++) out = JSON.stringify(out).slice(1, -1);
  return out;
}

/** Every form in which a value could leak, computed here independently of lib/output. */
function forms(value: string): string[] {
  const out = new Set([value, Buffer.from(value, 'utf8').toString('base64'), encodeURIComponent(value), jsonEscaped(value, 1), jsonEscaped(value, 2)]);
  try {
    const url = new URL(value);
    if (url.password) {
      out.add(url.password);
      out.add(decodeURIComponent(url.password));
    }
  } catch {
    // not a URL
  }
  return [...out];
}

// Escape sequences of the terminal renderer (colours, cursor moves), removed before searching.
const ANSI = /\u001b\[[0-9;?]*[ -\/]*[@-~]|\u001b\][^\u0007]*\u0007/g;

function assertNoSecrets(output: string, values: string[]): void {
  // A renderer that wraps long lines could split a value in two; searching the text with all
  // whitespace and escape sequences removed finds it anyway.
  const joined = output.replace(ANSI, '').replace(/\s+/g, '');
  for (const value of values) {
    for (const form of forms(value)) {
      assert.not.ok(output.includes(form), `secret form ${JSON.stringify(form)} (of a ${value.length}-character value) appears in the output:\n${output}`);
      assert.not.ok(joined.includes(form.replace(/\s+/g, '')), `secret form ${JSON.stringify(form)} appears in the output once line breaks are removed:\n${output}`);
    }
  }
}

// What the test itself put in the sandbox; everything else there was written by a run.
const SANDBOX_OWN = new Set(['lib', 'scripts', 'node_modules', 'env', 'package.json', 'tsconfig.json', '.env', 'bad-manifests']);

/** Files a run left in the sandbox (its HOME and TMPDIR): none may hold a secret form. */
function assertNoSecretsInFiles(values: string[]): void {
  const walk = (dir: string, top: boolean): string[] =>
    readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
      if (top && (SANDBOX_OWN.has(entry.name) || entry.name.startsWith('kubeconfig-'))) return [];
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) return walk(full, false);
      return entry.isFile() ? [full] : [];
    });
  for (const file of walk(sandbox, true)) {
    const text = readFileSync(file, 'utf8');
    for (const value of values) {
      for (const form of forms(value)) assert.not.ok(text.includes(form), `secret form ${JSON.stringify(form)} written to ${path.relative(sandbox, file)}`);
    }
  }
}

/** True while a process of that pid exists (and is not a zombie). */
function alive(pid: number): boolean {
  try {
    return !/^\S+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

let box: ScriptSandbox | undefined;
let sandbox = '';
const writeSandboxFiles: ScriptSandbox['writeEnv'] = (files) => box!.writeEnv(files);
const run: ScriptSandbox['run'] = (script, args, env, options) => box!.run(script, args, env, options);
const fakeServer: ScriptSandbox['fakeServer'] = (options) => box!.fakeServer(options);

// --cluster current: the kubeconfig's context (KUBECONFIG), whatever the environment's default provider.
const UP_ARGS = ['--cluster', 'current', '--manifests', MINIMAL, '--skip-images'];

// ---------------------------------------------------------------------------------------------
const runs = suite('core: up and down as child processes');

// uvu 0.5.6 swallows an error thrown in a before hook and reports the suite as passed, so a
// failed set-up is kept and thrown again by every test.
let setupFailure: unknown;

runs.before(() => {
  try {
    box = createScriptSandbox('todo-deploy-runs-');
    sandbox = box.dir;
  } catch (err) {
    setupFailure = err;
  }
});

runs.before.each(() => {
  if (setupFailure !== undefined) throw setupFailure;
});

runs.after.each(async () => {
  await box?.stopServers();
});

runs.after(() => {
  box?.remove();
});

runs('--help prints the usage and exits 0 without touching a cluster', async () => {
  writeSandboxFiles({});
  const { server, kubeconfig } = await fakeServer();
  const up = await run('up.ts', ['--help'], { KUBECONFIG: kubeconfig });
  assert.is(up.code, 0, up.output);
  assert.match(up.stdout, 'Usage: npm run up -- [options]');
  assert.match(up.stdout, '--cluster current');
  const down = await run('down.ts', ['--help'], { KUBECONFIG: kubeconfig });
  assert.is(down.code, 0, down.output);
  assert.match(down.stdout, 'Usage: npm run down -- [options]');
  assert.equal(server.requests, []);
});

runs('an unknown option exits 2 and points at --help', async () => {
  writeSandboxFiles({});
  const { server, kubeconfig } = await fakeServer();
  const r = await run('up.ts', ['--no-such-option'], { KUBECONFIG: kubeconfig, ...SECRET_ENV });
  assert.is(r.code, 2, r.output);
  assert.match(r.stderr, "Unknown option '--no-such-option'");
  assert.match(r.stderr, 'npm run up -- --help');
  assert.equal(server.requests, []);
});

runs('a bad setting flag exits 2 naming flag and key; no request, no stack trace, no secret', async () => {
  writeSandboxFiles({});
  const { server, kubeconfig } = await fakeServer();
  const r = await run('up.ts', [...UP_ARGS, '--replicas', '0', '--namespace', 'Bad_NS'], { KUBECONFIG: kubeconfig, ...SECRET_ENV });
  assert.is(r.code, 2, r.output);
  assert.match(r.stderr, 'The dev configuration has 2 problem(s); nothing was sent to a cluster');
  assert.match(r.stderr, '--replicas REPLICAS: "0" is not an integer >= 1.');
  assert.match(r.stderr, '--namespace NAMESPACE: "Bad_NS" is not a DNS label.');
  assert.not.match(r.output, /\n\s+at .+:\d+:\d+/, 'no stack trace without --debug');
  assert.equal(server.requests, [], 'no request reached the API server');
  assertNoSecrets(r.output, Object.values(SECRET_ENV));
});

runs('a bad env/dev.env exits 2 naming the file and each key; no request', async () => {
  writeSandboxFiles({ devEnv: DEV_ENV.replace('REPLICAS=1', 'REPLICAS=zero').replace('IMAGE_TAG=0.1.0', 'IMAGE_TAG=latest').replace('DOMAIN=todo.local', 'DOMAIN=http://todo.local') });
  const { server, kubeconfig } = await fakeServer();
  const r = await run('up.ts', UP_ARGS, { KUBECONFIG: kubeconfig, ...SECRET_ENV });
  assert.is(r.code, 2, r.output);
  assert.match(r.stderr, 'The dev configuration has 3 problem(s)');
  assert.match(r.stderr, 'env/dev.env REPLICAS:');
  assert.match(r.stderr, 'env/dev.env IMAGE_TAG: "latest" is never accepted');
  assert.match(r.stderr, 'env/dev.env DOMAIN:');
  assert.equal(server.requests, []);
  assertNoSecrets(r.output, Object.values(SECRET_ENV));
});

runs('a bad .env exits 2 naming the key and how to make a good one; no request; the short secret is not printed (an empty OPENAI_API_KEY is allowed in dev)', async () => {
  const shortSecret = 'too-short-auth-secret-zz9';
  writeSandboxFiles({ dotenv: `DATABASE_URL=${DATABASE_URL}\nOPENAI_API_KEY=\nBETTER_AUTH_SECRET=${shortSecret}\n` });
  const { server, kubeconfig } = await fakeServer();
  const r = await run('up.ts', UP_ARGS, { KUBECONFIG: kubeconfig });
  assert.is(r.code, 2, r.output);
  assert.match(r.stderr, '1 secret(s) are not usable; nothing was sent to a cluster');
  assert.not.match(r.stderr, 'OPENAI_API_KEY');
  assert.match(r.stderr, '.env BETTER_AUTH_SECRET: is shorter than 32 characters');
  assert.match(r.stderr, 'openssl rand -hex 32');
  assert.equal(server.requests, []);
  assertNoSecrets(r.output, [DATABASE_URL, shortSecret]);
});

runs('a newcomer\'s first up: no .env and no secret anywhere: .env made from env/.env.example (0600) with a generated BETTER_AUTH_SECRET, announced without it, sent in the Secret; chat is off', async () => {
  writeSandboxFiles({}); // env/dev.env only: no .env
  // The stand-in rejects the Secret: the run stops right after sending it, which is all this needs.
  const { server, kubeconfig } = await fakeServer({ rejectPlurals: ['secrets'] });
  const r = await run('up.ts', UP_ARGS, { KUBECONFIG: kubeconfig });
  assert.is(r.code, 1, r.output);
  const dotenv = path.join(sandbox, '.env');
  assert.is(statSync(dotenv).mode & 0o777, 0o600, '.env is readable by its owner only');
  const generated = /^BETTER_AUTH_SECRET=([0-9a-f]{64})$/m.exec(readFileSync(dotenv, 'utf8'))?.[1];
  assert.ok(generated, `.env holds a generated BETTER_AUTH_SECRET:\n${readFileSync(dotenv, 'utf8').replace(/=.+$/gm, '=…')}`);
  assert.ok(readFileSync(dotenv, 'utf8').startsWith(readFileSync(path.join(sandbox, 'env', '.env.example'), 'utf8').split('\n')[0]!), 'made from env/.env.example');
  assert.match(r.output, 'Generated BETTER_AUTH_SECRET (32 random bytes) and wrote it to .env (created from env/.env.example, mode 0600); its value is not shown.');
  assert.match(r.output, 'chat is off (no OPENAI_API_KEY');
  const secret = server.requests.find((q) => q.method === 'PATCH' && q.url.includes('/secrets/todo-secrets'));
  assert.ok(secret, 'the Secret was sent');
  assert.match(secret!.body, Buffer.from(generated!).toString('base64'), 'the Secret carries the generated value');
  assert.not.match(secret!.body, 'openai-api-key', 'the Secret has no openai-api-key');
  assertNoSecrets(r.output, [generated!]);
});

runs('down with a bad env/dev.env also exits 2 without a request', async () => {
  writeSandboxFiles({ devEnv: DEV_ENV.replace('NAMESPACE=todo', 'NAMESPACE=-todo') });
  const { server, kubeconfig } = await fakeServer();
  const r = await run('down.ts', ['--cluster', 'current'], { KUBECONFIG: kubeconfig, ...SECRET_ENV });
  assert.is(r.code, 2, r.output);
  assert.match(r.stderr, 'env/dev.env NAMESPACE: "-todo" is not a DNS label.');
  assert.equal(server.requests, []);
});

runs('down with nothing deployed exits 0, says so, and deletes nothing', async () => {
  writeSandboxFiles({});
  const { server, kubeconfig } = await fakeServer();
  const r = await run('down.ts', ['--cluster', 'current'], { KUBECONFIG: kubeconfig, ...SECRET_ENV });
  assert.is(r.code, 0, r.output);
  assert.match(r.stdout, 'Nothing to remove: nothing managed by todo-deploy is deployed in namespace todo.');
  const calls = server.requests.map((q) => `${q.method} ${q.url}`);
  assert.ok(calls.some((c) => c.startsWith('GET /api/v1/namespaces?') && c.includes('fieldSelector=metadata.name%3Dtodo')), calls.join('\n'));
  assert.equal(server.requests.filter((q) => q.method !== 'GET'), [], 'only reads');
  assertNoSecrets(r.output, Object.values(SECRET_ENV));
});

runs('--debug against a closed port: exit 1, the unreachable server named, a trace, no secret', async () => {
  writeSandboxFiles({});
  const port = await freePort();
  const kubeconfig = path.join(sandbox, 'kubeconfig-closed');
  writeKubeconfig(kubeconfig, `http://127.0.0.1:${port}`);
  const r = await run('up.ts', [...UP_ARGS, '--debug'], { KUBECONFIG: kubeconfig, ...SECRET_ENV });
  assert.is(r.code, 1, r.output);
  assert.match(r.stderr, `Cannot reach the Kubernetes API server at http://127.0.0.1:${port} (context "fake"): the connection was refused`);
  assert.match(r.stderr, 'Nothing was applied.');
  assert.match(r.stderr, /DeployError: Cannot reach[^\n]*\n(.*\n)*\s+at /, '--debug prints the stack');
  assertNoSecrets(r.output, Object.values(SECRET_ENV));
});

runs('--debug with an API server that echoes the rejected Secret back: exit 1, every value redacted', async () => {
  writeSandboxFiles({});
  const { server, kubeconfig } = await fakeServer({ rejectPlurals: ['secrets'] });
  const r = await run('up.ts', [...UP_ARGS, '--debug'], { KUBECONFIG: kubeconfig, ...SECRET_ENV });
  assert.is(r.code, 1, r.output);

  // The run got as far as the Secret, and sent the values the echo would leak.
  const calls = server.requests.map((q) => `${q.method} ${q.url.split('?')[0]}`);
  assert.ok(calls.includes('GET /version'), calls.join('\n'));
  assert.ok(calls.includes('PATCH /api/v1/namespaces/todo'), calls.join('\n'));
  const secretApply = server.requests.find((q) => q.method === 'PATCH' && q.url.startsWith('/api/v1/namespaces/todo/secrets/todo-secrets'));
  assert.ok(secretApply, `no Secret apply among:\n${calls.join('\n')}`);
  assert.match(secretApply!.url, 'fieldManager=todo-deploy');
  assert.match(secretApply!.url, 'force=true');
  for (const value of Object.values(SECRET_ENV)) assert.match(secretApply!.body, Buffer.from(value).toString('base64'));
  // Reads (the comparison lists every kind) are not a stage starting; an apply or delete would be.
  assert.not.ok(calls.some((c) => c.includes('serviceaccounts') && !c.startsWith('GET ')), 'stage 3 never started after stage 2 failed, and nothing of it was deleted');

  assert.match(r.stderr, 'The API server rejected Secret/todo/todo-secrets (from (generated from .env):1)');
  assert.match(r.stderr, 'Caused by: ', '--debug shows the cause chain');
  assert.match(r.output, '[redacted]', 'the echoed values were there and were replaced');
  assertNoSecrets(r.output, Object.values(SECRET_ENV));
  assertNoSecretsInFiles(Object.values(SECRET_ENV));
});

runs('secrets from .env only, embedded dev PostgreSQL: the derived password and URL are redacted too', async () => {
  writeSandboxFiles({ dotenv: `OPENAI_API_KEY=${OPENAI_API_KEY}\nBETTER_AUTH_SECRET=${BETTER_AUTH_SECRET}\n` });
  const { server, kubeconfig } = await fakeServer({ rejectPlurals: ['secrets'] });
  const r = await run('up.ts', UP_ARGS, { KUBECONFIG: kubeconfig });
  assert.is(r.code, 1, r.output);
  const password = embeddedPostgresPassword(BETTER_AUTH_SECRET);
  const embeddedUrl = `postgresql://todo:${password}@postgres-svc.todo.svc.cluster.local:5432/todo`;
  const secretApply = server.requests.find((q) => q.method === 'PATCH' && q.url.includes('/secrets/todo-secrets'));
  assert.ok(secretApply, 'the Secret was sent');
  assert.match(secretApply!.body, Buffer.from(password).toString('base64'));
  assert.match(secretApply!.body, Buffer.from(embeddedUrl).toString('base64'));
  assert.match(r.stderr, 'The API server rejected Secret/todo/todo-secrets');
  assert.match(r.stderr, '(run with --debug for the full trace)');
  assert.not.match(r.output, /\n\s+at .+:\d+:\d+/, 'no stack trace without --debug');
  assertNoSecrets(r.output, [OPENAI_API_KEY, BETTER_AUTH_SECRET, password, embeddedUrl]);
  assertNoSecretsInFiles([OPENAI_API_KEY, BETTER_AUTH_SECRET, password, embeddedUrl]);
});

runs('on a terminal (listr2\'s default renderer) the echoed Secret leaks no form either', async () => {
  writeSandboxFiles({});
  const { server, kubeconfig } = await fakeServer({ rejectPlurals: ['secrets'] });
  const r = await run('up.ts', [...UP_ARGS, '--debug'], { KUBECONFIG: kubeconfig, ...SECRET_ENV }, { tty: true });
  assert.is(r.code, 1, r.output);
  assert.match(r.stdout, '\u001b[', 'the terminal renderer drew the task tree');
  assert.ok(server.requests.some((q) => q.method === 'PATCH' && q.url.includes('/secrets/todo-secrets')), 'the Secret was sent');
  assert.match(r.output.replace(ANSI, ''), 'The API server rejected Secret/todo/todo-secrets');
  assert.match(r.output, '[redacted]');
  assertNoSecrets(r.output, Object.values(SECRET_ENV));
});

runs('a manifest with an unknown variable exits 2 naming file and line; no request', async () => {
  writeSandboxFiles({});
  const dir = path.join(sandbox, 'bad-manifests');
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, 'ns.yaml'), 'apiVersion: v1\nkind: Namespace\nmetadata:\n  name: ${NAMESPACE}\n  labels:\n    team: ${TEAM}\n');
  const { server, kubeconfig } = await fakeServer();
  const r = await run('up.ts', ['--cluster', 'current', '--manifests', dir, '--skip-images'], { KUBECONFIG: kubeconfig, ...SECRET_ENV });
  assert.is(r.code, 2, r.output);
  assert.match(r.stderr, 'The manifests have 1 problem(s); nothing was sent to a cluster');
  assert.match(r.stderr, 'bad-manifests/ns.yaml:6 ${TEAM}: names an unknown variable.');
  assert.equal(server.requests, []);
});

runs('an error nobody caught (a stray rejection or throw) is printed redacted too', async () => {
  // Node prints uncaught errors itself, straight to the file descriptor; lib/cli must intercept them.
  writeFileSync(
    path.join(sandbox, 'scripts', 'stray-error-probe.ts'),
    [
      "import { main } from '../lib/cli.ts';",
      "await main({ name: 'probe', usage: 'probe', options: { debug: { type: 'boolean', default: false } }, run: async (_v, [how]) => {",
      "  const err = new Error(`stray failure mentioning ${process.env.OPENAI_API_KEY}`);",
      "  if (how === 'throw') setImmediate(() => { throw err; });",
      "  else void Promise.reject(err);",
      '  // Keep the process alive until the stray error ends it.',
      '  await new Promise(() => setInterval(() => {}, 1000));',
      '} });',
      '',
    ].join('\n'),
  );
  for (const how of ['reject', 'throw']) {
    const r = await run('stray-error-probe.ts', [how, '--debug'], SECRET_ENV);
    assert.is(r.code, 1, r.output);
    assert.match(r.stderr, 'stray failure mentioning [redacted]', how);
    assertNoSecrets(r.output, Object.values(SECRET_ENV));
  }
});

const SIGNALS = [['SIGINT', 130, 'Ctrl-C (SIGINT)'], ['SIGTERM', 143, 'SIGTERM']] as const;

for (const [signal, code, said] of SIGNALS) {
  runs(`${signal} during the cluster step, before any watch: exit ${code} at once, the step named, its time, nothing applied`, async () => {
    writeSandboxFiles({});
    // An API server that never answers /version: the run waits in the cluster step until the signal.
    const { server, kubeconfig } = await fakeServer({ holdPaths: ['/version'] });
    const r = await run('up.ts', UP_ARGS, { KUBECONFIG: kubeconfig, ...SECRET_ENV }, { interrupt: { when: /Cluster/, signal } });
    assert.is(r.code, code, r.output);
    assert.match(r.stderr, `Stopped by ${said}. It was at: Cluster.`, r.output);
    assert.match(r.stderr, 'Durations until the interruption:');
    assert.match(r.stderr, /\n  cluster +\d/, 'the cluster step\'s time so far');
    assert.not.match(r.stderr, 'Applied by this run');
    assert.equal(server.requests.filter((q) => q.method === 'PATCH'), [], 'nothing was applied');
    assert.not.match(r.output, /\n\s+at .+:\d+:\d+/, 'no stack trace without --debug');
    assertNoSecrets(r.output, Object.values(SECRET_ENV));
  });
}

for (const [signal, code, said] of SIGNALS) {
  runs(`${signal} during the images step (a docker call that never ends): exit ${code} at once, the step named, its time, nothing applied, docker not left running`, async () => {
    writeSandboxFiles({});
    const { server, kubeconfig } = await fakeServer();
    // docker answers `info`; every image command hangs, as a stuck build would.
    const bin = fakeBin(['docker']);
    bin.setState({ hang: ['docker image', 'docker build', 'docker pull', 'docker import', 'docker load', 'docker buildx'] });
    try {
      const args = UP_ARGS.filter((a) => a !== '--skip-images');
      const env = { KUBECONFIG: kubeconfig, ...SECRET_ENV, PATH: `${bin.dir}:${process.env.PATH}`, FAKE_STATE_DIR: bin.stateDir };
      // The signal comes once a docker call hangs (the images step is then certainly under way).
      const hanging = () => bin.calls('docker').some((c) => c.pid !== undefined);
      const r = await run('up.ts', args, env, { interrupt: { when: hanging, signal } });
      assert.is(r.code, code, r.output);
      assert.match(r.stderr, `Stopped by ${said}. It was at: Build and load images.`, r.output);
      assert.match(r.stderr, 'Durations until the interruption:');
      assert.match(r.stderr, /\n  images +\d/, 'the images step\'s time so far');
      assert.not.match(r.stderr, 'Applied by this run');
      assert.equal(server.requests.filter((q) => q.method === 'PATCH'), [], 'nothing was applied');
      const hung = bin.calls('docker').filter((c) => c.pid !== undefined);
      assert.ok(hung.length > 0, bin.lines('docker').join('\n'));
      // The signal passed on is delivered on the kernel's schedule: give it a few seconds.
      const deadline = Date.now() + 10_000;
      while (hung.some((c) => alive(c.pid!)) && Date.now() < deadline) await new Promise((res) => setTimeout(res, 50));
      assert.equal(hung.filter((c) => alive(c.pid!)).map((c) => c.argv.join(' ')), [], 'no docker call outlives the run');
    } finally {
      for (const c of bin.calls('docker')) if (c.pid !== undefined && alive(c.pid)) process.kill(c.pid, 'SIGKILL');
      bin.cleanup();
    }
  });
}

runs('Ctrl-C (SIGINT) while the Deployment gate waits: exit 130, the gate named, and which stages this run applied', async () => {
  writeSandboxFiles({});
  // The stand-in stores Deployments without a status, so their rollout never completes.
  const { kubeconfig } = await fakeServer();
  const r = await run('up.ts', UP_ARGS, { KUBECONFIG: kubeconfig, ...SECRET_ENV }, { interrupt: { when: /rolling out/, signal: 'SIGINT' } });
  assert.is(r.code, 130, r.output);
  assert.match(r.stderr, /Stopped by Ctrl-C \(SIGINT\)\. It was at: [^\n]*rolling out/);
  assert.match(r.stderr, 'Durations until the interruption:');
  assert.match(r.stderr, /Applied by this run before it stopped: stages 1 Namespace, 2 Secrets, .*8 Services, 9 Deployments \(applied, not ready\)\./);
  assertNoSecrets(r.output, Object.values(SECRET_ENV));
});

runs('the forms checked include the password inside DATABASE_URL, encoded and decoded', () => {
  // Guards the test itself: the URL's password forms are among those checked above.
  assert.ok(forms(DATABASE_URL).includes(DB_PASSWORD_ENCODED));
  assert.ok(forms(DATABASE_URL).includes(DB_PASSWORD));
});

runs.run();

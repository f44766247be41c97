// The image test, through a real Docker engine: the pipeline's own build step (lib/images'
// buildImages) builds the three workloads from the offline base image (NODE_IMAGE), each image
// runs hardened (read-only root, /tmp as tmpfs, UID 1000, no capabilities, no new privileges)
// and answers /healthz on a port Docker picks; no layer, history line or file carries a .env or
// the value of a fake secret planted in a .env beside each Dockerfile; and a second build with
// nothing changed builds nothing. Containers, the planted .env files, temporary folders and
// the test's images are removed afterwards, also when a test fails.
import { suite } from '../support/suite.ts';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createReadStream, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { $ } from 'zx';
import { buildImages, COMPONENTS, type BuildResult } from '../../lib/images/build.ts';
import type { ImageNames } from '../../lib/config.ts';
import { REPO_ROOT } from '../../lib/repo-root.ts';
import type { ComponentKey } from '../../lib/types.ts';
import { ensureOfflineBaseImage } from '../../lib/images/offline-base.ts';
import { docker, dockerRaw } from '../../lib/images/docker.ts';
import { removeImagesUnder, setUpOnce } from '../support/image-suite.ts';

const sh = $({ quiet: true, verbose: false });

/** Repositories of their own, so the test never touches the images `up` builds. */
const NAMES: ImageNames = {
  frontend: 'todo-images-test/frontend',
  backend: 'todo-images-test/backend',
  mcpServer: 'todo-images-test/mcp-server',
  // Built by stores.test.ts, not here.
  postgres: 'todo-images-test/postgres',
  redis: 'todo-images-test/redis',
};
/** This file builds the three workloads; stores.test.ts the PostgreSQL and Redis images. */
const ONLY = COMPONENTS.map((c) => c.key);
const PORTS: Record<ComponentKey, number> = { frontend: 3000, backend: 8000, mcpServer: 8080 };
const DIRS = Object.fromEntries(COMPONENTS.map((c) => [c.key, c.dir])) as Record<ComponentKey, string>;

/** A fake secret that must never reach an image: long enough to pass as BETTER_AUTH_SECRET. */
const FAKE_SECRET = `fake-image-test-secret-${randomBytes(16).toString('hex')}`;
const HEALTH_DEADLINE_MS = 30_000;

interface State {
  nodeImage: string;
  first?: { refs: Record<ComponentKey, string>; results: BuildResult[] };
  containers: string[];
  tmpDirs: string[];
  /** .env files planted by the test, with what was there before (undefined: nothing). */
  planted: { file: string; before?: string }[];
  /** uvu swallows an error thrown by a before hook, so it is kept here and fails every test. */
  setupError?: unknown;
}

const images = suite<State>('images: build, run hardened, no secrets, no rebuild', {
  nodeImage: '',
  containers: [],
  tmpDirs: [],
  planted: [],
});

function log(line: string) {
  console.log(`    ${line}`);
}

const removeTestImages = () => removeImagesUnder('todo-images-test');

/** Synchronous cleanup for an interrupted run (Ctrl-C, a CI timeout): no .env or container stays. */
function cleanupNow(state: State) {
  for (const { file, before } of state.planted) {
    if (before === undefined) rmSync(file, { force: true });
    else writeFileSync(file, before);
  }
  state.planted = [];
  if (state.containers.length) spawnSync('docker', ['rm', '--force', ...state.containers], { stdio: 'ignore' });
  state.containers = [];
  for (const dir of state.tmpDirs) rmSync(dir, { recursive: true, force: true });
  state.tmpDirs = [];
}

setUpOnce(images, setup, cleanupNow);

async function setup(state: State): Promise<void> {
  const started = Date.now();
  const base = await ensureOfflineBaseImage({ repoRoot: REPO_ROOT, log });
  state.nodeImage = base.ref;
  log(`offline base ${base.ref}: ${base.action} in ${base.seconds.toFixed(1)}s (${((Date.now() - started) / 1000).toFixed(1)}s)`);
  // Left over from an interrupted run: without this the first build below could be skipped.
  await removeTestImages();
  for (const c of COMPONENTS) {
    const file = path.join(REPO_ROOT, c.dir, '.env');
    const before = existsSync(file) ? readFileSync(file, 'utf8') : undefined;
    state.planted.push({ file, before });
    writeFileSync(file, `BETTER_AUTH_SECRET=${FAKE_SECRET}\nOPENAI_API_KEY=sk-${FAKE_SECRET}\nDATABASE_URL=postgresql://todo:${FAKE_SECRET}@db:5432/todo\n`);
  }
}

images.after(async (state) => {
  cleanupNow(state);
  await removeTestImages();
});

images('the build step builds the three images from the offline base, with content tags', async (state) => {
  const started = Date.now();
  const built = await buildImages({ repoRoot: REPO_ROOT, names: NAMES, nodeImage: state.nodeImage, log, only: ONLY });
  state.first = { refs: built.refs as Record<ComponentKey, string>, results: built.results };
  log(`first build: ${((Date.now() - started) / 1000).toFixed(1)}s`);
  for (const c of COMPONENTS) {
    const result = state.first.results.find((r) => r.key === c.key);
    assert.ok(result, `a result for ${c.key}`);
    assert.is(result!.action, 'built', `${c.key} was built`);
    assert.match(state.first.refs[c.key], new RegExp(`^${NAMES[c.key]}:[0-9a-f]{12}$`));
    const inspect = await docker(['image', 'inspect', '--format', '{{.Config.User}}|{{index .Config.Env}}', state.first.refs[c.key]]);
    const [user, env] = inspect.stdout.trim().split('|');
    assert.is(user, '1000:1000', `${c.key} runs as 1000:1000`);
    assert.match(env!, 'NODE_ENV=production');
  }
});

/** Polls http://host:port/healthz until it answers 200 or the deadline passes; fails early when the container stopped. */
async function waitHealthy(id: string, url: string): Promise<{ status: number; body: string }> {
  const deadline = Date.now() + HEALTH_DEADLINE_MS;
  let last = 'no answer yet';
  while (Date.now() < deadline) {
    const running = await dockerRaw(['inspect', '--format', '{{.State.Running}}', id]);
    if (running.stdout.trim() !== 'true') {
      const logs = await dockerRaw(['logs', '--tail', '30', id]);
      throw new Error(`container ${id.slice(0, 12)} stopped before answering ${url}:\n${logs.stdout}${logs.stderr}`);
    }
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(2_000) });
      const body = await res.text();
      if (res.status === 200) return { status: res.status, body };
      last = `HTTP ${res.status} ${body.slice(0, 200)}`;
    } catch (err) {
      last = err instanceof Error ? `${err.message} ${String((err as { cause?: unknown }).cause ?? '')}` : String(err);
    }
    await delay(150); // between polls of the endpoint, bounded by the deadline above
  }
  const logs = await dockerRaw(['logs', '--tail', '30', id]);
  throw new Error(`${url} did not answer 200 within ${HEALTH_DEADLINE_MS / 1000}s (last: ${last}). Container log:\n${logs.stdout}${logs.stderr}`);
}

images('each image runs read-only as UID 1000 without capabilities and answers /healthz', async (state) => {
  assert.ok(state.first, 'the build ran');
  for (const c of COMPONENTS) {
    const ref = state.first!.refs[c.key];
    const port = PORTS[c.key];
    const run = await docker([
      'run', '--detach',
      '--read-only', '--tmpfs', '/tmp',
      '--user', '1000',
      '--cap-drop', 'ALL',
      '--security-opt', 'no-new-privileges',
      // Docker picks a free host port on loopback; `docker port` tells which.
      '--publish', `127.0.0.1::${port}`,
      '--env', `BETTER_AUTH_SECRET=${FAKE_SECRET}`,
      '--env', 'BACKEND_URL=http://127.0.0.1:9',
      ref,
    ]);
    const id = run.stdout.trim();
    state.containers.push(id);
    const mapped = (await docker(['port', id, `${port}/tcp`])).stdout.trim().split('\n')[0]!;
    const url = `http://${mapped}/healthz`;
    const started = Date.now();
    const health = await waitHealthy(id, url);
    log(`${c.key}: ${url} -> ${health.status} ${health.body.trim().slice(0, 80)} after ${Date.now() - started} ms`);
    assert.is(health.status, 200);

    // The hardening holds inside: the process is UID 1000, the root filesystem refuses writes,
    // /tmp accepts them.
    const uid = await docker(['exec', id, 'node', '-e', 'process.stdout.write(String(process.getuid()))']);
    assert.is(uid.stdout, '1000', `${c.key}: UID`);
    const write = await dockerRaw(['exec', id, 'node', '-e', "require('fs').writeFileSync('/app/x', 'x')"]);
    assert.is.not(write.exitCode, 0, `${c.key}: /app is not writable`);
    assert.match(write.stderr, /EROFS|read-only/i);
    const tmp = await dockerRaw(['exec', id, 'node', '-e', "require('fs').writeFileSync('/tmp/x', 'x')"]);
    assert.is(tmp.exitCode, 0, `${c.key}: /tmp is writable`);
  }
});

/** Counts occurrences of `needle` in a file, reading it as a stream (images are hundreds of MB). */
async function fileContains(file: string, needle: string): Promise<boolean> {
  const pattern = Buffer.from(needle);
  let carry = Buffer.alloc(0);
  for await (const chunk of createReadStream(file, { highWaterMark: 1 << 20 })) {
    const buf = Buffer.concat([carry, chunk as Buffer]);
    if (buf.includes(pattern)) return true;
    carry = buf.subarray(Math.max(0, buf.length - pattern.length + 1));
  }
  return false;
}

images('no layer, history line or file holds a .env or the secret value', async (state) => {
  assert.ok(state.first, 'the build ran');
  for (const c of COMPONENTS) {
    const ref = state.first!.refs[c.key];
    const history = await docker(['history', '--no-trunc', '--format', '{{.CreatedBy}}', ref]);
    assert.ok(history.stdout.includes('USER 1000:1000'), `${c.key}: history is readable`);
    assert.not.match(history.stdout, /(^|[\s/])\.env\b/m, `${c.key}: history mentions no .env`);
    assert.not.ok(history.stdout.includes(FAKE_SECRET), `${c.key}: history holds no secret`);

    // docker save holds every layer (a file deleted in a later layer would still be there) and
    // the image's configuration; layers are plain tar archives, so a secret would be visible.
    const dir = mkdtempSync(path.join(tmpdir(), 'images-save-'));
    state.tmpDirs.push(dir);
    const archive = path.join(dir, 'image.tar');
    await docker(['save', '--output', archive, ref]);
    assert.not.ok(await fileContains(archive, FAKE_SECRET), `${c.key}: the saved image holds the secret value`);
    const unpacked = path.join(dir, 'unpacked');
    await sh`mkdir -p ${unpacked} && tar -xf ${archive} -C ${unpacked}`;
    const manifest = JSON.parse(readFileSync(path.join(unpacked, 'manifest.json'), 'utf8')) as { Layers: string[] }[];
    const layers = manifest[0]!.Layers;
    assert.ok(layers.length > 1, `${c.key}: layers listed`);
    let files = 0;
    for (const layer of layers) {
      const names = (await sh`tar -tf ${path.join(unpacked, layer)}`).stdout.split('\n').filter(Boolean);
      files += names.length;
      const dotenv = names.filter((n) => /^\.env($|\.)/.test(n.replace(/\/$/, '').split('/').pop()!));
      assert.equal(dotenv, [], `${c.key}: layer ${layer} holds ${dotenv.join(', ')}`);
    }
    assert.ok(files > 1000, `${c.key}: the layers were read (${files} entries)`);
    rmSync(dir, { recursive: true, force: true });
    log(`${c.key}: ${layers.length} layers, ${files} entries, no .env, no secret`);
  }
});

images('a second build with nothing changed builds nothing', async (state) => {
  assert.ok(state.first, 'the build ran');
  const started = Date.now();
  const second = await buildImages({ repoRoot: REPO_ROOT, names: NAMES, nodeImage: state.nodeImage, log, only: ONLY });
  log(`second build: ${((Date.now() - started) / 1000).toFixed(1)}s`);
  assert.equal(second.refs, state.first!.refs);
  assert.equal(second.results.map((r) => [r.key, r.action]), COMPONENTS.map((c) => [c.key, 'skipped']));
});

images('a planted .env was next to each Dockerfile during the builds', async (state) => {
  // Guards the test itself: the checks above mean something only if the secret was there.
  for (const c of COMPONENTS) {
    const file = path.join(REPO_ROOT, DIRS[c.key], '.env');
    assert.ok(readFileSync(file, 'utf8').includes(FAKE_SECRET), `${file} holds the fake secret`);
  }
  assert.is(state.planted.length, COMPONENTS.length);
});

images.run();

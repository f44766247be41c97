// The in-cluster PostgreSQL and Redis images, through a real Docker engine: the pipeline's build
// step builds both from Debian's packages on the offline base; each runs the way its manifest
// runs it (the manifest's user, group, env, args, read-only root filesystem, no capabilities, a
// tmpfs for each volume mount) and answers its readiness probe, run as the kubelet would
// (`docker exec` of the probe's command). PostgreSQL accepts the password from POSTGRES_PASSWORD
// over TCP through the backend's own driver and refuses a wrong one; Redis answers PING from
// outside its container (protected mode off). Finally lib/images/export writes both, with the
// base, into one archive whose manifest names every ref. Containers, archives and the test's
// images are removed afterwards, also when a test fails.
import { suite } from '../support/suite.ts';
import * as assert from 'uvu/assert';
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseAllDocuments } from 'yaml';
import { buildImages, STORES, type BuildResult } from '../../lib/images/build.ts';
import type { ImageNames } from '../../lib/config.ts';
import { REPO_ROOT } from '../../lib/repo-root.ts';
import { ensureOfflineBaseImage } from '../../lib/images/offline-base.ts';
import { docker, dockerRaw } from '../../lib/images/docker.ts';
import { archiveRefs, exportImages } from '../../lib/images/export.ts';
import { removeImagesUnder, setUpOnce } from '../support/image-suite.ts';
import { DeployError } from '../../lib/errors.ts';

const repoRoot = REPO_ROOT;

/** Repositories of their own, so the test never touches the images `up` builds. */
const PREFIX = 'todo-stores-test';
const NAMES: ImageNames = {
  frontend: `${PREFIX}/frontend`,
  backend: `${PREFIX}/backend`,
  mcpServer: `${PREFIX}/mcp-server`,
  postgres: `${PREFIX}/postgres`,
  redis: `${PREFIX}/redis`,
};
/** A fail-safe for waiting on a server's "ready" log line, not a timing assertion. */
const READY_DEADLINE_MS = 60_000;

interface State {
  nodeImage: string;
  refs: { postgres: string; redis: string };
  results: BuildResult[];
  containers: string[];
  tmpDirs: string[];
  setupError?: unknown;
}

const stores = suite<State>('images: PostgreSQL and Redis built here, run as their manifests run them', {
  nodeImage: '',
  refs: { postgres: '', redis: '' },
  results: [],
  containers: [],
  tmpDirs: [],
});

function log(line: string) {
  console.log(`    ${line}`);
}

const removeTestImages = () => removeImagesUnder(PREFIX);

function cleanupNow(state: State) {
  if (state.containers.length) spawnSync('docker', ['rm', '--force', ...state.containers], { stdio: 'ignore' });
  state.containers = [];
  for (const dir of state.tmpDirs) rmSync(dir, { recursive: true, force: true });
  state.tmpDirs = [];
}

setUpOnce(
  stores,
  async (state) => {
    const base = await ensureOfflineBaseImage({ repoRoot, log });
    state.nodeImage = base.ref;
    log(`offline base ${base.ref}: ${base.action}`);
    // Left over from an interrupted run: without this the build below could be skipped.
    await removeTestImages();
  },
  cleanupNow,
);

stores.after(async (state) => {
  cleanupNow(state);
  await removeTestImages();
});

// ---------------------------------------------------------------------------------------------
// The manifest's container, as `docker run` arguments.

interface Container {
  name: string;
  args?: string[];
  env?: { name: string; value?: string; valueFrom?: unknown }[];
  securityContext?: { readOnlyRootFilesystem?: boolean; allowPrivilegeEscalation?: boolean; capabilities?: { drop?: string[] } };
  volumeMounts?: { name: string; mountPath: string }[];
  readinessProbe?: { exec?: { command: string[] } };
  livenessProbe?: { exec?: { command: string[] } };
}

/** The Deployment's pod spec from a shipped manifest file (its ${VARS} are left as written). */
function podSpec(file: string, deployment: string): { securityContext: { runAsUser: number; runAsGroup: number }; containers: Container[] } {
  for (const doc of parseAllDocuments(readFileSync(path.join(repoRoot, file), 'utf8'))) {
    const obj = doc.toJS() as { kind?: string; metadata?: { name?: string }; spec?: { template: { spec: any } } } | null;
    if (obj?.kind === 'Deployment' && obj.metadata?.name === deployment) return obj.spec!.template.spec;
  }
  throw new Error(`${file}: no Deployment ${deployment}`);
}

/**
 * docker run arguments that reproduce what the kubelet gives the container: the pod's user and
 * group, a read-only root, no capabilities, no privilege escalation, an empty writable tmpfs
 * for every volume mount, the manifest's env (secret references from `secrets`), its args.
 */
function runArgs(file: string, deployment: string, image: string, secrets: Record<string, string>, extra: string[] = []): string[] {
  const spec = podSpec(file, deployment);
  const c = spec.containers[0]!;
  const args = ['run', '--detach', '--user', `${spec.securityContext.runAsUser}:${spec.securityContext.runAsGroup}`];
  assert.is(c.securityContext?.readOnlyRootFilesystem, true, `${file}: read-only root`);
  args.push('--read-only');
  if (c.securityContext?.capabilities?.drop?.includes('ALL')) args.push('--cap-drop', 'ALL');
  if (c.securityContext?.allowPrivilegeEscalation === false) args.push('--security-opt', 'no-new-privileges');
  for (const m of c.volumeMounts ?? []) args.push('--tmpfs', m.mountPath);
  for (const e of c.env ?? []) {
    const value = e.value ?? secrets[e.name];
    assert.ok(value !== undefined, `${file}: a value for env ${e.name}`);
    args.push('--env', `${e.name}=${value}`);
  }
  return [...args, ...extra, image, ...(c.args ?? [])];
}

function probe(file: string, deployment: string, which: 'readinessProbe' | 'livenessProbe'): string[] {
  const command = podSpec(file, deployment).containers[0]![which]?.exec?.command;
  assert.ok(command, `${file}: ${which} is an exec probe`);
  return command!;
}

/** Resolves when the container's log shows `ready`; rejects when it exits first (with its log). */
function waitForLog(id: string, ready: RegExp): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn('docker', ['logs', '--follow', id], { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const deadline = setTimeout(() => finish(new Error(`no line matching ${ready} within ${READY_DEADLINE_MS / 1000}s:\n${output}`)), READY_DEADLINE_MS);
    const finish = (err?: Error) => {
      clearTimeout(deadline);
      child.kill();
      if (err) reject(err);
      else resolve(output);
    };
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      if (ready.test(output)) finish();
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('close', () => finish(new Error(`container ${id.slice(0, 12)} ended before ${ready}:\n${output}`)));
  });
}

async function start(state: State, args: string[], ready: RegExp): Promise<{ id: string; log: string }> {
  const id = (await docker(args)).stdout.trim();
  state.containers.push(id);
  return { id, log: await waitForLog(id, ready) };
}

async function hostPort(id: string, port: number): Promise<number> {
  const mapped = (await docker(['port', id, `${port}/tcp`])).stdout.trim().split('\n')[0]!;
  return Number(mapped.slice(mapped.lastIndexOf(':') + 1));
}

// ---------------------------------------------------------------------------------------------

stores('the build step builds both from Debian\'s packages, with content tags, on the offline base', async (state) => {
  const started = Date.now();
  const built = await buildImages({ repoRoot, names: NAMES, nodeImage: state.nodeImage, log, only: STORES.map((s) => s.key) });
  log(`build: ${((Date.now() - started) / 1000).toFixed(1)}s (${built.results.map((r) => `${r.key} ${r.action} ${r.seconds.toFixed(1)}s`).join(', ')})`);
  assert.equal(built.results.map((r) => [r.key, r.action]), [['postgres', 'built'], ['redis', 'built']]);
  assert.equal(Object.keys(built.refs), ['postgres', 'redis'], 'only the images asked for');
  state.refs = { postgres: built.refs.postgres!, redis: built.refs.redis! };
  state.results = built.results;
  for (const s of STORES) assert.match(state.refs[s.key], new RegExp(`^${NAMES[s.key]}:[0-9a-f]{12}$`));

  const version = async (ref: string, file: string) => (await docker(['run', '--rm', '--entrypoint', 'cat', ref, file])).stdout.trim();
  assert.match(await version(state.refs.postgres, '/usr/local/share/postgresql-version'), /^postgresql-15 15\.\d+/);
  assert.match(await version(state.refs.redis, '/usr/local/share/redis-version'), /^redis-server 5:7\.0\.\d+/);
  const user = async (ref: string) => (await docker(['image', 'inspect', '--format', '{{.Config.User}}', ref])).stdout.trim();
  assert.is(await user(state.refs.postgres), '70:70');
  assert.is(await user(state.refs.redis), '999:1000');
});

stores('PostgreSQL as its manifest runs it: initdb on first start, pg_isready answers, the password is required over TCP', async (state) => {
  assert.ok(state.refs.postgres, 'the build ran');
  const file = 'manifests/61-postgres.yaml';
  const password = `pw-${randomBytes(12).toString('base64url')}"'$x`;
  const { id, log: startLog } = await start(
    state,
    runArgs(file, 'postgres', state.refs.postgres, { POSTGRES_PASSWORD: password }, ['--publish', '127.0.0.1::5432']),
    /database system is ready to accept connections/,
  );
  assert.match(startLog, /PostgreSQL 15\.\d+/);
  assert.match(startLog, 'creating a cluster in /var/lib/postgresql/data/pgdata (superuser "todo", database "todo")');
  assert.not.ok(startLog.includes(password), 'the password is not in the log');

  for (const which of ['readinessProbe', 'livenessProbe'] as const) {
    const answer = await dockerRaw(['exec', id, ...probe(file, 'postgres', which)]);
    assert.is(answer.exitCode, 0, `${which}: ${answer.stdout}${answer.stderr}`);
    assert.match(answer.stdout, 'accepting connections');
  }
  assert.is((await docker(['exec', id, 'stat', '-c', '%u:%g', '/proc/1'])).stdout.trim(), '70:70', 'the server runs as 70:70');

  // The backend's own driver, from the host, through the published port (a TCP client, as the
  // backend pod is): the right password works, a wrong one is refused by scram-sha-256.
  const pg = createRequire(path.join(repoRoot, 'apps/backend/package.json'))('pg') as { Client: new (c: object) => { connect(): Promise<void>; query(q: string): Promise<{ rows: any[] }>; end(): Promise<void> } };
  const port = await hostPort(id, 5432);
  const client = new pg.Client({ host: '127.0.0.1', port, user: 'todo', database: 'todo', password });
  await client.connect();
  try {
    const { rows } = await client.query('select current_user as "user", current_database() as db, version() as version');
    assert.equal([rows[0].user, rows[0].db], ['todo', 'todo']);
    assert.match(rows[0].version, /^PostgreSQL 15\./);
    await client.query('create table probe (n int); insert into probe values (1)');
    assert.equal((await client.query('select n from probe')).rows, [{ n: 1 }]);
  } finally {
    await client.end();
  }
  const wrong = new pg.Client({ host: '127.0.0.1', port, user: 'todo', database: 'todo', password: `${password}-wrong` });
  let refused: unknown;
  try {
    await wrong.connect();
    await wrong.end();
  } catch (err) {
    refused = err;
  }
  assert.is((refused as { code?: string } | undefined)?.code, '28P01', 'a wrong password is refused (invalid_password)');
});

stores('PostgreSQL without POSTGRES_PASSWORD creates no cluster and says which variable to set', async (state) => {
  assert.ok(state.refs.postgres, 'the build ran');
  const args = runArgs('manifests/61-postgres.yaml', 'postgres', state.refs.postgres, { POSTGRES_PASSWORD: '' });
  const result = await dockerRaw(['run', '--rm', ...args.slice(2)]);
  assert.is(result.exitCode, 1);
  assert.match(result.stderr, 'POSTGRES_PASSWORD is empty, so no cluster is created');
});

/** Sends one inline Redis command over TCP and returns the first reply line. */
function redisCommand(port: number, command: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port }, () => socket.write(`${command}\r\n`));
    let reply = '';
    socket.on('data', (chunk) => {
      reply += chunk.toString();
      if (reply.includes('\r\n')) {
        socket.end();
        resolve(reply.split('\r\n')[0]!);
      }
    });
    socket.on('error', reject);
  });
}

stores('Redis as its manifest runs it: 999:1000, read-only, answers the readiness probe and a client from outside', async (state) => {
  assert.ok(state.refs.redis, 'the build ran');
  const file = 'manifests/60-redis.yaml';
  const { id, log: startLog } = await start(state, runArgs(file, 'redis', state.refs.redis, {}, ['--publish', '127.0.0.1::6379']), /Ready to accept connections/);
  assert.match(startLog, /Redis version=7\.0\.\d+/);
  const probeAnswer = await docker(['exec', id, ...probe(file, 'redis', 'readinessProbe')]);
  assert.is(probeAnswer.stdout.trim(), 'PONG');
  assert.is((await docker(['exec', id, 'id', '-u'])).stdout.trim(), '999');
  assert.is((await docker(['exec', id, 'id', '-g'])).stdout.trim(), '1000');
  assert.is((await docker(['exec', id, 'redis-cli', 'config', 'get', 'save'])).stdout.trim(), 'save', 'persistence off (--save "")');
  // Through the published port the client is not on the container's loopback, as a Dapr
  // sidecar in another pod is not: protected mode would answer -DENIED.
  assert.is(await redisCommand(await hostPort(id, 6379), 'PING'), '+PONG');
  // /tmp is world-writable in the image and not a mount here: only the read-only root refuses it.
  const write = await dockerRaw(['exec', id, 'sh', '-c', 'echo x > /tmp/x']);
  assert.is.not(write.exitCode, 0, 'the root filesystem refuses writes');
  assert.match(write.stderr, /read-only/i);
});

stores('exportImages writes both stores and the base into one archive that names every ref', async (state) => {
  assert.ok(state.refs.postgres && state.refs.redis, 'the build ran');
  const dir = mkdtempSync(path.join(tmpdir(), 'images-export-'));
  state.tmpDirs.push(dir);
  const file = path.join(dir, 'images.tar');
  const refs = [state.refs.postgres, state.refs.redis, state.nodeImage];
  const result = await exportImages(refs, file, { log });
  assert.equal(result.exported, refs);
  assert.equal(result.missing, []);
  assert.is(result.file, file);
  assert.equal((await archiveRefs(file)).sort(), [...refs].sort());
  // The base layer the three share is written once: the archive is smaller than the images' sum.
  const size = async (ref: string) => Number((await docker(['image', 'inspect', '--format', '{{.Size}}', ref])).stdout.trim());
  const sum = (await size(state.refs.postgres)) + (await size(state.refs.redis)) + (await size(state.nodeImage));
  log(`archive: ${(result.bytes / 1e6).toFixed(0)} MB for images of ${(sum / 1e6).toFixed(0)} MB together, in ${result.seconds.toFixed(1)}s`);
  assert.ok(result.bytes < sum - (await size(state.nodeImage)), 'shared layers are written once');

  // A ref the engine lacks: refused by default, naming it; left out and listed with skipMissing.
  const absent = `${PREFIX}/absent:000000000000`;
  let refused: unknown;
  try {
    await exportImages([state.refs.redis, absent], path.join(dir, 'refused.tar'));
  } catch (err) {
    refused = err;
  }
  assert.instance(refused, DeployError);
  assert.match((refused as Error).message, absent);
  assert.match((refused as Error).message, 'ErrImageNeverPull');
  const skipped = await exportImages([state.refs.redis, absent], path.join(dir, 'skipped.tar'), { skipMissing: true });
  assert.equal([skipped.exported, skipped.missing], [[state.refs.redis], [absent]]);
  assert.equal(await archiveRefs(skipped.file!), [state.refs.redis]);
});

stores.run();

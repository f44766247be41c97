// The in-cluster PostgreSQL and Redis images without Docker: every image the shipped manifests
// run is one the build step makes (so a node that was only given the built images can run them
// all), with the environment's pull policy; referencedImages picks what a render needs; the
// stores' Dockerfiles and contexts; and nothing claims a version that does not run.
import { suite } from '../support/suite.ts';
import * as assert from 'uvu/assert';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { IMAGE_SETTINGS, loadConfig, type Config, type Environment } from '../../lib/config.ts';
import { renderManifests } from '../../lib/manifests.ts';
import { defaultImageRefs, manifestVars } from '../../lib/plan.ts';
import { COMPONENTS, IMAGES, STORES, planImage, referencedImages } from '../../lib/images/build.ts';
import { listContext } from '../../lib/images/context.ts';
import { DEFAULT_NODE_IMAGE } from '../../lib/images/base.ts';
import { containersOf, podTemplates } from '../../lib/policy/objects.ts';
import { REPO_ROOT } from '../../lib/repo-root.ts';
import type { SourcedObject } from '../../lib/types.ts';

const REPO = REPO_ROOT;

let settingsRoot = '';
function config(environment: Environment): Config {
  return loadConfig({ env: environment, repoRoot: settingsRoot });
}
function render(c: Config, embeddedPostgres: boolean): SourcedObject[] {
  return renderManifests(path.join(REPO, 'manifests'), manifestVars(c, defaultImageRefs(c), embeddedPostgres), REPO);
}
function containers(objects: SourcedObject[]) {
  return podTemplates(objects).flatMap((t) => containersOf(t).map((c) => ({ owner: `${t.owner.object.kind}/${t.owner.object.metadata.name}`, ...c.container })));
}

// ---------------------------------------------------------------------------------------------
const shipped = suite('images: what the shipped manifests run');

shipped.before(() => {
  // Only env/<env>.env, never a developer's .env: the shipped defaults are what is tested.
  settingsRoot = mkdtempSync(path.join(tmpdir(), 'images-stores-'));
  mkdirSync(path.join(settingsRoot, 'env'));
  for (const env of ['dev', 'prod']) copyFileSync(path.join(REPO, 'env', `${env}.env`), path.join(settingsRoot, 'env', `${env}.env`));
});
shipped.after(() => rmSync(settingsRoot, { recursive: true, force: true }));

for (const [environment, embedded] of [['dev', true], ['dev', false], ['prod', false]] as const) {
  shipped(`${environment}${embedded ? ' with the embedded PostgreSQL' : ''}: every container runs an image the build step makes, with IMAGE_PULL_POLICY`, () => {
    const c = config(environment);
    const refs = defaultImageRefs(c);
    const built = new Set(Object.values(refs));
    const all = containers(render(c, embedded));
    assert.ok(all.length >= 4, 'containers found');
    for (const k of all) {
      assert.ok(built.has(k.image), `${k.owner} container ${k.name} runs ${k.image}, which the images step does not build`);
      assert.is(k.imagePullPolicy, c.imagePullPolicy, `${k.owner} container ${k.name}: imagePullPolicy`);
    }
  });
}

shipped('referencedImages: all five with the embedded PostgreSQL, no PostgreSQL image with the external database', () => {
  const dev = config('dev');
  assert.equal(referencedImages(render(dev, true), defaultImageRefs(dev)), ['frontend', 'backend', 'mcpServer', 'postgres', 'redis']);
  assert.equal(referencedImages(render(dev, false), defaultImageRefs(dev)), ['frontend', 'backend', 'mcpServer', 'redis']);
  const prod = config('prod');
  assert.equal(referencedImages(render(prod, false), defaultImageRefs(prod)), ['frontend', 'backend', 'mcpServer', 'redis']);
});

shipped('referencedImages reads init containers too, and ignores an image no setting names', () => {
  const refs = defaultImageRefs(config('dev'));
  const pod = (spec: object): SourcedObject => ({ object: { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' }, spec }, file: 'x.yaml', line: 1 });
  assert.equal(referencedImages([pod({ initContainers: [{ name: 'wait', image: refs.redis }], containers: [{ name: 'c', image: 'busybox:1.36' }] })], refs), ['redis']);
});

shipped('the stores\' settings: POSTGRES_IMAGE and REDIS_IMAGE in both env files, one setting per image', () => {
  assert.equal(Object.keys(IMAGE_SETTINGS).sort(), IMAGES.map((i) => i.key).sort());
  for (const environment of ['dev', 'prod'] as const) {
    const c = config(environment);
    assert.is(c.images.postgres, 'todo-postgres');
    assert.is(c.images.redis, 'todo-redis');
  }
});

shipped.run();

// ---------------------------------------------------------------------------------------------
const stores = suite('images: the PostgreSQL and Redis build contexts');

const DOCKERFILE = (dir: string) => readFileSync(path.join(REPO, dir, 'Dockerfile'), 'utf8');
const instructions = (text: string) => text.split('\n').filter((l) => l.trim() !== '' && !l.trim().startsWith('#'));

stores('build on the apps\' base (ARG NODE_IMAGE), from Debian\'s packages, as the manifests\' users', () => {
  const users = { postgres: 'USER 70:70', redis: 'USER 999:1000' } as const;
  const packages = { postgres: /apt-get install[^;]*"postgresql-\$\{PG_MAJOR\}"/, redis: /apt-get install[^;]*\bredis-server\b/ } as const;
  for (const s of STORES) {
    const text = DOCKERFILE(s.dir);
    const lines = instructions(text);
    assert.is(lines[0], 'ARG NODE_IMAGE=node:22-bookworm-slim', `${s.dir}: ARG NODE_IMAGE first, as the apps`);
    assert.equal(lines.filter((l) => /^FROM\s/.test(l)), ['FROM ${NODE_IMAGE}'], `${s.dir}: one stage on NODE_IMAGE`);
    assert.ok(lines.includes(users[s.key]), `${s.dir}: ${users[s.key]}`);
    assert.match(text, packages[s.key], `${s.dir}: installs Debian's package`);
    assert.not.match(lines.join('\n'), /:latest\b|docker\.io|alpine/, `${s.dir}: nothing pulled, no latest`);
  }
  assert.match(DOCKERFILE('apps/postgres'), /^ENV PG_MAJOR=15 /m, 'PostgreSQL 15: what bookworm ships');
});

stores('their contexts hold only the entrypoint, so a README or a stray .env never reaches the image or the tag', () => {
  for (const s of STORES) {
    assert.equal(listContext(path.join(REPO, s.dir)).map((e) => e.path), ['entrypoint.sh'], s.dir);
    const entry = listContext(path.join(REPO, s.dir))[0]!;
    assert.ok(entry.executable, `${s.dir}/entrypoint.sh is executable`);
    const plan = planImage(REPO, s.key, `todo-${s.key}`, DEFAULT_NODE_IMAGE);
    assert.match(plan.ref, new RegExp(`^todo-${s.key}:[0-9a-f]{12}$`));
    assert.equal(plan.buildArgs, { NODE_IMAGE: DEFAULT_NODE_IMAGE });
  }
  assert.equal(IMAGES.map((i) => i.key), [...COMPONENTS.map((c) => c.key), 'postgres', 'redis']);
});

stores('nothing names the upstream versions that no longer run (16.6, 7.4.2), and the README names what does', () => {
  const files = ['manifests/60-redis.yaml', 'manifests/61-postgres.yaml', 'README.md', 'apps/postgres/README.md', 'apps/redis/README.md'];
  for (const f of files) {
    const text = readFileSync(path.join(REPO, f), 'utf8');
    assert.not.match(text, /postgres:16|redis:7\.4|PostgreSQL 16|Redis 7\.4/, `${f} names an upstream image or version`);
  }
  const readme = readFileSync(path.join(REPO, 'README.md'), 'utf8');
  assert.match(readme, 'PostgreSQL 15');
  assert.match(readme, 'Redis 7.0');
  assert.match(readFileSync(path.join(REPO, 'manifests/61-postgres.yaml'), 'utf8'), 'PostgreSQL 15');
  assert.match(readFileSync(path.join(REPO, 'manifests/60-redis.yaml'), 'utf8'), 'Redis 7.0');
});

stores.run();

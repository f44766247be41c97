// The `current` provider's image step, run for real against test/images/fake-docker installed as
// `docker` on PATH (a recording stand-in: no registry can be reached here). Dev loads nothing,
// prod without REGISTRY pushes nothing and says why, prod with REGISTRY tags and pushes each
// image and returns the registry refs the manifests must use; a refused push shows docker's
// message with secrets redacted.
import { suite } from '../support/suite.ts';
import * as assert from 'uvu/assert';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { currentProvider, hasRegistryHost, planCurrentImages, registryRef } from '../../lib/cluster/current.ts';
import type { ClusterContext } from '../../lib/cluster/provider.ts';
import type { ImageRefs } from '../../lib/types.ts';
import { DeployError } from '../../lib/errors.ts';

const here = path.dirname(fileURLToPath(import.meta.url));
const FAKE_DOCKER = path.resolve(here, '../images/fake-docker');

const REFS: ImageRefs = {
  frontend: 'todo-frontend:0123456789ab',
  backend: 'todo-backend:123456789abc',
  mcpServer: 'todo-mcp-server:23456789abcd',
  postgres: 'todo-postgres:3456789abcde',
  redis: 'todo-redis:456789abcdef',
};

interface Harness {
  calls: () => string[][];
  lines: string[];
  ctx: (environment: 'dev' | 'prod', settings?: Record<string, string>) => ClusterContext;
  done: () => void;
}

/** A temporary bin folder with fake-docker as `docker`, first on PATH; restored by done(). */
function harness(): Harness {
  const dir = mkdtempSync(path.join(tmpdir(), 'fake-docker-'));
  copyFileSync(FAKE_DOCKER, path.join(dir, 'docker'));
  const log = path.join(dir, 'calls.log');
  const saved = { PATH: process.env.PATH, FAKE_DOCKER_LOG: process.env.FAKE_DOCKER_LOG };
  process.env.PATH = `${dir}${path.delimiter}${process.env.PATH}`;
  process.env.FAKE_DOCKER_LOG = log;
  const lines: string[] = [];
  return {
    lines,
    calls: () => (existsSync(log) ? readFileSync(log, 'utf8').trimEnd().split('\n').filter(Boolean).map((l) => l.split('\t')) : []),
    ctx: (environment, settings = {}) => ({
      environment,
      settings,
      log: (line) => lines.push(line),
      redact: (s) => s.split('hunter2-registry-token').join('[redacted]'),
    }),
    done: () => {
      process.env.PATH = saved.PATH;
      if (saved.FAKE_DOCKER_LOG === undefined) delete process.env.FAKE_DOCKER_LOG;
      else process.env.FAKE_DOCKER_LOG = saved.FAKE_DOCKER_LOG;
      delete process.env.FAKE_DOCKER_FAIL;
      delete process.env.FAKE_DOCKER_STDERR;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

const pure = suite('current provider: image plan (pure)');

pure('a ref names a registry host when its first component has a dot, a port or is localhost', () => {
  assert.ok(hasRegistryHost('registry.example.com/todo/backend:1'));
  assert.ok(hasRegistryHost('localhost:5000/backend:1'));
  assert.ok(hasRegistryHost('localhost/backend:1'));
  assert.not.ok(hasRegistryHost('todo-backend:1'));
  assert.not.ok(hasRegistryHost('team/backend:1'));
});

pure('REGISTRY prefixes plain refs, trailing slashes dropped; qualified refs stay', () => {
  assert.is(registryRef('todo-backend:abc', 'registry.example.com/todo/'), 'registry.example.com/todo/todo-backend:abc');
  assert.is(registryRef('other.example.com/backend:abc', 'registry.example.com/todo'), 'other.example.com/backend:abc');
});

pure('dev and prod without REGISTRY push nothing; prod with REGISTRY targets every image', () => {
  assert.is(planCurrentImages(REFS, { environment: 'dev', settings: { REGISTRY: 'r.example' } }).kind, 'none');
  const noRegistry = planCurrentImages(REFS, { environment: 'prod', settings: {} });
  assert.is(noRegistry.kind, 'none');
  assert.match((noRegistry as { message: string }).message, /must be able to pull todo-frontend:0123456789ab/);
  const push = planCurrentImages(REFS, { environment: 'prod', settings: { REGISTRY: 'r.example/todo' } });
  assert.equal(push, {
    kind: 'push',
    registry: 'r.example/todo',
    targets: {
      frontend: 'r.example/todo/todo-frontend:0123456789ab',
      backend: 'r.example/todo/todo-backend:123456789abc',
      mcpServer: 'r.example/todo/todo-mcp-server:23456789abcd',
      postgres: 'r.example/todo/todo-postgres:3456789abcde',
      redis: 'r.example/todo/todo-redis:456789abcdef',
    },
  });
});

const load = suite('current provider: loadImages through fake-docker');

load('dev: runs no docker command and keeps the refs', async () => {
  const h = harness();
  try {
    const refs = await currentProvider.loadImages(REFS, h.ctx('dev', { REGISTRY: 'r.example' }));
    assert.equal(refs, REFS);
    assert.equal(h.calls(), []);
    assert.match(h.lines.join('\n'), /images are not loaded/);
  } finally {
    h.done();
  }
});

load('prod without REGISTRY: runs no docker command and says the cluster must reach the images', async () => {
  const h = harness();
  try {
    const refs = await currentProvider.loadImages(REFS, h.ctx('prod'));
    assert.equal(refs, REFS);
    assert.equal(h.calls(), []);
    assert.match(h.lines.join('\n'), /REGISTRY is not set/);
  } finally {
    h.done();
  }
});

load('prod with REGISTRY: docker tag then docker push for each image, in order; returns the pushed refs', async () => {
  const h = harness();
  try {
    const refs = await currentProvider.loadImages(REFS, h.ctx('prod', { REGISTRY: 'registry.example.com/todo' }));
    const r = (s: string) => `registry.example.com/todo/${s}`;
    assert.equal(refs, { frontend: r(REFS.frontend), backend: r(REFS.backend), mcpServer: r(REFS.mcpServer), postgres: r(REFS.postgres), redis: r(REFS.redis) });
    assert.equal(h.calls(), [
      ['tag', REFS.frontend, r(REFS.frontend)],
      ['push', r(REFS.frontend)],
      ['tag', REFS.backend, r(REFS.backend)],
      ['push', r(REFS.backend)],
      ['tag', REFS.mcpServer, r(REFS.mcpServer)],
      ['push', r(REFS.mcpServer)],
      ['tag', REFS.postgres, r(REFS.postgres)],
      ['push', r(REFS.postgres)],
      ['tag', REFS.redis, r(REFS.redis)],
      ['push', r(REFS.redis)],
    ]);
  } finally {
    h.done();
  }
});

load('prod with REGISTRY and the external database: only the images given are pushed (no PostgreSQL)', async () => {
  const h = harness();
  try {
    const { postgres: _unused, ...withoutPostgres } = REFS;
    const refs = await currentProvider.loadImages(withoutPostgres, h.ctx('prod', { REGISTRY: 'registry.example.com/todo' }));
    assert.equal(Object.keys(refs), ['frontend', 'backend', 'mcpServer', 'redis']);
    assert.not.ok(h.calls().flat().some((arg) => arg.includes('todo-postgres')), 'nothing about the PostgreSQL image');
    assert.equal(h.calls().filter((c) => c[0] === 'push').length, 4);
  } finally {
    h.done();
  }
});

load('a refused push stops the step with docker\'s message, redacted, and the login fix', async () => {
  const h = harness();
  try {
    process.env.FAKE_DOCKER_FAIL = 'push';
    process.env.FAKE_DOCKER_STDERR = 'unauthorized: token hunter2-registry-token is not valid';
    let error: unknown;
    try {
      await currentProvider.loadImages(REFS, h.ctx('prod', { REGISTRY: 'registry.example.com/todo' }));
    } catch (err) {
      error = err;
    }
    assert.ok(error instanceof DeployError, 'a DeployError');
    const message = (error as Error).message;
    assert.match(message, 'Pushing registry.example.com/todo/todo-frontend:0123456789ab to registry.example.com/todo failed');
    assert.match(message, 'unauthorized: token [redacted] is not valid');
    assert.not.match(message, 'hunter2-registry-token');
    assert.match(message, 'docker login registry.example.com');
    // The first push failed: nothing after it was attempted.
    assert.equal(h.calls().map((c) => c[0]), ['tag', 'push']);
  } finally {
    h.done();
  }
});

pure.run();
load.run();

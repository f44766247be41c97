// lib/images without Docker: which files form a build context (Docker's .dockerignore rules),
// the content-derived tag, the guard against dotenv files, the offline base image's pure parts,
// docker's errors (redacted), and the apps' Dockerfiles and .dockerignore files themselves.
import { suite } from '../support/suite.ts';
import * as assert from 'uvu/assert';
import { chmodSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readlinkSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  contextTag,
  dockerignorePatterns,
  dotenvFilesIn,
  filterContext,
  isDotenvFile,
  listContext,
  TAG_LENGTH,
  type TagInput,
} from '../../lib/images/context.ts';
import { COMPONENTS, nodeImageFrom, planImage, stageContext } from '../../lib/images/build.ts';
import {
  DEFAULT_NODE_IMAGE,
  FALLBACK_DEBIAN_MIRROR,
  baseCacheDir,
  baseImageRef,
  baseNpmrc,
  debianMirrorFrom,
  rootNodeVersion,
} from '../../lib/images/base.ts';
import { dockerError } from '../../lib/images/docker.ts';
import { DeployError } from '../../lib/errors.ts';
import { REPO_ROOT } from '../../lib/repo-root.ts';


/** A throwaway app folder with the given files; returns its path. */
function makeApp(files: Record<string, string>): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'images-unit-'));
  for (const [rel, content] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
    writeFileSync(path.join(dir, rel), content);
  }
  return dir;
}

const APP_IGNORE = readFileSync(path.join(REPO_ROOT, 'apps/backend/.dockerignore'), 'utf8');

// ---------------------------------------------------------------------------------------------
const context = suite('images: build context');

context('the apps\' .dockerignore keeps dotenv files, node_modules, dist, tests, logs and docs out', () => {
  const paths = [
    '.env',
    '.env.local',
    '.env.production',
    'src/.env',
    'node_modules/pg/index.js',
    'src/node_modules/x.js',
    'dist/server.js',
    'test/app.test.ts',
    'npm-debug.log',
    'src/deep/trace.log',
    'README.md',
    'tsconfig.test.json',
    'package.json',
    'package-lock.json',
    'tsconfig.json',
    'src/server.ts',
    'public/index.html',
  ];
  assert.equal(filterContext(paths, APP_IGNORE), [
    'package-lock.json',
    'package.json',
    'public/index.html',
    'src/server.ts',
    'tsconfig.json',
  ]);
});

context('every app ships the same safe .dockerignore', () => {
  for (const c of COMPONENTS) {
    const text = readFileSync(path.join(REPO_ROOT, c.dir, '.dockerignore'), 'utf8');
    const kept = filterContext(['.env', 'sub/.env.secret', 'node_modules/a.js', 'src/a.ts'], text);
    assert.equal(kept, ['src/a.ts'], `${c.dir}/.dockerignore`);
  }
});

context('patterns: comments and blank lines are not rules; exceptions re-include', () => {
  assert.equal(dockerignorePatterns('# comment\n\n  dist  \n!dist/keep.js\n'), ['dist', '!dist/keep.js']);
  assert.equal(filterContext(['dist/a.js', 'dist/keep.js', 'src/a.ts'], 'dist\n!dist/keep.js\n'), ['dist/keep.js', 'src/a.ts']);
});

context('dotenv files are recognised at any depth; .env.example is allowed', () => {
  assert.ok(isDotenvFile('.env'));
  assert.ok(isDotenvFile('config/.env.local'));
  assert.not.ok(isDotenvFile('.env.example'));
  assert.not.ok(isDotenvFile('src/env.ts'));
  assert.not.ok(isDotenvFile('.environment'));
  assert.equal(dotenvFilesIn(['a.ts', '.env', 'x/.env.prod']), ['.env', 'x/.env.prod']);
});

context('listContext walks the folder, honours .dockerignore, records links and the executable bit', () => {
  const dir = makeApp({
    '.dockerignore': APP_IGNORE,
    '.env': 'SECRET=1',
    'package.json': '{}',
    'src/server.ts': 'x',
    'node_modules/a/index.js': 'y',
    'bin/run.sh': '#!/bin/sh',
  });
  try {
    chmodSync(path.join(dir, 'bin/run.sh'), 0o755);
    symlinkSync('server.ts', path.join(dir, 'src/link.ts'));
    const entries = listContext(dir);
    assert.equal(entries.map((e) => e.path), ['bin/run.sh', 'package.json', 'src/link.ts', 'src/server.ts']);
    assert.equal(entries.find((e) => e.path === 'bin/run.sh')!.executable, true);
    assert.equal(entries.find((e) => e.path === 'src/link.ts')!.kind, 'symlink');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

/** apps/shared and an app whose src/shared links to it, as the backend and the mcp-server have. */
function makeSharingApps(): { root: string; app: string } {
  const root = mkdtempSync(path.join(tmpdir(), 'images-shared-'));
  const app = path.join(root, 'apps/backend');
  const files: Record<string, string> = {
    'apps/shared/log.ts': 'export const log = 1;',
    'apps/shared/README.md': 'docs',
    'apps/shared/.env': 'SECRET=1',
    'apps/backend/Dockerfile': 'ARG NODE_IMAGE\nFROM ${NODE_IMAGE}\n',
    'apps/backend/.dockerignore': APP_IGNORE,
    'apps/backend/package.json': '{}',
    'apps/backend/src/server.ts': 'x',
  };
  for (const [rel, content] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(root, rel)), { recursive: true });
    writeFileSync(path.join(root, rel), content);
  }
  symlinkSync('../../shared', path.join(app, 'src/shared'));
  symlinkSync('server.ts', path.join(app, 'src/link.ts'));
  return { root, app };
}

context('a link to a folder outside the context is followed: its files count, under the link\'s path and the same .dockerignore', () => {
  const { root, app } = makeSharingApps();
  try {
    const entries = listContext(app);
    assert.equal(entries.map((e) => e.path), ['package.json', 'src/link.ts', 'src/server.ts', 'src/shared/log.ts']);
    const shared = entries.find((e) => e.path === 'src/shared/log.ts')!;
    assert.is(shared.kind, 'file');
    assert.is(shared.source, path.join(root, 'apps/shared/log.ts'));
    // A link inside the context stays a link, as Docker sends it.
    assert.is(entries.find((e) => e.path === 'src/link.ts')!.kind, 'symlink');
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

context('stageContext: the planned files as real files, links inside kept, the Dockerfile and .dockerignore beside them', () => {
  const { root, app } = makeSharingApps();
  let staged: string | undefined;
  try {
    chmodSync(path.join(app, 'src/server.ts'), 0o755);
    staged = stageContext(planImage(root, 'backend', 'todo-backend', DEFAULT_NODE_IMAGE));
    const listed = listContext(staged).map((e) => e.path);
    assert.equal(listed, ['package.json', 'src/link.ts', 'src/server.ts', 'src/shared/log.ts']);
    assert.ok(lstatSync(path.join(staged, 'src/shared')).isDirectory(), 'src/shared is a real folder');
    assert.is(readFileSync(path.join(staged, 'src/shared/log.ts'), 'utf8'), 'export const log = 1;');
    assert.is(readlinkSync(path.join(staged, 'src/link.ts')), 'server.ts');
    assert.is(statSync(path.join(staged, 'src/server.ts')).mode & 0o111, 0o111);
    assert.is(readFileSync(path.join(staged, 'Dockerfile'), 'utf8'), 'ARG NODE_IMAGE\nFROM ${NODE_IMAGE}\n');
    assert.is(readFileSync(path.join(staged, '.dockerignore'), 'utf8'), APP_IGNORE);
    assert.not.ok(listed.some((p) => p.endsWith('.env') || p.endsWith('.md')));
  } finally {
    rmSync(root, { recursive: true, force: true });
    if (staged) rmSync(staged, { recursive: true, force: true });
  }
});

// ---------------------------------------------------------------------------------------------
const tag = suite('images: content-derived tag');

const base: TagInput = {
  entries: [
    { path: 'package.json', kind: 'file', executable: false, digest: 'a'.repeat(64) },
    { path: 'src/server.ts', kind: 'file', executable: false, digest: 'b'.repeat(64) },
  ],
  dockerfile: 'FROM x\n',
  buildArgs: { NODE_IMAGE: 'node:22-bookworm-slim' },
};

tag('is 12 lowercase hex characters, a short digest the data model accepts, never "latest"', () => {
  const t = contextTag(base);
  assert.equal(t.length, TAG_LENGTH);
  assert.match(t, /^[0-9a-f]{12}$/);
  assert.is.not(t, 'latest');
});

tag('is the same for the same content, whatever the order of the entries', () => {
  assert.is(contextTag(base), contextTag({ ...base, entries: [...base.entries].reverse() }));
});

tag('changes with each input that changes the image', () => {
  const t = contextTag(base);
  const variants: [string, TagInput][] = [
    ['file content', { ...base, entries: [base.entries[0]!, { ...base.entries[1]!, digest: 'c'.repeat(64) }] }],
    ['file name', { ...base, entries: [base.entries[0]!, { ...base.entries[1]!, path: 'src/main.ts' }] }],
    ['executable bit', { ...base, entries: [base.entries[0]!, { ...base.entries[1]!, executable: true }] }],
    ['added file', { ...base, entries: [...base.entries, { path: 'public/a.css', kind: 'file', executable: false, digest: 'd'.repeat(64) }] }],
    ['Dockerfile', { ...base, dockerfile: 'FROM y\n' }],
    ['NODE_IMAGE', { ...base, buildArgs: { NODE_IMAGE: 'todo-deploy/node-base:22.23.3-bookworm-offline' } }],
    ['base image id', { ...base, baseImageId: 'sha256:1234' }],
  ];
  const seen = new Set([t]);
  for (const [what, input] of variants) {
    const v = contextTag(input);
    assert.is.not(v, t, `a different ${what} must give a different tag`);
    seen.add(v);
  }
  assert.is(seen.size, variants.length + 1);
});

tag('planImage: an excluded file does not change the tag, a source file does', () => {
  const root = mkdtempSync(path.join(tmpdir(), 'images-plan-'));
  try {
    const app = path.join(root, 'apps/backend');
    mkdirSync(path.join(app, 'src'), { recursive: true });
    writeFileSync(path.join(app, 'Dockerfile'), 'ARG NODE_IMAGE\nFROM ${NODE_IMAGE}\n');
    writeFileSync(path.join(app, '.dockerignore'), APP_IGNORE);
    writeFileSync(path.join(app, 'package.json'), '{}');
    writeFileSync(path.join(app, 'src/server.ts'), 'one');
    const first = planImage(root, 'backend', 'todo-backend', DEFAULT_NODE_IMAGE);
    assert.is(first.ref, `todo-backend:${first.tag}`);
    assert.equal(first.buildArgs, { NODE_IMAGE: DEFAULT_NODE_IMAGE });

    mkdirSync(path.join(app, 'dist'));
    writeFileSync(path.join(app, 'dist/server.js'), 'compiled');
    writeFileSync(path.join(app, 'debug.log'), 'noise');
    assert.is(planImage(root, 'backend', 'todo-backend', DEFAULT_NODE_IMAGE).tag, first.tag);

    writeFileSync(path.join(app, 'src/server.ts'), 'two');
    assert.is.not(planImage(root, 'backend', 'todo-backend', DEFAULT_NODE_IMAGE).tag, first.tag);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

tag('planImage: a change in a linked folder outside the app (apps/shared) changes the tag', () => {
  const { root } = makeSharingApps();
  const backendTag = () => planImage(root, 'backend', 'todo-backend', DEFAULT_NODE_IMAGE).tag;
  try {
    const first = backendTag();
    writeFileSync(path.join(root, 'apps/shared/README.md'), 'other docs');
    assert.is(backendTag(), first, 'a README (excluded) leaves the tag');
    writeFileSync(path.join(root, 'apps/shared/log.ts'), 'export const log = 2;');
    assert.is.not(backendTag(), first, 'a shared source file changes it');
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

tag('planImage refuses a context that would carry a .env, naming the file and the fix', () => {
  const root = mkdtempSync(path.join(tmpdir(), 'images-plan-'));
  try {
    const app = path.join(root, 'apps/frontend');
    mkdirSync(app, { recursive: true });
    writeFileSync(path.join(app, 'Dockerfile'), 'FROM x\n');
    writeFileSync(path.join(app, '.dockerignore'), 'node_modules\n');
    writeFileSync(path.join(app, '.env'), 'BETTER_AUTH_SECRET=not-for-images');
    const err = (() => {
      try {
        planImage(root, 'frontend', 'todo-frontend', DEFAULT_NODE_IMAGE);
      } catch (e) {
        return e as Error;
      }
      return undefined;
    })();
    assert.ok(err instanceof DeployError, 'a DeployError');
    assert.match(err!.message, 'apps/frontend/.env');
    assert.match(err!.message, 'add the line ".env*" to apps/frontend/.dockerignore');
    assert.not.match(err!.message, 'not-for-images');
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

tag('planImage names a missing Dockerfile or .dockerignore', () => {
  const root = mkdtempSync(path.join(tmpdir(), 'images-plan-'));
  try {
    mkdirSync(path.join(root, 'apps/mcp-server'), { recursive: true });
    assert.throws(() => planImage(root, 'mcpServer', 'todo-mcp-server', DEFAULT_NODE_IMAGE), /apps\/mcp-server\/Dockerfile is missing/);
    writeFileSync(path.join(root, 'apps/mcp-server/Dockerfile'), 'FROM x\n');
    assert.throws(() => planImage(root, 'mcpServer', 'todo-mcp-server', DEFAULT_NODE_IMAGE), /apps\/mcp-server\/\.dockerignore is missing/);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

tag('NODE_IMAGE comes from the environment, else the official Node 22 slim image', () => {
  assert.is(nodeImageFrom({}), 'node:22-bookworm-slim');
  assert.is(nodeImageFrom({ NODE_IMAGE: '  ' }), 'node:22-bookworm-slim');
  assert.is(nodeImageFrom({ NODE_IMAGE: 'todo-deploy/node-base:22.23.3-bookworm-offline' }), 'todo-deploy/node-base:22.23.3-bookworm-offline');
});

// ---------------------------------------------------------------------------------------------
const offline = suite('images: offline base');

offline('the base ref is fixed per Node version and never "latest"', () => {
  assert.is(baseImageRef('22.23.3'), 'todo-deploy/node-base:22.23.3-bookworm-offline');
  assert.throws(() => baseImageRef('latest'), /not a Node version/);
});

offline('the Node version is the root package.json\'s node@22 pin', () => {
  const version = rootNodeVersion(REPO_ROOT);
  const pkg = JSON.parse(readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8'));
  assert.is(version, pkg.devDependencies.node);
  assert.match(version, /^22\.\d+\.\d+$/);
});

offline('the Debian mirror is read from deb822 and one-line sources, skipping the security archive', () => {
  const deb822 = [
    'Types: deb\nURIs: http://security.example/debian-security\nSuites: bookworm-security\nComponents: main\n',
    'Types: deb-src\nURIs: http://src.example/debian\nSuites: bookworm\n',
    'Types: deb\nURIs: http://mirror.example/debian/\nSuites: bookworm bookworm-updates\nComponents: main\n',
  ].join('\n');
  assert.is(debianMirrorFrom([deb822]), 'http://mirror.example/debian');
  assert.is(debianMirrorFrom(['# x\ndeb [arch=amd64] http://ftp.example/debian bookworm main\n']), 'http://ftp.example/debian');
  assert.is(debianMirrorFrom(['deb https://packages.cloud.google.com/apt cloud-sdk-bookworm main\n']), FALLBACK_DEBIAN_MIRROR);
  assert.is(debianMirrorFrom([]), FALLBACK_DEBIAN_MIRROR);
});

offline('the cache lives under XDG_CACHE_HOME, else ~/.cache', () => {
  assert.is(baseCacheDir({ XDG_CACHE_HOME: '/x/cache' }), '/x/cache/todo-deploy/node-base');
  assert.match(baseCacheDir({}), /\.cache\/todo-deploy\/node-base$/);
});

offline('npm in the base trusts the copied CA bundle and stays quiet', () => {
  const npmrc = baseNpmrc();
  assert.match(npmrc, /^cafile=\/etc\/ssl\/certs\/ca-certificates\.crt$/m);
  assert.match(npmrc, /^update-notifier=false$/m);
});

// ---------------------------------------------------------------------------------------------
const errors = suite('images: docker errors');

errors('show docker\'s stderr through the redaction, with the fix', () => {
  const secret = 's3cr3t-token-value';
  const err = dockerError(['push', 'r.example/todo-backend:abc'], { exitCode: 1, stdout: '', stderr: `denied: token ${secret} rejected` }, {
    redact: (s) => s.split(secret).join('[redacted]'),
    what: 'Pushing todo-backend',
    fix: 'log in to the registry.',
  });
  assert.ok(err instanceof DeployError);
  assert.match(err.message, 'Pushing todo-backend failed (docker exited 1)');
  assert.match(err.message, 'denied: token [redacted] rejected');
  assert.match(err.message, 'Fix: log in to the registry.');
  assert.not.match(err.message, secret);
});

errors('a daemon that does not answer gets the start-the-engine fix', () => {
  const err = dockerError(['info'], { exitCode: 1, stdout: '', stderr: 'Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?' });
  assert.match(err.message, /start the Docker engine/);
});

errors('a missing docker CLI gets the install fix', () => {
  const err = dockerError(['build'], { exitCode: 127, stdout: '', stderr: 'bash: line 1: docker: command not found' });
  assert.match(err.message, /install Docker/);
});

// ---------------------------------------------------------------------------------------------
const dockerfiles = suite('images: the apps\' Dockerfiles');

const PORTS: Record<string, number> = { 'apps/frontend': 3000, 'apps/backend': 8000, 'apps/mcp-server': 8080 };

dockerfiles('are multi-stage on ARG NODE_IMAGE (official default), run as 1000:1000 in production mode', () => {
  for (const c of COMPONENTS) {
    const text = readFileSync(path.join(REPO_ROOT, c.dir, 'Dockerfile'), 'utf8');
    const instructions = text.split('\n').filter((l) => l.trim() !== '' && !l.trim().startsWith('#'));
    const from = instructions.filter((l) => /^FROM\s/i.test(l));
    assert.ok(from.length >= 2, `${c.dir}: multi-stage`);
    assert.ok(from.every((l) => /^FROM \$\{NODE_IMAGE\}/.test(l)), `${c.dir}: every stage starts from NODE_IMAGE`);
    assert.match(instructions[0]!, /^ARG NODE_IMAGE=node:22-bookworm-slim$/, `${c.dir}: ARG NODE_IMAGE first`);
    assert.ok(instructions.some((l) => /npm ci\b.*--omit=dev/.test(l)), `${c.dir}: production dependencies only`);
    // The runtime stage is the last one: its instructions decide what the image is.
    const lastFrom = instructions.lastIndexOf(from[from.length - 1]!);
    const runtime = instructions.slice(lastFrom);
    assert.ok(runtime.includes('USER 1000:1000'), `${c.dir}: USER 1000:1000 in the runtime stage`);
    assert.ok(runtime.includes('ENV NODE_ENV=production'), `${c.dir}: NODE_ENV=production`);
    assert.ok(runtime.includes(`EXPOSE ${PORTS[c.dir]}`), `${c.dir}: EXPOSE ${PORTS[c.dir]}`);
    assert.not.ok(runtime.some((l) => /^COPY \. /.test(l)), `${c.dir}: the runtime stage copies named folders, not the whole context`);
    assert.not.match(text, /:latest\b/, `${c.dir}: no latest tag`);
  }
});

context.run();
tag.run();
offline.run();
errors.run();
dockerfiles.run();

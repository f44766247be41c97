// Rendering manifests: ${VAR} interpolation, the $${ escape, errors with file and line (unknown
// variable, multi-line value, YAML syntax, missing envelope fields), empty documents, the
// `# todo-deploy: when VAR` condition, and the labels and namespace added before apply.
import { suite } from '../support/suite.ts';
import * as assert from 'uvu/assert';
import { usageError } from '../support/assert-errors.ts';
import { existsSync, mkdtempSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  interpolate,
  renderText,
  renderCached,
  renderManifests,
  manifestFiles,
  prepareForApply,
  manifestMaxBytes,
  DEFAULT_MANIFEST_MAX_BYTES,
  MANAGED_LABELS,
  MANAGED_SELECTOR,
} from '../../lib/manifests.ts';
import type { KubeObject } from '../../lib/types.ts';

const here = path.dirname(fileURLToPath(import.meta.url));
const MINIMAL = path.resolve(here, '../fixtures/core/minimal');

const VARS = {
  NAMESPACE: 'todo',
  DOMAIN: 'todo.local',
  REPLICAS: '2',
  IMAGE_PULL_POLICY: 'Never',
  BACKEND_IMAGE: 'todo-backend:3f9a1c2b7d4e',
  EMBEDDED_POSTGRES: 'true',
  ENVIRONMENT: 'dev',
};

const ns = (name: string) => `apiVersion: v1\nkind: Namespace\nmetadata:\n  name: ${name}\n`;


// ---------------------------------------------------------------------------------------------
const interp = suite('manifests: interpolation');

interp('known variables are filled in, several on one line', () => {
  const { text, problems } = interpolate('image: ${BACKEND_IMAGE}\nhost: ${DOMAIN}/${NAMESPACE}\n', VARS, 'f.yaml');
  assert.equal(problems, []);
  assert.is(text, 'image: todo-backend:3f9a1c2b7d4e\nhost: todo.local/todo\n');
});

interp('an unknown variable is reported with file, line and the known names', () => {
  const { problems } = interpolate('a: 1\nb: ${NAMESPACE}\nc: ${DATABASE_URL}\n', VARS, 'manifests/backend.yaml');
  assert.is(problems.length, 1);
  const [p] = problems;
  assert.is(p.file, 'manifests/backend.yaml');
  assert.is(p.line, 3);
  assert.is(p.key, '${DATABASE_URL}');
  assert.match(p.message, 'unknown variable');
  assert.match(p.fix, 'BACKEND_IMAGE, DOMAIN, EMBEDDED_POSTGRES');
});

interp('a placeholder inside a comment line is left as written and not checked', () => {
  const { text, problems } = interpolate('# the image is ${BACKEND_IMAGE}; ${NOT_KNOWN} too\n  # indented ${ALSO_UNKNOWN}\nimage: ${BACKEND_IMAGE}\n', VARS, 'f.yaml');
  assert.equal(problems, []);
  assert.is(text, '# the image is ${BACKEND_IMAGE}; ${NOT_KNOWN} too\n  # indented ${ALSO_UNKNOWN}\nimage: todo-backend:3f9a1c2b7d4e\n');
});

interp('$${ writes a literal ${ and is not interpolated', () => {
  const { text, problems } = interpolate('cmd: echo $${HOME} and ${NAMESPACE}\nother: $${NOT_A_VAR}\n', VARS, 'f.yaml');
  assert.equal(problems, []);
  assert.is(text, 'cmd: echo ${HOME} and todo\nother: ${NOT_A_VAR}\n');
});

interp('$VAR without braces and a lone $ are left alone', () => {
  const { text, problems } = interpolate('a: $NAMESPACE costs $5\n', VARS, 'f.yaml');
  assert.equal(problems, []);
  assert.is(text, 'a: $NAMESPACE costs $5\n');
});

interp('a malformed placeholder is reported', () => {
  const { problems } = interpolate('a: ${namespace}\nb: ${}\n', VARS, 'f.yaml');
  assert.equal(problems.map((p) => [p.line, p.key]), [[1, '${namespace}'], [2, '${}']]);
  for (const p of problems) assert.match(p.message, 'not a valid placeholder');
});

interp('an unclosed placeholder is reported instead of passing through as text', () => {
  const { text, problems } = interpolate('a: ok\nimage: ${BACKEND_IMAGE\nc: ${NAMESPACE} and ${DOMAIN\n', VARS, 'f.yaml');
  assert.equal(problems.map((p) => [p.line, p.key]), [[2, '${BACKEND_IMAGE'], [3, '${DOMAIN']]);
  for (const p of problems) assert.match(p.message, 'not closed');
  assert.is(text.split('\n')[2], 'c: todo and ${DOMAIN', 'the closed one on the same line is still filled');
});

interp('a value spanning several lines is refused (it would shift or corrupt the YAML)', () => {
  const { problems } = interpolate('a: ok\nb: ${MULTI}\n', { MULTI: 'one\ntwo' }, 'f.yaml');
  assert.is(problems.length, 1);
  assert.is(problems[0].line, 2);
  assert.is(problems[0].key, '${MULTI}');
  assert.match(problems[0].message, 'spanning several lines');
  assert.is(interpolate('b: ${CR}\n', { CR: 'one\rtwo' }, 'f.yaml').problems.length, 1);
});

interp.run();

// ---------------------------------------------------------------------------------------------
const render = suite('manifests: rendering text');

render('interpolated values are typed by YAML afterwards (REPLICAS becomes a number)', () => {
  const { rendered, problems } = renderText('apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: backend\nspec:\n  replicas: ${REPLICAS}\n', VARS, 'd.yaml');
  assert.equal(problems, []);
  assert.is(rendered.objects[0].object.spec.replicas, 2);
});

render('a YAML syntax error is reported with file and line', () => {
  const cases: Array<[string, number, string]> = [
    [`${ns('x')} bad: indentation\n`, 5, 'same column'],
    ['apiVersion: v1\nkind: Namespace\nmetadata:\n\tname: x\n', 4, 'Tabs'],
    ['apiVersion: v1\nkind: Namespace\nkind: Service\nmetadata:\n  name: x\n', 3, 'unique'],
  ];
  for (const [text, line, words] of cases) {
    const { rendered, problems } = renderText(text, VARS, 'manifests/broken.yaml');
    assert.is(problems.length, 1, text);
    assert.is(problems[0].file, 'manifests/broken.yaml');
    assert.is(problems[0].line, line, text);
    assert.is(problems[0].key, 'YAML');
    assert.match(problems[0].message, words);
    assert.equal(rendered.objects, []);
  }
});

render('documents missing apiVersion, kind or metadata.name are reported, each with its line', () => {
  const text = [
    'kind: Namespace\nmetadata:\n  name: a', // line 1: no apiVersion
    'apiVersion: v1\nmetadata:\n  name: b', // line 5: no kind
    'apiVersion: v1\nkind: Service\nmetadata: {}', // line 9: no metadata.name
    'apiVersion: v1\nkind: ConfigMap', // line 13: no metadata at all
    'apiVersion: ""\nkind: Secret\nmetadata:\n  name: ""', // line 16: both empty
  ].join('\n---\n');
  const { rendered, problems } = renderText(`${text}\n`, VARS, 'm.yaml');
  assert.equal(rendered.objects, []);
  assert.equal(
    problems.map((p) => [p.line, p.key, p.message]),
    [
      [1, 'Namespace document', 'lacks apiVersion.'],
      [5, 'document', 'lacks kind.'],
      [9, 'Service document', 'lacks metadata.name.'],
      [13, 'ConfigMap document', 'lacks metadata.name.'],
      [16, 'Secret document', 'lacks apiVersion, metadata.name.'],
    ],
  );
  for (const p of problems) assert.is(p.file, 'm.yaml');
});

render('a document that is not a mapping is refused', () => {
  for (const text of ['just a string\n', '- a\n- b\n', '42\n']) {
    const { problems } = renderText(text, VARS, 'm.yaml');
    assert.is(problems.length, 1, text);
    assert.match(problems[0].message, 'not a mapping');
  }
});

render('empty and comment-only documents are skipped', () => {
  const { rendered, problems } = renderText(`---\n---\n# only a comment\n---\n${ns('a')}---\n\n---\n`, VARS, 'm.yaml');
  assert.equal(problems, []);
  assert.equal(rendered.objects.map((o) => o.object.metadata.name), ['a']);
  assert.equal(renderText('', VARS, 'empty.yaml'), { rendered: { objects: [], included: true }, problems: [] });
});

render('later documents of a multi-document file carry their own line numbers', () => {
  const text = `# header comment\n${ns('a')}---\n# about b\n${ns('b')}---\n\n\n${ns('c')}`;
  const { rendered, problems } = renderText(text, VARS, 'multi.yaml');
  assert.equal(problems, []);
  assert.equal(rendered.objects.map((o) => [o.object.metadata.name, o.file, o.line]), [['a', 'multi.yaml', 2], ['b', 'multi.yaml', 8], ['c', 'multi.yaml', 15]]);
  // The line points at the document's first key.
  const lines = text.split('\n');
  for (const o of rendered.objects) assert.is(lines[o.line - 1], 'apiVersion: v1');
});

render('errors in a later document name that document\'s line, and good documents still render', () => {
  const text = `${ns('a')}---\n${ns('${NAMESPACE}')}---\napiVersion: v1\nkind: Namespace\nmetadata:\n  name: \${NOPE}\n`;
  const { rendered, problems } = renderText(text, VARS, 'multi.yaml');
  assert.equal(problems.map((p) => [p.line, p.key]), [[14, '${NOPE}']]);
  assert.equal(rendered.objects.map((o) => o.object.metadata.name).slice(0, 2), ['a', 'todo']);
});

render('`# todo-deploy: when VAR` on the first line renders the file only when VAR is "true"', () => {
  const text = `# todo-deploy: when EMBEDDED_POSTGRES\n${ns('postgres')}`;
  const on = renderText(text, { ...VARS, EMBEDDED_POSTGRES: 'true' }, 'pg.yaml');
  assert.is(on.rendered.included, true);
  assert.equal(on.rendered.objects.map((o) => [o.object.metadata.name, o.line]), [['postgres', 2]]);
  const off = renderText(text, { ...VARS, EMBEDDED_POSTGRES: 'false' }, 'pg.yaml');
  assert.equal(off, { rendered: { objects: [], included: false }, problems: [] });
  // An excluded file is not interpolated, so its placeholders need not resolve.
  assert.equal(renderText(`${text}  labels: {x: \${UNKNOWN}}\n`, { ...VARS, EMBEDDED_POSTGRES: 'false' }, 'pg.yaml').problems, []);
});

render('a `when` condition naming an unknown variable is an error on line 1', () => {
  const { problems } = renderText(`# todo-deploy: when EMBEDED_POSTGRES\n${ns('x')}`, VARS, 'pg.yaml');
  assert.equal(problems.map((p) => [p.file, p.line, p.key]), [['pg.yaml', 1, 'EMBEDED_POSTGRES']]);
  assert.match(problems[0].fix, 'EMBEDDED_POSTGRES');
});

render('the condition counts only on the first line', () => {
  const { rendered } = renderText(`# intro\n# todo-deploy: when EMBEDDED_POSTGRES\n${ns('x')}`, { ...VARS, EMBEDDED_POSTGRES: 'false' }, 'pg.yaml');
  assert.is(rendered.included, true);
  assert.is(rendered.objects.length, 1);
});

// Nine aliases, each nine of the one before: 9^7 strings once expanded, a few hundred bytes written.
const BILLION_LAUGHS = [
  'apiVersion: v1',
  'kind: ConfigMap',
  'metadata: {name: lol}',
  'data:',
  '  a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]',
  ...['b', 'c', 'd', 'e', 'f', 'g'].map((n, i) => `  ${n}: &${n} [${Array(9).fill(`*${'abcdef'[i]}`).join(', ')}]`),
  '',
].join('\n');

render('a YAML alias bomb is refused naming file and line, without expanding it', () => {
  const { rendered, problems } = renderText(`${ns('todo')}---\n${BILLION_LAUGHS}`, VARS, 'manifests/lol.yaml');
  assert.equal(rendered.objects.map((o) => o.object.metadata.name), ['todo']);
  assert.equal(problems.map((p) => `${p.file}:${p.line} ${p.key}`), ['manifests/lol.yaml:6 YAML']);
  assert.match(problems[0]!.message, 'billion laughs');
  assert.match(problems[0]!.fix, 'fewer nested aliases');
});

render('a few aliases used as intended are expanded', () => {
  const { rendered, problems } = renderText('apiVersion: v1\nkind: Service\nmetadata: {name: s, labels: &l {app: todo}}\nspec: {selector: *l}\n', VARS, 'a.yaml');
  assert.equal(problems, []);
  assert.equal(rendered.objects[0]!.object.spec.selector, { app: 'todo' });
  const dangling = renderText('apiVersion: v1\nkind: Service\nmetadata: {name: s}\nspec: {selector: *nowhere}\n', VARS, 'b.yaml').problems;
  assert.equal(dangling.map((p) => `${p.file}:${p.line} ${p.key}`), ['b.yaml:1 YAML'], JSON.stringify(dangling));
  assert.not.match(dangling[0]!.message, 'billion');
});

render('a kind: List is read as its items, as kubectl reads it, each with its own line', () => {
  const text = ['apiVersion: v1', 'kind: List', 'items:', '  - apiVersion: v1', '    kind: ServiceAccount', '    metadata: {name: one}', '  - apiVersion: v1', '    kind: ServiceAccount', '    metadata:', '      name: two', ''].join('\n');
  const { rendered, problems } = renderText(`${ns('todo')}---\n${text}`, VARS, 'list.yaml');
  assert.equal(problems, []);
  assert.equal(rendered.objects.map((o) => `${o.object.kind}/${o.object.metadata.name}@${o.line}`), ['Namespace/todo@1', 'ServiceAccount/one@9', 'ServiceAccount/two@12']);
});

render('a typed list (ConfigMapList) is read the same way; an object whose kind ends in List is not a list', () => {
  const typed = renderText('apiVersion: v1\nkind: ConfigMapList\nitems:\n- {apiVersion: v1, kind: ConfigMap, metadata: {name: a}}\n', VARS, 'l.yaml');
  assert.equal(typed.rendered.objects.map((o) => o.object.metadata.name), ['a']);
  const named = renderText('apiVersion: example.com/v1\nkind: AllowList\nmetadata: {name: ips}\nitems: [10.0.0.1]\n', VARS, 'l.yaml');
  assert.equal(named.rendered.objects.map((o) => o.object.kind), ['AllowList']);
});

render('a List\'s bad items are reported at their own line; a list inside a list is refused', () => {
  const text = ['apiVersion: v1', 'kind: List', 'items:', '- apiVersion: v1', '  kind: ServiceAccount', '  metadata: {}', '- apiVersion: v1', '  kind: List', '  items: []', '- apiVersion: v1', '  kind: ServiceAccount', '  metadata: {name: fine}', ''].join('\n');
  const { rendered, problems } = renderText(text, VARS, 'list.yaml');
  assert.equal(problems.map((p) => `${p.line} ${p.key}`), ['4 ServiceAccount document', '7 List item']);
  assert.match(problems[1]!.message, 'list inside a list');
  assert.equal(rendered.objects.map((o) => o.object.metadata.name), ['fine']);
});

render.run();

// ---------------------------------------------------------------------------------------------
const folder = suite('manifests: a folder of files');
const dirs: string[] = [];

function manifestDir(files: Record<string, string>): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'todo-deploy-manifests-'));
  dirs.push(dir);
  for (const [rel, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
    writeFileSync(path.join(dir, rel), text);
  }
  return dir;
}

folder.after(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

folder('the minimal fixture set renders in file order with values filled in', () => {
  const objects = renderManifests(MINIMAL, VARS, path.dirname(MINIMAL));
  assert.equal(objects.map((o) => `${o.object.kind}/${o.object.metadata.name}`), [
    'Namespace/todo',
    'ServiceAccount/backend-sa',
    'Role/backend',
    'RoleBinding/backend',
    'NetworkPolicy/default-deny',
    'Service/backend-svc',
    'Deployment/backend',
    'Ingress/todo-ingress',
  ]);
  assert.equal([...new Set(objects.map((o) => o.file))], [
    'minimal/00-namespace.yaml',
    'minimal/10-serviceaccount.yaml',
    'minimal/20-rbac.yaml',
    'minimal/30-networkpolicy.yaml',
    'minimal/40-service.yaml',
    'minimal/50-deployment.yaml',
    'minimal/60-ingress.yaml',
  ]);
  assert.is(objects[0].line, 3, 'after the two comment lines');
  for (const o of objects) {
    const lines = readFileSync(path.join(MINIMAL, path.basename(o.file)), 'utf8').split('\n');
    assert.match(lines[o.line - 1], /^apiVersion: /, `${o.file}:${o.line}`);
  }
  assert.ok(objects[3].line > 10, 'the RoleBinding, second document of its file, has its own line');
  const deployment = objects[6].object;
  assert.is(deployment.metadata.namespace, 'todo');
  assert.is(deployment.spec.replicas, 2);
  assert.is(deployment.spec.template.spec.containers[0].image, 'todo-backend:3f9a1c2b7d4e');
  assert.is(deployment.spec.template.spec.containers[0].imagePullPolicy, 'Never');
  assert.is(objects[7].object.spec.rules[0].host, 'todo.local');
});

folder('only top-level .yaml and .yml files are read, sorted by name', () => {
  const dir = manifestDir({ 'b.yml': ns('b'), 'a.yaml': ns('a'), 'notes.md': 'not yaml', 'crds/c.yaml': ns('c'), 'z.yaml.bak': ns('z') });
  assert.equal(manifestFiles(dir).map((f) => path.basename(f)), ['a.yaml', 'b.yml']);
  assert.equal(renderManifests(dir, VARS, dir).map((o) => o.object.metadata.name), ['a', 'b']);
});

folder('problems of every file are reported together in one error with file and line', () => {
  const dir = manifestDir({
    'a.yaml': `${ns('ok')}---\napiVersion: v1\nkind: Service\nmetadata:\n  name: \${NOPE}\n`,
    'b.yaml': `${ns('x')} bad: indentation\n`,
    'c.yaml': 'apiVersion: v1\nkind: Service\nmetadata: {}\n',
  });
  const err = usageError(() => renderManifests(dir, VARS, path.dirname(dir)));
  assert.is(err.exitCode, 2);
  const base = path.basename(dir);
  const lines = err.message.split('\n');
  assert.match(lines[0], 'The manifests have 3 problem(s); nothing was sent to a cluster');
  assert.match(lines[1], `${base}/a.yaml:9 \${NOPE}: names an unknown variable.`);
  assert.match(lines[2], `${base}/b.yaml:5 YAML: syntax error`);
  assert.match(lines[3], `${base}/c.yaml:1 Service document: lacks metadata.name.`);
  assert.is(lines.length, 4);
});

folder('a file over the size limit is refused before it is read, naming file, size and MANIFEST_MAX_BYTES', () => {
  const big = `${ns('big')}# ${'x'.repeat(2000)}\n`;
  const dir = manifestDir({ 'a.yaml': ns('small'), 'b.yaml': big, 'c.yaml': 'apiVersion: v1\nkind: Service\n' });
  const err = usageError(() => renderManifests(dir, VARS, path.dirname(dir), 1024));
  const base = path.basename(dir);
  const lines = err.message.split('\n');
  assert.match(lines[0], 'The manifests have 2 problem(s)');
  assert.match(lines[1], `${base}/b.yaml size: the file is ${Buffer.byteLength(big)} bytes`);
  assert.match(lines[1], 'over the limit of 1024 bytes');
  assert.match(lines[1], 'MANIFEST_MAX_BYTES=<bytes>');
  assert.match(lines[2], `${base}/c.yaml:1 Service document: lacks metadata.name`, 'the other files are still checked');
  const raised = usageError(() => renderManifests(dir, VARS, dir, Buffer.byteLength(big)));
  assert.match(raised.message, 'The manifests have 1 problem(s)', 'at exactly its size the file is read');
});

folder('MANIFEST_MAX_BYTES sets the limit (1 MiB by default); a value that is no byte count is refused', () => {
  assert.is(manifestMaxBytes({}), DEFAULT_MANIFEST_MAX_BYTES);
  assert.is(DEFAULT_MANIFEST_MAX_BYTES, 1048576);
  assert.is(manifestMaxBytes({ MANIFEST_MAX_BYTES: ' 2097152 ' }), 2097152);
  for (const bad of ['2MiB', '0', '-1', '1.5']) {
    const err = usageError(() => manifestMaxBytes({ MANIFEST_MAX_BYTES: bad }));
    assert.match(err.message, `MANIFEST_MAX_BYTES is "${bad}"`);
    assert.match(err.message, 'Fix: ');
  }
});

folder('a missing manifests folder is a usage error naming it', () => {
  const missing = path.join(tmpdir(), 'todo-deploy-no-such-folder-for-tests');
  const err = usageError(() => renderManifests(missing, VARS));
  assert.match(err.message, `The manifests folder ${missing} does not exist`);
  assert.match(err.message, '--manifests');
});

folder.run();

// ---------------------------------------------------------------------------------------------
const prepare = suite('manifests: prepareForApply');

const deployment = (): KubeObject => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'backend', labels: { 'app.kubernetes.io/name': 'backend' } },
  spec: { replicas: 1 },
});

prepare('adds the managed-by and part-of labels, keeping the object\'s own', () => {
  const out = prepareForApply(deployment(), 'todo');
  assert.equal(out.metadata.labels, { 'app.kubernetes.io/name': 'backend', 'app.kubernetes.io/managed-by': 'todo-deploy', 'app.kubernetes.io/part-of': 'todo' });
  assert.equal(MANAGED_LABELS, { 'app.kubernetes.io/managed-by': 'todo-deploy', 'app.kubernetes.io/part-of': 'todo' });
  assert.is(MANAGED_SELECTOR, 'app.kubernetes.io/managed-by=todo-deploy,app.kubernetes.io/part-of=todo');
});

prepare('our labels win over a manifest that sets them differently', () => {
  const o = deployment();
  o.metadata.labels!['app.kubernetes.io/managed-by'] = 'helm';
  assert.is(prepareForApply(o, 'todo').metadata.labels!['app.kubernetes.io/managed-by'], 'todo-deploy');
});

prepare('sets the namespace when given and absent, keeps an explicit one, leaves cluster-scoped objects alone', () => {
  assert.is(prepareForApply(deployment(), 'todo').metadata.namespace, 'todo');
  const explicit = deployment();
  explicit.metadata.namespace = 'elsewhere';
  assert.is(prepareForApply(explicit, 'todo').metadata.namespace, 'elsewhere');
  const namespace: KubeObject = { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'todo' } };
  const out = prepareForApply(namespace, undefined);
  assert.is(out.metadata.namespace, undefined);
  assert.ok('labels' in out.metadata);
});

prepare('does not change the object it is given', () => {
  const original = deployment();
  const snapshot = structuredClone(original);
  const out = prepareForApply(original, 'todo');
  assert.equal(original, snapshot);
  assert.is.not(out.metadata, original.metadata);
});

prepare.run();

// ---------------------------------------------------------------------------------------------
const cache = suite('render cache: a file rendered before is read back, not parsed again');

/** Runs `fn` with XDG_CACHE_HOME (and RENDER_CACHE) set, restoring both; returns the entries written. */
function withCache(fn: (dir: string) => void, renderCache?: string): string[] {
  const home = mkdtempSync(path.join(tmpdir(), 'render-cache-'));
  const saved = { xdg: process.env.XDG_CACHE_HOME, rc: process.env.RENDER_CACHE };
  process.env.XDG_CACHE_HOME = home;
  if (renderCache === undefined) delete process.env.RENDER_CACHE;
  else process.env.RENDER_CACHE = renderCache;
  try {
    fn(home);
    const dir = path.join(home, 'todo-deploy', 'render');
    return existsSync(dir) ? readdirSync(dir) : [];
  } finally {
    if (saved.xdg === undefined) delete process.env.XDG_CACHE_HOME;
    else process.env.XDG_CACHE_HOME = saved.xdg;
    if (saved.rc === undefined) delete process.env.RENDER_CACHE;
    else process.env.RENDER_CACHE = saved.rc;
    rmSync(home, { recursive: true, force: true });
  }
}

const DEPLOYMENT = 'apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: backend\nspec:\n  replicas: ${REPLICAS}\n---\n' + ns('${NAMESPACE}');

cache('the second render of the same text comes from the entry, equal to a fresh parse, with its own file name', () => {
  const entries = withCache((home) => {
    const first = renderCached(DEPLOYMENT, VARS, 'a.yaml');
    const entry = readdirSync(path.join(home, 'todo-deploy', 'render'));
    assert.is(entry.length, 1);
    // Tamper with the entry: the next render must come from it (so it was read, not parsed again).
    const file = path.join(home, 'todo-deploy', 'render', entry[0]!);
    writeFileSync(file, readFileSync(file, 'utf8').replace('"backend"', '"from-the-cache"'));
    const second = renderCached(DEPLOYMENT, VARS, 'copy/b.yaml');
    assert.is(second.rendered.objects[0]!.object.metadata.name, 'from-the-cache');
    assert.equal(second.rendered.objects.map((o) => [o.file, o.line]), [['copy/b.yaml', 1], ['copy/b.yaml', 8]]);
    assert.equal(first, renderText(DEPLOYMENT, VARS, 'a.yaml'));
    // Other variables are another entry.
    renderCached(DEPLOYMENT, { ...VARS, REPLICAS: '3' }, 'a.yaml');
  });
  assert.is(entries.length, 2);
});

cache('nothing is kept of a file with problems, with a Secret, or with RENDER_CACHE=off', () => {
  const secret = 'apiVersion: v1\nkind: Secret\nmetadata:\n  name: s\nstringData:\n  password: hunter2\n';
  assert.equal(withCache(() => {
    assert.ok(renderCached('kind: [\n', VARS, 'broken.yaml').problems.length > 0);
    assert.is(renderCached(secret, VARS, 'secret.yaml').rendered.objects.length, 1);
  }), []);
  assert.equal(withCache(() => void renderCached(DEPLOYMENT, VARS, 'a.yaml'), 'off'), []);
});

cache.run();

// Reports: text for people, JSON, SARIF 2.1.0 for code scanning; and the field-level lines.
import { suite } from '../support/suite.ts';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { RULES, exceptionAnnotation, formatJson, formatSarif, formatText, refineLines } from '../../lib/policy/index.ts';
import { fieldPathFromMessage } from '../../lib/policy/server-dry-run.ts';
import { BASE_FILE, FixtureSet, run } from '../fixtures/policy/load.ts';

const test = suite('policy reports');
const baseText = readFileSync(fileURLToPath(new URL('../fixtures/policy/base.yaml', import.meta.url)), 'utf8');
const read = (file: string) => (file === BASE_FILE ? baseText : undefined);
const lineOfText = (needle: string, from = 0) => baseText.split('\n').findIndex((l, i) => i >= from && l.includes(needle)) + 1;

/** web: writable root fs, excepted resources gap on api, ingress class wrong. */
function sample() {
  const set = new FixtureSet();
  set.container('Deployment', 'web').securityContext.readOnlyRootFilesystem = false;
  set.get('Ingress', 'shop-ingress').spec.ingressClassName = 'traefik';
  delete set.container('Deployment', 'api').livenessProbe;
  const api = set.get('Deployment', 'api');
  api.metadata.annotations = { [exceptionAnnotation('component/probes')]: 'liveness comes from the sidecar' };
  const r = run(set);
  return { ...r, violations: refineLines(r.violations, read), exceptions: refineLines(r.exceptions, read) };
}

test('lines point at the offending field, not the document start', () => {
  const r = sample();
  const ro = r.violations.find((v) => v.ruleId === 'pod/read-only-root-fs')!;
  const webDoc = lineOfText('name: web', lineOfText('kind: Deployment'));
  assert.is(ro.line, lineOfText('readOnlyRootFilesystem', webDoc));
  const cls = r.violations.find((v) => v.ruleId === 'ingress/class-nginx')!;
  assert.is(cls.line, lineOfText('ingressClassName'));
});

test('a path that does not exist in the file leaves the deepest line found', () => {
  const [v] = refineLines([{ ruleId: 'x/y', object: 'o', file: BASE_FILE, line: lineOfText('kind: Ingress') - 1, message: 'm', fix: 'f', security: false, path: ['spec', 'nothing', 'here'] }], read);
  assert.is(v!.line, lineOfText('spec:', lineOfText('kind: Ingress')));
});

test('an object from a kind: List is pointed at inside its item', () => {
  const list = ['apiVersion: v1', 'kind: List', 'items:', '  - apiVersion: v1', '    kind: Service', '    metadata: {name: a}', '  - apiVersion: v1', '    kind: Service', '    metadata: {name: b}', '    spec:', '      ports: []', ''].join('\n');
  const [v] = refineLines([{ ruleId: 'x/y', object: 'o', file: 'list.yaml', line: 7, message: 'm', fix: 'f', security: false, path: ['spec', 'ports'] }], (f) => (f === 'list.yaml' ? list : undefined));
  assert.is(v!.line, 11);
});

test('an unreadable file keeps the document line', () => {
  const [v] = refineLines([{ ruleId: 'x/y', object: 'o', file: 'gone.yaml', line: 7, message: 'm', fix: 'f', security: false, path: ['spec'] }], read);
  assert.is(v!.line, 7);
});

test('text names rule, object, file:line, message, fix, the security flag and excepted reasons', () => {
  const out = formatText(sample(), 'dev');
  assert.match(out, /VIOLATION pod\/read-only-root-fs  Deployment\/shop\/web  manifests\/base\.yaml:\d+/);
  assert.match(out, /container "web" has a writable root filesystem\./);
  assert.match(out, /fix: Set securityContext\.readOnlyRootFilesystem: true/);
  assert.match(out, /EXCEPTION component\/probes  Deployment\/shop\/api/);
  assert.match(out, /reason: liveness comes from the sidecar/);
  assert.match(out.split('\n').at(-1)!, /^policy \(dev\): 2 violations, 1 excepted, \d+ rules over \d+ objects\.$/);
  const clean = formatText(run(new FixtureSet()), 'prod');
  assert.match(clean, /^policy \(prod\): passed, \d+ rules over 18 objects\.$/);
});

test('a security violation is marked in text', () => {
  const set = new FixtureSet();
  set.get('Configuration', 'dapr-config').spec.mtls.enabled = false;
  assert.match(formatText(run(set), 'dev'), /VIOLATION dapr-configuration\/mtls-enabled \[security\]  Configuration\/shop\/dapr-config/);
});

test('json carries the same facts, with the field as text', () => {
  const out = JSON.parse(formatJson(sample(), 'dev'));
  assert.is(out.passed, false);
  assert.equal(out.summary.violations, 2);
  assert.equal(out.summary.exceptions, 1);
  const v = out.violations.find((x: any) => x.ruleId === 'pod/read-only-root-fs');
  assert.is(v.object, 'Deployment/shop/web');
  assert.is(v.file, BASE_FILE);
  assert.is(v.field, 'spec.template.spec.containers[0].securityContext.readOnlyRootFilesystem');
  assert.is(out.exceptions[0].reason, 'liveness comes from the sidecar');
});

test('sarif is a 2.1.0 log with every rule, results at file and line, exceptions suppressed', () => {
  const log = JSON.parse(formatSarif(sample(), 'dev'));
  assert.is(log.version, '2.1.0');
  assert.match(log.$schema, /sarif-2\.1\.0/);
  const run0 = log.runs[0];
  const rules = run0.tool.driver.rules;
  assert.is(rules.length, RULES.length);
  for (const r of rules) {
    assert.ok(r.id && r.shortDescription.text && r.help.text, r.id);
    assert.is(r.defaultConfiguration.level, 'error');
  }
  assert.is(run0.results.length, 3);
  for (const res of run0.results) {
    assert.is(rules[res.ruleIndex].id, res.ruleId);
    const loc = res.locations[0].physicalLocation;
    assert.is(loc.artifactLocation.uri, BASE_FILE);
    assert.ok(Number.isInteger(loc.region.startLine) && loc.region.startLine > 0);
    assert.ok(res.locations[0].logicalLocations[0].fullyQualifiedName.startsWith(res.message.text.split(':')[0]));
  }
  const suppressed = run0.results.filter((r: any) => r.suppressions);
  assert.is(suppressed.length, 1);
  assert.is(suppressed[0].ruleId, 'component/probes');
  assert.equal(suppressed[0].suppressions, [{ kind: 'inSource', justification: 'liveness comes from the sidecar' }]);
  const sec = rules.find((r: any) => r.id === 'pod/run-as-non-root');
  assert.ok(sec.properties.tags.includes('security'));
});

test('sarif turns paths outside the repository into file URIs', () => {
  const log = JSON.parse(formatSarif({ violations: [{ ruleId: 'pod/resources', object: 'Deployment/x/y', file: '/tmp/m/a.yaml', line: 3, message: 'm', fix: 'f', security: false }], exceptions: [], rulesChecked: 1, objectsChecked: 1 }, 'dev'));
  assert.is(log.runs[0].results[0].locations[0].physicalLocation.artifactLocation.uri, 'file:///tmp/m/a.yaml');
});

test('API server validation messages yield the field path', () => {
  assert.equal(fieldPathFromMessage('Ingress.networking.k8s.io "todo-ingress" is invalid: spec.rules[0].http.paths[0].pathType: Unsupported value: "x"'), ['spec', 'rules', 0, 'http', 'paths', 0, 'pathType']);
  assert.equal(fieldPathFromMessage('namespaces "todo" not found'), undefined);
});

test.run();

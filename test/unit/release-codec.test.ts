// The release record in Helm's storage format (lib/release/helm-codec.ts) and the revision
// values and transitions around it (lib/release/record.ts). The same records are read by the
// real helm CLI in the integration suite (release-helm.test.ts); here the format is checked
// field by field against what Helm's Go sources say.
import { suite } from '../support/suite.ts';
import * as assert from 'uvu/assert';
import { gunzipSync, gzipSync } from 'node:zlib';
import {
  decodeRelease,
  encodeRelease,
  releaseFromSecret,
  releaseJson,
  releaseSecret,
  releaseSecretName,
  releaseSelector,
  type HelmChart,
  type HelmRelease,
} from '../../lib/release/helm-codec.ts';
import {
  SECRET_HASH_ANNOTATION,
  SECRET_KEYS_ANNOTATION,
  abandoned,
  finished,
  manifestObjects,
  pendingRollback,
  pendingUpgrade,
  releaseManifest,
  revisionsToPrune,
  rollbackTarget,
  secretWithoutValues,
  superseded,
  uninstallStopped,
  uninstalling,
  UNINSTALLING_DESCRIPTION,
} from '../../lib/release/record.ts';
import type { KubeObject, SourcedObject } from '../../lib/types.ts';

const chart: HelmChart = {
  metadata: { apiVersion: 'v2', name: 'todo-app', version: '0.1.0', appVersion: '0.1.0', type: 'application' },
  lock: null,
  templates: [{ name: 'templates/00-namespace.yaml', data: Buffer.from('kind: Namespace\n').toString('base64') }],
  values: { namespace: 'todo' },
  schema: null,
  files: [],
};

function release(version: number, status: HelmRelease['info']['status'], extra: Partial<HelmRelease> = {}): HelmRelease {
  return {
    name: 'todo-app',
    namespace: 'todo',
    version,
    chart,
    config: { replicaCount: 1 },
    manifest: '---\n# Source: todo-app/templates/00-namespace.yaml\nkind: Namespace\n',
    info: { first_deployed: '2026-01-01T00:00:00.000Z', last_deployed: '2026-01-01T00:00:00.000Z', status, description: 'x' },
    apply_method: 'ssa',
    ...extra,
  };
}

// ---------------------------------------------------------------------------------------------
const codec = suite('release: Helm storage codec');

codec('the Secret is named, typed and labelled as Helm storage driver names them', () => {
  const at = new Date('2026-03-04T05:06:07.890Z');
  const secret = releaseSecret(release(3, 'pending-upgrade'), { createdAt: at });
  assert.is(secret.metadata.name, 'sh.helm.release.v1.todo-app.v3');
  assert.is(releaseSecretName('todo-app', 12), 'sh.helm.release.v1.todo-app.v12');
  assert.is(secret.type, 'helm.sh/release.v1');
  assert.is(secret.metadata.namespace, 'todo');
  assert.equal(secret.metadata.labels, { createdAt: String(Math.floor(at.getTime() / 1000)), name: 'todo-app', owner: 'helm', status: 'pending-upgrade', version: '3' });
  assert.equal(Object.keys(secret.data), ['release']);
  assert.is(releaseSelector('todo-app'), 'name=todo-app,owner=helm');
});

codec('an update writes modifiedAt instead of createdAt, and keeps custom labels but never lets them override Helm labels', () => {
  const secret = releaseSecret(release(2, 'deployed'), { modifiedAt: new Date(1_700_000_000_000) }, { team: 'a', status: 'forged', createdAt: '1' });
  assert.equal(secret.metadata.labels, { team: 'a', modifiedAt: '1700000000', name: 'todo-app', owner: 'helm', status: 'deployed', version: '2' });
});

codec('data.release is base64 (API) of base64 (Helm) of gzip of the JSON', () => {
  const r = release(1, 'deployed');
  const secret = releaseSecret(r, { createdAt: new Date() });
  const helmText = Buffer.from(secret.data.release, 'base64').toString('utf8');
  assert.match(helmText, /^[A-Za-z0-9+/]+=*$/, 'the bytes Helm stores are base64 text');
  const gz = Buffer.from(helmText, 'base64');
  assert.equal([...gz.subarray(0, 3)], [0x1f, 0x8b, 0x08], 'gzip magic');
  const json = JSON.parse(gunzipSync(gz).toString('utf8'));
  assert.is(json.name, 'todo-app');
  assert.is(json.version, 1);
  assert.is(json.info.status, 'deployed');
  assert.is(json.apply_method, 'ssa');
});

codec('JSON field names and omissions follow Go: omitempty fields dropped, chart fields always present', () => {
  const json = JSON.parse(releaseJson(release(1, 'deployed', { config: {} })));
  assert.equal(Object.keys(json), ['name', 'info', 'chart', 'manifest', 'version', 'namespace', 'apply_method'], 'empty config and no hooks are omitted');
  assert.equal(Object.keys(json.info), ['first_deployed', 'last_deployed', 'description', 'status']);
  assert.equal(Object.keys(json.chart), ['metadata', 'lock', 'templates', 'values', 'schema', 'schemamodtime', 'files']);
  assert.is(json.chart.lock, null);
  assert.is(json.chart.schema, null);
  assert.is(json.chart.schemamodtime, '0001-01-01T00:00:00Z', 'a zero time.Time without omitzero');
  const rolled = JSON.parse(releaseJson({ ...release(4, 'deployed'), info: { ...release(4, 'deployed').info, rollback_revision: 1 } }));
  assert.is(rolled.info.rollback_revision, 1);
});

codec('decode reverses encode, and reads an uncompressed payload as Helm does', () => {
  const r = release(5, 'superseded');
  assert.equal(decodeRelease(encodeRelease(r)), JSON.parse(releaseJson(r)));
  const plain = Buffer.from(releaseJson(r)).toString('base64');
  assert.is(decodeRelease(plain).version, 5);
  const stored = releaseFromSecret(releaseSecret(r, { createdAt: new Date() }, { team: 'a' }));
  assert.is(stored.release.info.status, 'superseded');
  assert.equal(stored.labels, { team: 'a' }, 'system labels are filtered out');
  assert.is(stored.secretName, 'sh.helm.release.v1.todo-app.v5');
});

codec('a Secret that is not a release record is refused with its name', () => {
  assert.throws(() => releaseFromSecret({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'todo-secrets' }, type: 'Opaque', data: {} }), /todo-secrets is of type Opaque/);
  const gz = gzipSync(Buffer.from('{}')).toString('base64');
  assert.throws(() => releaseFromSecret({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'x' }, type: 'helm.sh/release.v1', data: {} }), /x has no data.release/);
  assert.ok(gz.length > 0);
});

// ---------------------------------------------------------------------------------------------
const manifest = suite('release: recorded manifest');

const todoSecrets: KubeObject = {
  apiVersion: 'v1',
  kind: 'Secret',
  metadata: { name: 'todo-secrets', namespace: 'todo', labels: { 'app.kubernetes.io/managed-by': 'todo-deploy' } },
  type: 'Opaque',
  data: { 'openai-api-key': Buffer.from('sk-very-secret-value-123').toString('base64'), 'better-auth-secret': Buffer.from('auth-secret-0123456789abcdef0123456789').toString('base64') },
};

manifest('a Secret is recorded by its key names and one hash, never a value in any form', () => {
  const out = secretWithoutValues({ ...todoSecrets, stringData: { extra: 'plain-text-secret-value' } });
  assert.is(out.data, undefined);
  assert.is(out.stringData, undefined);
  assert.is(out.metadata.annotations![SECRET_KEYS_ANNOTATION], 'better-auth-secret,extra,openai-api-key');
  assert.match(out.metadata.annotations![SECRET_HASH_ANNOTATION], /^[0-9a-f]{64}$/);
  const text = releaseManifest([{ object: todoSecrets, file: '(generated from .env)', line: 1 }]);
  for (const leak of ['sk-very-secret-value-123', todoSecrets.data['openai-api-key'], 'auth-secret-0123456789abcdef0123456789']) assert.not.ok(text.includes(leak), 'no value');
});

manifest('the hash changes when a value changes and not when nothing does', () => {
  const hash = (s: KubeObject) => secretWithoutValues(s).metadata.annotations![SECRET_HASH_ANNOTATION];
  const changed = { ...todoSecrets, data: { ...todoSecrets.data, 'openai-api-key': Buffer.from('sk-another').toString('base64') } };
  assert.is(hash(todoSecrets), hash(structuredClone(todoSecrets)));
  assert.is.not(hash(todoSecrets), hash(changed));
});

manifest('the manifest reads as Helm writes it, and parses back to the same objects with their Source', () => {
  const objects: SourcedObject[] = [
    { object: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'todo' } }, file: 'manifests/00-namespace.yaml', line: 1 },
    { object: { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'a-sa', namespace: 'todo' } }, file: 'manifests/10-serviceaccounts.yaml', line: 12 },
  ];
  const text = releaseManifest(objects);
  assert.ok(text.startsWith('---\n# Source: todo-app/templates/00-namespace.yaml\napiVersion: v1\nkind: Namespace\n'), text);
  const back = manifestObjects(text);
  assert.equal(back.map((b) => b.object), objects.map((o) => o.object));
  assert.equal(back.map((b) => b.file), ['todo-app/templates/00-namespace.yaml', 'todo-app/templates/10-serviceaccounts.yaml']);
});

// ---------------------------------------------------------------------------------------------
const transitions = suite('release: revisions and statuses');

const input = (version: number) => ({ namespace: 'todo', version, chart, config: {}, manifest: '', now: new Date('2026-05-05T00:00:00.000Z') });

transitions('the first up is pending-install, later ones pending-upgrade; first_deployed is carried forward', () => {
  const first = pendingUpgrade(input(1), []);
  assert.is(first.info.status, 'pending-install');
  assert.is(first.info.description, 'Initial install underway');
  assert.is(first.info.first_deployed, '2026-05-05T00:00:00.000Z');
  const second = pendingUpgrade(input(2), [release(1, 'deployed')]);
  assert.is(second.info.status, 'pending-upgrade');
  assert.is(second.info.first_deployed, '2026-01-01T00:00:00.000Z');
  assert.is(pendingUpgrade(input(2), [release(1, 'failed')]).info.status, 'pending-install', 'nothing ever deployed: still an install');
});

transitions('a finished run writes deployed or failed with Helm descriptions; interrupted says so', () => {
  const now = new Date('2026-05-05T00:01:00.000Z');
  assert.is(finished(pendingUpgrade(input(1), []), { ok: true }, now).info.description, 'Install complete');
  const up = finished(pendingUpgrade(input(2), [release(1, 'deployed')]), { ok: true }, now);
  assert.equal([up.info.status, up.info.description, up.info.last_deployed], ['deployed', 'Upgrade complete', now.toISOString()]);
  const failed = finished(pendingUpgrade(input(2), [release(1, 'deployed')]), { ok: false, reason: 'Deployment todo/backend: pod backend-1 container backend CrashLoopBackOff\nmore lines' }, now);
  assert.equal([failed.info.status, failed.info.description], ['failed', 'Upgrade "todo-app" failed: Deployment todo/backend: pod backend-1 container backend CrashLoopBackOff']);
  const stopped = finished(pendingUpgrade(input(2), [release(1, 'deployed')]), { ok: false, reason: 'SIGINT', interrupted: true }, now);
  assert.is(stopped.info.description, 'Upgrade "todo-app" interrupted: SIGINT');
  assert.is(superseded(release(1, 'deployed')).info.status, 'superseded');
  assert.match(abandoned(release(3, 'pending-upgrade'), now).info.description!, /abandoned/);
  assert.is(abandoned(release(3, 'pending-upgrade'), now).info.status, 'failed');
});

transitions('down marks the deployed revision uninstalling with Helm\'s words; one that stopped part-way stays uninstalling and says how', () => {
  const now = new Date('2026-05-05T00:02:00.000Z');
  const marked = uninstalling(release(2, 'deployed'), now);
  assert.equal([marked.version, marked.info.status, marked.info.description, marked.info.deleted], [2, 'uninstalling', UNINSTALLING_DESCRIPTION, now.toISOString()]);
  const later = new Date('2026-05-05T00:03:00.000Z');
  const stopped = uninstallStopped(marked, { reason: 'Stopped by SIGTERM. It was at: Stage 3/10 Services.\nmore', interrupted: true }, later);
  assert.is(stopped.info.status, 'uninstalling');
  assert.is(stopped.info.deleted, now.toISOString(), 'the uninstall began when it was marked');
  assert.is(stopped.info.description, 'Uninstall interrupted with the stack partly removed (down again finishes it, up deploys again): Stopped by SIGTERM. It was at: Stage 3/10 Services.');
  assert.match(uninstallStopped(marked, { reason: 'gate timed out', interrupted: false }, later).info.description!, /^Uninstall failed with the stack partly removed/);
  // The next up over it: an upgrade (part of the stack still runs), not a fresh install.
  assert.is(pendingUpgrade(input(3), [release(1, 'superseded'), stopped]).info.status, 'pending-upgrade');
  assert.is(pendingUpgrade(input(2), [stopped]).info.status, 'pending-upgrade');
});

transitions('a rollback copies the target under a new number, pending-rollback then "Rollback to N"', () => {
  const history = [release(1, 'superseded'), release(2, 'superseded'), release(3, 'deployed')];
  const r = pendingRollback(release(1, 'superseded', { manifest: 'one' }), 4, new Date('2026-06-01T00:00:00.000Z'), history);
  assert.equal([r.version, r.info.status, r.info.rollback_revision, r.info.description, r.manifest], [4, 'pending-rollback', 1, 'Rollback to 1', 'one']);
  const done = finished(r, { ok: true }, new Date());
  assert.equal([done.info.status, done.info.description], ['deployed', 'Rollback to 1']);
  assert.is(finished(r, { ok: false, reason: 'x' }, new Date()).info.description, 'Rollback "todo-app" failed: x');
});

transitions('rollback target: the previous deployed revision by default, N when asked; never a failed one', () => {
  const history = [release(1, 'superseded'), release(2, 'failed'), release(3, 'superseded'), release(4, 'deployed')];
  const pick = (to?: number) => {
    const r = rollbackTarget(history, to);
    return 'target' in r ? r.target.version : r.error;
  };
  assert.is(pick(), 3);
  assert.is(pick(1), 1);
  assert.match(String(pick(2)), /revision 2 is failed/);
  assert.match(String(pick(9)), /no revision 9\. Revisions: 1 \(superseded\), 2 \(failed\)/);
  const none = rollbackTarget([release(1, 'deployed')]);
  assert.ok('error' in none && /no earlier deployed revision/.test(none.error));
  const empty = rollbackTarget([]);
  assert.ok('error' in empty && /npm run up first/.test(empty.error));
});

transitions('history is pruned oldest first to the maximum, never the last deployed revision (Helm removeLeastRecent)', () => {
  const history = Array.from({ length: 12 }, (_, i) => release(i + 1, i === 1 ? 'deployed' : i === 11 ? 'failed' : 'superseded'));
  assert.equal(revisionsToPrune(history, 10), [1, 3], 'revision 2 is the deployed one: kept');
  assert.equal(revisionsToPrune(history, 0), [], '0 means no limit, as --history-max 0');
  assert.equal(revisionsToPrune(history.slice(0, 3), 10), []);
});

codec.run();
manifest.run();
transitions.run();

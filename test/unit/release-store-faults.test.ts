// Release records written while the API server goes away (lib/release/store.ts): a create the
// server carried out but whose answer was lost is retried, and the retry's 409 is recognised as
// this run's own record, not another run's. Losing exactly one answer after the write is done
// is not something a real API server can be made to do on cue, so fake-apiserver does it here;
// the real API server restarting during `up` is the integration suite's (release-up.test.ts).
import { suite } from '../support/suite.ts';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { clusterFromKubeConfig } from '../../lib/kube/client.ts';
import { releaseStore } from '../../lib/release/store.ts';
import type { HelmRelease } from '../../lib/release/helm-codec.ts';
import { startFakeApiServer } from '../fixtures/core/fake-apiserver.ts';

const test = suite('release store: writes across a lost answer');

const SECRETS = 'POST /api/v1/namespaces/todo/secrets';

function release(version: number): HelmRelease {
  return {
    name: 'todo-app',
    namespace: 'todo',
    version,
    chart: { metadata: { apiVersion: 'v2', name: 'todo-app', version: '0.1.0', appVersion: '0.1.0', type: 'application' }, lock: null, templates: [], values: {}, schema: null, files: [] },
    config: {},
    manifest: '---\n# Source: todo-app/templates/00-namespace.yaml\nkind: Namespace\n',
    info: { first_deployed: '2026-01-01T00:00:00.000Z', last_deployed: '2026-01-01T00:00:00.000Z', status: 'pending-install', description: 'Initial install underway' },
    apply_method: 'ssa',
  };
}

async function storeAgainst(loseAnswers: { request: string; times: number }[]) {
  const server = await startFakeApiServer({ loseAnswers });
  const dir = mkdtempSync(join(tmpdir(), 'todo-deploy-store-'));
  server.writeKubeconfig(join(dir, 'kubeconfig'));
  const kc = new KubeConfig();
  kc.loadFromFile(join(dir, 'kubeconfig'));
  const store = releaseStore(clusterFromKubeConfig(kc), 'todo', 'todo-app');
  const creates = () => server.requests.filter((r) => `${r.method} ${r.url.split('?')[0]}` === SECRETS).length;
  return { store, creates, close: async () => (await server.close(), rmSync(dir, { recursive: true, force: true })) };
}

test('a create whose answer was lost is retried, and the 409 that follows is this run\'s own record', async () => {
  const { store, creates, close } = await storeAgainst([{ request: SECRETS, times: 1 }]);
  try {
    await store.create(release(1));
    assert.is(creates(), 2, 'sent twice: the lost answer, then the retry');
    assert.equal((await store.history()).map((r) => [r.version, r.info.status]), [[1, 'pending-install']]);
  } finally {
    await close();
  }
});

test('a revision another run recorded first is still refused', async () => {
  const { store, close } = await storeAgainst([]);
  try {
    await store.create(release(1));
    const other = { ...release(1), config: { replicaCount: 2 } };
    const refused = await store.create(other).then(() => undefined, (err: Error) => err);
    assert.ok(refused, 'a second record of revision 1 is refused');
    assert.match(refused!.message, /Revision 1 of todo-app already exists in namespace todo .*another run recorded it meanwhile/);
  } finally {
    await close();
  }
});

test.run();

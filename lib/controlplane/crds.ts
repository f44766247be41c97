// Installs CustomResourceDefinitions (the Dapr ones in manifests/crds/) and waits until the
// API server says each is Established, i.e. its resources can be created.

import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { KubeConfig } from '@kubernetes/client-node';
import { parseAllDocuments } from 'yaml';
import { REPO_ROOT } from '../repo-root.ts';
import { clusterFromKubeConfig } from '../kube/client.ts';
import { requestJson, resourcePath } from '../kube/raw.ts';
import { watchUntil } from '../kube/watch.ts';
import type { KubeObject } from '../types.ts';
import { KINDS } from '../kinds.ts';

export const crdDir = join(REPO_ROOT, 'manifests', 'crds');

/** Every CRD document in the folder's .yaml files, aliases resolved. Throws naming the file on bad YAML. */
export function readCrds(dir = crdDir): KubeObject[] {
  const out: KubeObject[] = [];
  for (const file of readdirSync(dir).filter((f) => /\.ya?ml$/.test(f)).sort()) {
    const path = join(dir, file);
    for (const doc of parseAllDocuments(readFileSync(path, 'utf8'))) {
      if (doc.errors.length > 0) throw new Error(`${path}: ${doc.errors[0].message}`);
      const obj = doc.toJS({ maxAliasCount: -1 }) as KubeObject | null;
      if (!obj) continue;
      if (obj.kind !== 'CustomResourceDefinition') {
        throw new Error(`${path}: expected only CustomResourceDefinition documents, found ${obj.kind} ${obj.metadata?.name}.`);
      }
      out.push(obj);
    }
  }
  return out;
}

const CRD = KINDS.CustomResourceDefinition;

export async function installCrds(kc: KubeConfig, crds: KubeObject[], deadlineMs = 30_000): Promise<void> {
  const cluster = clusterFromKubeConfig(kc);
  // Sent as written (lib/kube/raw.ts): client-node's models drop `x-kubernetes-preserve-unknown-fields`
  // inside a schema, and Dapr's httpendpoints CRD is then refused ("type ... must not be empty").
  for (const crd of crds) {
    const path = `${resourcePath({ kind: CRD.ref })}/${encodeURIComponent(crd.metadata.name)}`;
    await requestJson(cluster, 'PATCH', path, { query: { fieldManager: 'todo-deploy-controlplane', force: 'true' }, body: crd, contentType: 'application/apply-patch+yaml' });
  }
  const names = crds.map((c) => c.metadata.name);
  const notEstablished = (items: KubeObject[]) => names.filter((n) => !CRD.status(items.find((i) => i.metadata.name === n)).done);
  await watchUntil(cluster, { kind: CRD.ref }, (items) => ({ done: notEstablished(items).length === 0 }), {
    deadline: Date.now() + deadlineMs,
    goal: `CRDs ${names.join(', ')} to be Established`,
    explain: (items) => `Not established: ${notEstablished(items).join(', ')}.`,
  });
}

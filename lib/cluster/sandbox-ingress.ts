// The sandbox's ingress controller on a real node: Traefik, built here (build group traefik),
// serving IngressClass nginx with its kubernetesIngressNGINX provider (why Traefik and not
// ingress-nginx: lib/controlplane/build/README.md). `up` deploys it the way the kind provider
// deploys ingress-nginx: the image is imported into each node's containerd that lacks it
// (as `kind load` would), the objects of sandbox-ingress.yaml are applied in order, and the
// Deployment is waited for. The Ingress then gets its address from Traefik, which publishes
// the ClusterIP of its Service. With simulated pods the ingress stand-in stays
// (lib/controlplane/ingress-stand-in.ts): nothing could run Traefik there.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from '../repo-root.ts';
import { importImages, nodeImages } from '../controlplane/node/index.ts';
import { nodeBinaries } from '../controlplane/node/binaries.ts';
import { readVersions } from '../controlplane/versions.ts';
import { apiMessage, applyObject } from '../kube/apply.ts';
import type { Cluster } from '../kube/client.ts';
import { DeployError } from '../errors.ts';
import type { KubeObject } from '../types.ts';
import { TRAEFIK, waitForIngressController } from './ingress.ts';
import { manifestObjects } from './kind.ts';
import type { ClusterContext } from './provider.ts';

export const TRAEFIK_MANIFEST = join(REPO_ROOT, 'lib', 'cluster', 'sandbox-ingress.yaml');

/** The controller's objects, in the file's order, running `image`. Pure but for reading the file. */
export function traefikObjects(image: string, file = TRAEFIK_MANIFEST): KubeObject[] {
  const text = readFileSync(file, 'utf8').replaceAll('${TRAEFIK_IMAGE}', image);
  return manifestObjects(text, file);
}

/** What a node needs of it: the containerd socket (the running plane's node records). */
export interface NodeSocket {
  containerdSocket: string;
}

/**
 * Imports Traefik's image into each node that lacks it (the scheduler may put its pod on any
 * of them, and it is never pulled), applies the controller's objects and waits until its
 * Deployment is available. Returns the line for the task tree.
 */
export async function deployTraefik(cluster: Cluster, ctx: ClusterContext, nodes: readonly NodeSocket[]): Promise<string> {
  const { ctr, images } = nodeBinaries();
  const image = images.traefik;
  const lacking = nodes.filter((node) => !nodeImages(node, ctr).includes(image.ref));
  if (lacking.length) ctx.log(`real node: importing ${image.ref} (${image.archive})${nodes.length > 1 ? ` into ${lacking.length} of ${nodes.length} nodes` : ''}`);
  for (const node of lacking) importImages(node, ctr, [image.archive]);
  const objects = traefikObjects(image.ref);
  for (const object of objects) {
    try {
      await applyObject(cluster, object);
    } catch (err) {
      throw new DeployError(`Applying ${object.kind} ${object.metadata?.name} of the sandbox's ingress controller (${TRAEFIK_MANIFEST}) failed: ${apiMessage(err)}`);
    }
  }
  const where = `-n ${TRAEFIK.namespace}`;
  await waitForIngressController(
    cluster,
    ctx,
    `check Traefik's pod: \`kubectl ${where} get pods\`, \`kubectl ${where} logs deploy/${TRAEFIK.deployment}\` (the image ${image.ref} must be in the node: \`bash lib/controlplane/build/build.sh traefik\`).`,
    TRAEFIK,
  );
  return `Ingress controller: Traefik v${readVersions().traefik} (built here) serving IngressClass nginx, available (${objects.length} objects applied)`;
}

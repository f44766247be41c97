// The kind provider: a cluster (KIND_CLUSTER, default "todo") created only when missing, its
// control-plane node labelled ingress-ready=true with ports 80 and 443 mapped to the host;
// ingress-nginx from its pinned kind manifest, applied with server-side apply and waited for;
// images loaded with `kind load docker-image`. kind names the kubeconfig context kind-<name>.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { parseAllDocuments, stringify } from 'yaml';
import { DeployError, UsageError } from '../errors.ts';
import { applyObject, apiMessage } from '../kube/apply.ts';
import type { Cluster } from '../kube/client.ts';
import type { ImageRefs, KubeObject } from '../types.ts';
import { ingressControllerReady, waitForIngressController } from './ingress.ts';
import type { ClusterAddress, ClusterContext, ClusterProvider, ClusterTarget } from './provider.ts';
import { forgetCreated, recordCreated, wasCreated } from './record.ts';
import { INSTALL, runTool } from './tools.ts';
import { INGRESS_NGINX_KIND_MANIFEST, INGRESS_NGINX_VERSION } from './versions.ts';

const NAME = /^[a-z0-9]([-a-z0-9]{0,30}[a-z0-9])?$/;

/** The cluster name from KIND_CLUSTER (default todo), checked. Pure. */
export function kindClusterName(settings: ClusterContext['settings']): string {
  const name = settings.KIND_CLUSTER?.trim() || 'todo';
  if (!NAME.test(name)) {
    throw new UsageError(`KIND_CLUSTER "${name}" is not a valid kind cluster name. Fix: use lowercase letters, digits and hyphens, at most 32 characters (for example "todo").`);
  }
  return name;
}

export const kindContext = (name: string) => `kind-${name}`;

/** The first kind release whose clusters enforce NetworkPolicies (kindnet's kube-network-policies). */
export const KIND_ENFORCES_FROM = '0.24.0';

/** The release in `kind version` output ("kind v0.30.0 go1.24.6 linux/amd64" -> 0.30.0). Pure. */
export function parseKindVersion(stdout: string): string | undefined {
  return /\bv?(\d+\.\d+\.\d+)/.exec(stdout)?.[1];
}

/** a >= b for x.y.z releases. Pure. */
export function atLeast(a: string, b: string): boolean {
  const [x, y] = [a, b].map((v) => v.split('.').map(Number));
  for (let i = 0; i < 3; i++) if (x![i]! !== y![i]!) return x![i]! > y![i]!;
  return true;
}

/**
 * kind's cluster config: one control-plane node that the kind manifest of ingress-nginx can
 * run on (label ingress-ready=true, set through kubeadm's node registration) and whose ports
 * 80 and 443 are the host's; NetworkPolicies enforced (kind >= v0.24.0 runs
 * kube-network-policies beside kindnet unless this is true: said here so nobody's default
 * turns it off). Pure.
 */
export function kindConfig(): Record<string, unknown> {
  return {
    kind: 'Cluster',
    apiVersion: 'kind.x-k8s.io/v1alpha4',
    networking: { disableNetworkPolicies: false },
    nodes: [
      {
        role: 'control-plane',
        kubeadmConfigPatches: [stringify({ kind: 'InitConfiguration', nodeRegistration: { kubeletExtraArgs: { 'node-labels': 'ingress-ready=true' } } })],
        extraPortMappings: [
          { containerPort: 80, hostPort: 80, protocol: 'TCP' },
          { containerPort: 443, hostPort: 443, protocol: 'TCP' },
        ],
      },
    ],
  };
}

/** `kind get clusters` prints one name per line (and "No kind clusters found." on stderr). Pure. */
export function parseKindClusters(stdout: string): string[] {
  return stdout.split('\n').map((l) => l.trim()).filter((l) => l !== '' && !/^No kind clusters found/.test(l));
}

async function clusters(ctx: ClusterContext): Promise<string[]> {
  const out = await runTool('kind', ['get', 'clusters'], { redact: ctx.redact, signal: ctx.signal, what: 'Listing kind clusters', fix: 'make sure Docker runs (`docker info`).' });
  return parseKindClusters(out.stdout);
}

function hasContext(name: string): boolean {
  const kc = new KubeConfig();
  try {
    kc.loadFromDefault();
  } catch {
    return false;
  }
  return kc.getContexts().some((c) => c.name === name);
}

/** The ingress-nginx manifest: from a URL (the pinned one by default) or a local file. */
async function readManifest(source: string): Promise<string> {
  if (!/^https?:\/\//.test(source)) {
    try {
      return readFileSync(source, 'utf8');
    } catch (err) {
      throw new UsageError(`INGRESS_NGINX_KIND_MANIFEST names ${source}, which cannot be read: ${(err as Error).message}. Fix: give a readable file or an http(s) URL.`);
    }
  }
  let response: Response;
  try {
    response = await fetch(source, { signal: AbortSignal.timeout(60_000) });
  } catch (err) {
    const cause = (err as { cause?: { code?: string; message?: string } }).cause;
    throw new DeployError(`Could not download the ingress-nginx manifest ${source}: ${cause?.code ?? cause?.message ?? (err as Error).message}. Fix: check the internet connection, or download it and set INGRESS_NGINX_KIND_MANIFEST to the file.`);
  }
  if (!response.ok) throw new DeployError(`Downloading the ingress-nginx manifest ${source} answered HTTP ${response.status}. Fix: check INGRESS_NGINX_KIND_MANIFEST (or the pinned version ${INGRESS_NGINX_VERSION}).`);
  return response.text();
}

/** Every object of a multi-document manifest, in order. */
export function manifestObjects(text: string, source: string): KubeObject[] {
  const out: KubeObject[] = [];
  for (const doc of parseAllDocuments(text)) {
    if (doc.errors.length) throw new DeployError(`The manifest ${source} is not valid YAML: ${doc.errors[0]!.message}`);
    const obj = doc.toJS() as KubeObject | null;
    if (obj && obj.kind) out.push(obj);
  }
  return out;
}

export const kindProvider: ClusterProvider = {
  name: 'kind',
  tool: 'kind',

  async ensureCluster(ctx): Promise<ClusterTarget> {
    const name = kindClusterName(ctx.settings);
    if ((await clusters(ctx)).includes(name)) {
      if (!hasContext(kindContext(name))) {
        await runTool('kind', ['export', 'kubeconfig', '--name', name], { redact: ctx.redact, what: `Writing the kubeconfig context of kind cluster ${name}` });
      }
      return { context: kindContext(name), summary: `kind cluster ${name}: already exists` };
    }
    // A cluster of an older kind would accept the NetworkPolicies and enforce none of them.
    const version = parseKindVersion((await runTool('kind', ['version'], { redact: ctx.redact, signal: ctx.signal, what: 'Asking kind its version' })).stdout);
    if (!version || !atLeast(version, KIND_ENFORCES_FROM)) {
      throw new UsageError(`kind ${version ?? '(version unrecognised)'} creates clusters that do not enforce NetworkPolicies (kindnet enforces them from kind v${KIND_ENFORCES_FROM}), and the stack's isolation rests on them (Redis has no password). Fix: ${INSTALL.kind}; nothing was created.`);
    }
    const dir = mkdtempSync(path.join(tmpdir(), 'todo-deploy-kind-'));
    const configFile = path.join(dir, 'kind-config.yaml');
    writeFileSync(configFile, stringify(kindConfig()));
    ctx.log(`creating kind cluster ${name} (ports 80 and 443 mapped to the host); the first run downloads the node image`);
    try {
      await runTool('kind', ['create', 'cluster', '--name', name, '--config', configFile, '--wait', '120s'], {
        redact: ctx.redact,
        onLine: ctx.log,
        signal: ctx.signal,
        what: `Creating kind cluster ${name}`,
        fix: 'make sure Docker runs and that ports 80 and 443 of this machine are free (another web server or kind cluster may hold them).',
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    recordCreated(ctx.settings, `kind:${name}`);
    return { context: kindContext(name), summary: `kind cluster ${name}: created` };
  },

  async findCluster(ctx) {
    const name = kindClusterName(ctx.settings);
    if ((await clusters(ctx)).includes(name)) return { context: kindContext(name), summary: `kind cluster ${name}: exists` };
    return { absent: `kind cluster ${name} does not exist` };
  },

  ingressFix: 'check the ingress-nginx controller (`kubectl -n ingress-nginx get pods`); it runs on the node labelled ingress-ready=true, which the kind config sets.',

  async ensureIngress(cluster: Cluster, ctx) {
    if (await ingressControllerReady(cluster)) return 'Ingress controller: ingress-nginx already available';
    const source = ctx.settings.INGRESS_NGINX_KIND_MANIFEST?.trim() || INGRESS_NGINX_KIND_MANIFEST;
    ctx.log(`applying ingress-nginx ${INGRESS_NGINX_VERSION} for kind from ${source}`);
    const objects = manifestObjects(await readManifest(source), source);
    // In document order: the manifest lists the Namespace and RBAC before what uses them.
    for (const object of objects) {
      try {
        await applyObject(cluster, object);
      } catch (err) {
        throw new DeployError(`Applying ${object.kind} ${object.metadata?.name} of the ingress-nginx manifest failed: ${apiMessage(err)}`);
      }
    }
    await waitForIngressController(cluster, ctx, `check the controller's pods: \`kubectl --context ${cluster.context} -n ingress-nginx get pods\` (the node needs the label ingress-ready=true, which the kind config sets).`);
    return `Ingress controller: ingress-nginx ${INGRESS_NGINX_VERSION} applied (${objects.length} objects) and available`;
  },

  async loadImages(refs: Partial<ImageRefs>, ctx) {
    const name = kindClusterName(ctx.settings);
    const list = Object.values(refs);
    ctx.log(`kind load docker-image ${list.join(' ')}`);
    await runTool('kind', ['load', 'docker-image', '--name', name, ...list], {
      redact: ctx.redact,
      signal: ctx.signal,
      what: `Loading ${list.join(', ')} into kind cluster ${name}`,
      fix: `check that the images exist locally (\`docker images\`) and that the cluster runs (\`kind get clusters\`).`,
    });
    return refs;
  },

  async address(): Promise<ClusterAddress> {
    // The node's ports 80 and 443 are the host's (extraPortMappings).
    return { ingress: '127.0.0.1', serves: true };
  },

  async purge(ctx) {
    const name = kindClusterName(ctx.settings);
    const key = `kind:${name}` as const;
    const exists = (await clusters(ctx)).includes(name);
    if (!exists) {
      forgetCreated(ctx.settings, key);
      return `kind cluster ${name} does not exist: nothing to delete`;
    }
    if (!wasCreated(ctx.settings, key)) return `kind cluster ${name} kept: todo-deploy did not create it (delete it yourself with \`kind delete cluster --name ${name}\`)`;
    await runTool('kind', ['delete', 'cluster', '--name', name], { redact: ctx.redact, onLine: ctx.log, signal: ctx.signal, what: `Deleting kind cluster ${name}` });
    forgetCreated(ctx.settings, key);
    return `kind cluster ${name} deleted`;
  },
};

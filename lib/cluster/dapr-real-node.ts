// Dapr itself on the sandbox's real node, installed the way users install it: the real helm
// runs `helm upgrade --install dapr <chart> --wait` with Dapr's own chart. Nothing can be
// pulled here, so everything comes from lib/controlplane/build/build.sh's dapr group: the six
// programs built from the Go module proxy, an image of each imported into the node's
// containerd, and the chart the Dapr module ships (charts/dapr). The chart's values point its
// images at those local ones and never pull; the rest are Dapr's defaults but for what a
// one-node sandbox without storage cannot give (see daprChartValues): the scheduler's three
// volumes are folders of the node, offered as PersistentVolumes before helm runs. Dapr's own
// CRDs replace the smaller ones the sandbox starts with (manifests/crds), which would prune
// fields Dapr's control plane writes and reads.
import { spawn } from 'node:child_process';
import { chownSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { KubernetesObjectApi, PatchStrategy } from '@kubernetes/client-node';
import { DeployError, UsageError } from '../errors.ts';
import { REPO_ROOT } from '../repo-root.ts';
import type { ControlPlaneState } from '../controlplane/state.ts';
import { installCrds, readCrds } from '../controlplane/crds.ts';
import type { Cluster } from '../kube/client.ts';
import type { KubeObject } from '../types.ts';
import { daprArtifacts, readVersions, type DaprArtifacts } from '../controlplane/versions.ts';
import { importImages, nodeImages } from '../controlplane/node/index.ts';
import { nodeBinaries } from '../controlplane/node/binaries.ts';
import { DAPR_NAMESPACE } from './dapr.ts';
import type { ClusterContext } from './provider.ts';
import { findTool, runTool } from './tools.ts';

export type SandboxDapr = 'real' | 'stand-in';

/**
 * What runs as Dapr on the sandbox's real node: Dapr built here (default), or with
 * SANDBOX_DAPR=stand-in the stand-in (pause containers named like Dapr's workloads: no build,
 * no sidecar). Pure; throws a UsageError for another value.
 */
export function daprOnRealNode(setting: string | undefined): SandboxDapr {
  const v = setting?.trim();
  if (!v) return 'real';
  if (v === 'real' || v === 'stand-in') return v;
  throw new UsageError(`SANDBOX_DAPR is "${v}", which is neither real nor stand-in. Fix: set SANDBOX_DAPR=real (Dapr built here, with sidecars) or SANDBOX_DAPR=stand-in (no Dapr build, no sidecars), or remove it.`);
}

/**
 * The chart values (`--set` pairs) of a Dapr built here, and why each differs from the chart's
 * default. Pure.
 */
export function daprChartValues(a: Pick<DaprArtifacts, 'registry' | 'tag'>): [string, string][] {
  return [
    // The images build.sh wrote, as the chart composes them: <registry>/<program>:<tag>.
    ['global.registry', a.registry],
    ['global.tag', a.tag],
    // Imported into the node, never pulled (there is no registry to pull from).
    ['global.imagePullPolicy', 'Never'],
    ['dapr_sidecar_injector.sidecarImagePullPolicy', 'Never'],
    // daprd refuses to run in Kubernetes as anything but 65532:65532, and without these it
    // would run as the pod's user (the backend's pod sets runAsUser and runAsGroup 1000).
    ['dapr_sidecar_injector.sidecarRunAsUser', String(DAPR_UID)],
    ['dapr_sidecar_injector.sidecarRunAsGroup', String(DAPR_UID)],
    // One replica of operator, injector, sentry and placement (the default, stated).
    ['global.ha.enabled', 'false'],
    // The scheduler runs three replicas whatever the HA setting (Dapr 1.16's chart), each an
    // embedded etcd member with a PersistentVolumeClaim, and refuses in-memory storage with more
    // than one. The sandbox has no storage provisioner, so the claims name a class of their own,
    // which the PersistentVolumes of schedulerVolumes() carry.
    ['dapr_scheduler.cluster.storageClassName', SCHEDULER_STORAGE_CLASS],
  ];
}

/** The storage class of the scheduler's claims and of the volumes offered to them (no StorageClass object: static binding). */
export const SCHEDULER_STORAGE_CLASS = 'todo-deploy-dapr-scheduler';
/** Replicas of dapr-scheduler-server in Dapr 1.16's chart (its get-replicas helper: 3 when the scheduler is enabled). */
export const SCHEDULER_REPLICAS = 3;
/** The user Dapr's pods run as (fsGroup too): a host folder behind a volume must be theirs, since the kubelet does not chown hostPath volumes. */
export const DAPR_UID = 65532;

/**
 * One PersistentVolume per scheduler replica: a folder of the node (`dirs[i]`), bound ahead to
 * the claim the StatefulSet makes for that replica (<template>-<statefulset>-<ordinal>). Pure.
 */
export function schedulerVolumes(dirs: readonly string[]): KubeObject[] {
  return dirs.map((path, i) => ({
    apiVersion: 'v1',
    kind: 'PersistentVolume',
    metadata: { name: `todo-deploy-dapr-scheduler-${i}`, labels: { 'app.kubernetes.io/part-of': 'todo-deploy', 'app.kubernetes.io/component': 'dapr-scheduler-storage' } },
    spec: {
      capacity: { storage: '1Gi' },
      accessModes: ['ReadWriteOnce'],
      persistentVolumeReclaimPolicy: 'Retain',
      storageClassName: SCHEDULER_STORAGE_CLASS,
      hostPath: { path, type: 'Directory' },
      claimRef: { namespace: DAPR_NAMESPACE, name: `dapr-scheduler-data-dir-dapr-scheduler-server-${i}` },
    },
  }));
}

/** Creates the scheduler's folders under the node's folder (owned by Dapr's user) and offers them as volumes. */
async function offerSchedulerVolumes(cluster: Cluster, nodeDir: string): Promise<void> {
  const dirs = Array.from({ length: SCHEDULER_REPLICAS }, (_, i) => join(nodeDir, 'volumes', `dapr-scheduler-${i}`));
  for (const dir of dirs) {
    mkdirSync(dir, { recursive: true });
    chownSync(dir, DAPR_UID, DAPR_UID);
  }
  const api = KubernetesObjectApi.makeApiClient(cluster.kc);
  for (const pv of schedulerVolumes(dirs)) await api.patch(pv, undefined, undefined, 'todo-deploy-sandbox', true, PatchStrategy.ServerSideApply);
}

/** helm's arguments for installing Dapr from a chart folder into the sandbox. Pure. */
export function daprHelmArgs(a: Pick<DaprArtifacts, 'registry' | 'tag' | 'chartDir'>, kubeconfig: string): string[] {
  return [
    'upgrade', '--install', 'dapr', a.chartDir,
    '--namespace', DAPR_NAMESPACE, '--create-namespace',
    '--wait', '--timeout', '10m',
    '--kubeconfig', kubeconfig,
    ...daprChartValues(a).flatMap(([key, value]) => ['--set', `${key}=${value}`]),
  ];
}

/** The images of these artifacts the node does not hold yet. Pure. */
export function missingDaprImages(a: Pick<DaprArtifacts, 'images'>, present: readonly string[]): { archive: string; ref: string }[] {
  return Object.values(a.images).filter((image) => !present.includes(image.ref));
}

/** The path in bench/tools.ts's last line ("[bench tools] helm: /path/helm — v4.3.1 (...)"). Pure. */
export function helmPathFromBenchOutput(output: string): string | undefined {
  return /^\[bench tools\] helm: (\/\S+) — /m.exec(output)?.[1];
}

/**
 * helm on PATH, else the one bench/ builds from the Go module proxy at its pinned version
 * (`npx tsx bench/tools.ts --only helm`: built once into the cache, then found there). Run as a
 * program of the checkout, not imported: bench/ is not part of the pipeline's build.
 */
async function helmPath(ctx: ClusterContext): Promise<string> {
  const onPath = await findTool('helm');
  if (onPath) return onPath;
  if (!(await findTool('go'))) {
    throw new UsageError('Installing Dapr on the sandbox\'s real node needs helm, which is not on PATH, and Go is not installed to build it. Fix: install Helm (https://helm.sh/docs/intro/install/) or Go 1.26, then run up again.');
  }
  ctx.log('helm is not on PATH: the one bench/ builds from the Go module proxy (npx tsx bench/tools.ts --only helm; built once)');
  const output = await new Promise<string>((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', join('bench', 'tools.ts'), '--only', 'helm'], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let all = '';
    const take = (chunk: Buffer) => {
      all += chunk.toString();
      for (const line of chunk.toString().split('\n')) if (line.trim()) ctx.log(ctx.redact(line));
    };
    child.stdout.on('data', take);
    child.stderr.on('data', take);
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(all) : reject(new DeployError(`Building helm for the Dapr install failed (bench/tools.ts exited ${code}):\n${ctx.redact(all.trim().split('\n').slice(-15).join('\n'))}\nFix: run \`npx tsx bench/tools.ts --only helm\` to see why, or install Helm.`))));
  });
  const path = helmPathFromBenchOutput(output);
  if (!path) throw new DeployError(`bench/tools.ts --only helm printed no helm path:\n${ctx.redact(output.trim())}`);
  return path;
}

/**
 * Installs the Dapr built here on the real node: imports its images, then the chart with helm
 * (`--wait`: helm returns once every workload is ready; the Dapr step then checks them again).
 * `build` builds the dapr group when it is missing. Returns the summary for the step's title.
 */
export async function installDaprOnRealNode(cluster: Cluster, state: ControlPlaneState, ctx: ClusterContext, build: () => Promise<void>): Promise<string> {
  await build();
  const a = daprArtifacts(readVersions());
  const { ctr } = nodeBinaries();
  const missing = missingDaprImages(a, nodeImages(state.node!, ctr));
  if (missing.length) {
    ctx.log(`real node: importing ${missing.map((m) => m.ref).join(', ')}`);
    importImages(state.node!, ctr, missing.map((m) => m.archive));
    const left = missingDaprImages(a, nodeImages(state.node!, ctr));
    if (left.length) throw new DeployError(`The real node lacks ${left.map((m) => m.ref).join(', ')} after the import, so Dapr's pods could not start. Fix: rebuild them (\`bash lib/controlplane/build/build.sh --force dapr\`) and run up again.`);
  }
  // The same field manager as the sandbox's start, so this apply replaces its CRDs' fields.
  const crds = readCrds(join(a.chartDir, 'crds'));
  ctx.log(`Dapr's CRDs from its chart: ${crds.map((c) => c.metadata.name).join(', ')}`);
  await installCrds(cluster.kc, crds);
  await offerSchedulerVolumes(cluster, state.node!.dir);
  const helm = await helmPath(ctx);
  const args = daprHelmArgs(a, state.kubeconfig);
  ctx.log(`helm ${args.join(' ')}`);
  await runTool('helm', args, {
    redact: ctx.redact,
    onLine: ctx.log,
    signal: ctx.signal,
    // The helm found above first on PATH (it may be bench/'s build, not on the user's PATH).
    env: { PATH: `${dirname(helm)}:${process.env.PATH ?? ''}` },
    what: `Installing Dapr ${a.version} on the real node with helm`,
    fix: `look at the pods: \`kubectl --kubeconfig ${state.kubeconfig} -n ${DAPR_NAMESPACE} get pods\` and their events; the images are ${Object.values(a.images).map((i) => i.ref).join(', ')} (imported, never pulled).`,
  });
  return `Dapr ${a.version} (built here: daprd with Redis state and pub/sub) installed with helm from its chart`;
}

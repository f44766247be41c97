// The Dapr control plane, before any Deployment of the stack: a backend pod created before the
// sidecar injector is ready gets no sidecar. When the dapr.io CRDs or the dapr-system namespace
// are missing, Dapr (pinned version) is installed with helm when it is on PATH, else with the
// Dapr CLI, else the run stops saying what to install. Then every control-plane workload is
// waited for by watch: operator, sidecar injector and sentry (Deployments), placement and
// scheduler (StatefulSets). A provider may provide Dapr itself (the sandbox's stand-in).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DeployError, UsageError } from '../errors.ts';
import { listObjects } from '../kube/apply.ts';
import type { Cluster } from '../kube/client.ts';
import { watchUntil, GateFailed, GateTimeout } from '../kube/watch.ts';
import { KINDS, verdictOf, type Verdict } from '../kinds.ts';
import type { KubeObject } from '../types.ts';
import { deadlineOf, type ClusterContext, type ClusterProvider } from './provider.ts';
import { findTool, INSTALL, runTool } from './tools.ts';
import { DAPR_HELM_REPO, daprVersion } from './versions.ts';
import { withDaprFailFast } from './dapr-failfast.ts';

export const DAPR_NAMESPACE = 'dapr-system';
export const DAPR_CRDS = ['components.dapr.io', 'configurations.dapr.io'] as const;

export type WorkloadKind = 'Deployment' | 'StatefulSet';
export interface DaprWorkload {
  kind: WorkloadKind;
  name: string;
}

/** What a ready Dapr control plane runs in dapr-system (Dapr 1.14 and later). */
export const DAPR_WORKLOADS: readonly DaprWorkload[] = [
  { kind: 'Deployment', name: 'dapr-operator' },
  { kind: 'Deployment', name: 'dapr-sidecar-injector' },
  { kind: 'Deployment', name: 'dapr-sentry' },
  { kind: 'StatefulSet', name: 'dapr-placement-server' },
  { kind: 'StatefulSet', name: 'dapr-scheduler-server' },
];

export function workloadVerdict(kind: WorkloadKind, object: KubeObject | undefined): Verdict {
  return verdictOf(KINDS[kind].status(object));
}

export interface DaprProbe {
  missingCrds: string[];
  namespace: boolean;
  /** Each workload with its object, when it exists. */
  workloads: { workload: DaprWorkload; object?: KubeObject }[];
}

export async function probeDapr(cluster: Cluster): Promise<DaprProbe> {
  // Every read at once, one round trip instead of eight one after the other: the two CRDs, the
  // namespace, and its Deployments and StatefulSets (a namespace that does not exist lists none).
  const crd = KINDS.CustomResourceDefinition.ref;
  const byName = (ref: { apiVersion: string; kind: string }, namespace: string | undefined, name: string) => listObjects(cluster, ref.apiVersion, ref.kind, namespace, undefined, `metadata.name=${name}`);
  const inDapr = (kind: WorkloadKind) => listObjects(cluster, KINDS[kind].ref.apiVersion, kind, DAPR_NAMESPACE);
  const [crds, ns, deployments, statefulSets] = await Promise.all([
    Promise.all(DAPR_CRDS.map((name) => byName(crd, undefined, name))),
    byName(KINDS.Namespace.ref, undefined, DAPR_NAMESPACE),
    inDapr('Deployment'),
    inDapr('StatefulSet'),
  ]);
  const missingCrds = DAPR_CRDS.filter((_, i) => !crds[i]?.items.length);
  const namespace = (ns?.items.length ?? 0) > 0;
  const listed = { Deployment: deployments?.items ?? [], StatefulSet: statefulSets?.items ?? [] };
  const workloads = DAPR_WORKLOADS.map((workload) => ({ workload, object: namespace ? listed[workload.kind].find((o) => o.metadata.name === workload.name) : undefined }));
  return { missingCrds, namespace, workloads };
}

/** Dapr needs installing when its CRDs or its namespace are missing. Pure. */
export function installNeeded(probe: DaprProbe): boolean {
  return probe.missingCrds.length > 0 || !probe.namespace;
}

/**
 * Whether a provider that supplies Dapr itself (the sandbox's stand-in, applied idempotently)
 * should apply it: when anything is missing, not only the CRDs or the namespace. Another `up`
 * may be half-way through creating it (two ups at once on one sandbox), or a workload was
 * deleted; applying again completes it, where refusing would fail a healthy run. Pure.
 */
export function provideNeeded(probe: DaprProbe): boolean {
  return installNeeded(probe) || probe.workloads.some((w) => !w.object);
}

/** What is missing, in words ("CRDs components.dapr.io; namespace dapr-system"). Pure. */
export function describeMissing(probe: DaprProbe): string {
  const parts: string[] = [];
  if (probe.missingCrds.length) parts.push(`CRD${probe.missingCrds.length > 1 ? 's' : ''} ${probe.missingCrds.join(', ')}`);
  if (!probe.namespace) parts.push(`namespace ${DAPR_NAMESPACE}`);
  return parts.join('; ');
}

/** Workloads of an existing install that are not ready, with their progress. Pure. */
export function notReady(probe: DaprProbe): string[] {
  return probe.workloads.filter((w) => !workloadVerdict(w.workload.kind, w.object).done).map((w) => (w.object ? workloadVerdict(w.workload.kind, w.object).progress! : `${w.workload.name} missing`));
}

export type DaprInstaller = 'helm' | 'dapr';

/** helm when present, else the Dapr CLI, else nothing. Pure. */
export function chooseInstaller(found: { helm: boolean; dapr: boolean }): DaprInstaller | undefined {
  if (found.helm) return 'helm';
  if (found.dapr) return 'dapr';
  return undefined;
}

/** The helm commands that install Dapr, in order. Pure. */
export function helmCommands(version: string, context: string): string[][] {
  return [
    ['repo', 'add', 'dapr', DAPR_HELM_REPO, '--force-update'],
    ['repo', 'update', 'dapr'],
    ['upgrade', '--install', 'dapr', 'dapr/dapr', '--version', version, '--namespace', DAPR_NAMESPACE, '--create-namespace', '--wait', '--timeout', '10m', '--kube-context', context],
  ];
}

/** The Dapr CLI command that installs Dapr (into the kubeconfig's current context). Pure. */
export function daprInitArgs(version: string): string[] {
  return ['init', '-k', '--runtime-version', version, '--wait', '--timeout', '600'];
}

export { daprVersion };

export function noInstallerError(cluster: Cluster, probe: DaprProbe, version: string): UsageError {
  return new UsageError(
    `The Dapr control plane is not installed in the cluster of context "${cluster.context}" (missing: ${describeMissing(probe)}), ` +
      'and neither helm nor the Dapr CLI is on PATH to install it. The backend needs Dapr\'s sidecar, so nothing of the stack was applied. ' +
      `Fix: ${INSTALL.helm}, or ${INSTALL.dapr}, and run up again (it installs Dapr ${version}); or install it yourself: ` +
      `\`helm upgrade --install dapr dapr/dapr --repo ${DAPR_HELM_REPO} --version ${version} --namespace ${DAPR_NAMESPACE} --create-namespace --wait\`.`,
  );
}

async function install(cluster: Cluster, ctx: ClusterContext, probe: DaprProbe, version: string): Promise<DaprInstaller> {
  const installer = chooseInstaller({ helm: !!(await findTool('helm')), dapr: !!(await findTool('dapr')) });
  if (!installer) throw noInstallerError(cluster, probe, version);
  const fix = `check the pods: \`kubectl --context ${cluster.context} -n ${DAPR_NAMESPACE} get pods\`, and that the cluster can pull images from docker.io/ghcr.io.`;
  if (installer === 'helm') {
    for (const args of helmCommands(version, cluster.context)) {
      ctx.log(`helm ${args.join(' ')}`);
      await runTool('helm', args, { redact: ctx.redact, onLine: ctx.log, signal: ctx.signal, what: `Installing Dapr ${version} with helm`, fix });
    }
    return installer;
  }
  // The Dapr CLI installs into the kubeconfig's current context: hand it a kubeconfig whose
  // current context is ours (a private temporary copy, removed right after).
  const dir = mkdtempSync(path.join(tmpdir(), 'todo-deploy-dapr-'));
  const kubeconfig = path.join(dir, 'kubeconfig');
  try {
    cluster.kc.setCurrentContext(cluster.context);
    writeFileSync(kubeconfig, cluster.kc.exportConfig(), { mode: 0o600 });
    ctx.log(`dapr ${daprInitArgs(version).join(' ')}`);
    await runTool('dapr', daprInitArgs(version), { redact: ctx.redact, onLine: ctx.log, signal: ctx.signal, env: { KUBECONFIG: kubeconfig }, what: `Installing Dapr ${version} with the Dapr CLI`, fix });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return installer;
}

/** Waits by watch until every Dapr control-plane workload is rolled out; the first failure stops the others. */
export async function waitForDapr(cluster: Cluster, ctx: ClusterContext): Promise<void> {
  const deadline = deadlineOf(ctx);
  const progress = new Map<string, string>(DAPR_WORKLOADS.map((w) => [w.name, `${w.name} not created yet`]));
  const ready = new Set<string>();
  const show = () => ctx.log(`Dapr: ${[...progress.values()].join(', ')}`);
  const local = new AbortController();
  const signal = ctx.signal ? AbortSignal.any([ctx.signal, local.signal]) : local.signal;
  const errors: unknown[] = [];
  await Promise.all(
    DAPR_WORKLOADS.map((w) =>
      watchUntil(cluster, { kind: KINDS[w.kind].ref, namespace: DAPR_NAMESPACE, name: w.name }, (items) => workloadVerdict(w.kind, items[0]), {
        deadline,
        signal,
        goal: `${w.kind} ${DAPR_NAMESPACE}/${w.name} to be ready`,
        onProgress: (text) => {
          progress.set(w.name, text);
          show();
        },
      }).then(
        () => void ready.add(w.name),
        (err) => {
          if (!local.signal.aborted) errors.push(err);
          local.abort();
        },
      ),
    ),
  );
  if (errors.length === 0) return;
  const first = errors[0];
  const waiting = DAPR_WORKLOADS.filter((w) => !ready.has(w.name)).map((w) => progress.get(w.name)).join(', ');
  const fix = `Fix: look at \`kubectl --context ${cluster.context} -n ${DAPR_NAMESPACE} get pods\` and \`dapr status -k\`, then run up again.`;
  const consequence = 'No Deployment of the stack was applied (a pod created before the sidecar injector is ready gets no Dapr sidecar).';
  if (first instanceof GateTimeout) throw new DeployError(`The Dapr control plane did not become ready in time: ${waiting}. ${consequence} ${fix}`);
  if (first instanceof GateFailed) throw new DeployError(`The Dapr control plane failed: ${first.message} ${consequence} ${fix}`);
  throw first;
}

const daprReady = (how: string) => `Dapr control plane: ${how}; operator, sidecar injector, sentry, placement and scheduler ready`;

/**
 * The Dapr step of `up`: install when needed (or let the provider provide it), then wait until
 * the control plane is ready. Returns the task title.
 */
export async function ensureDapr(cluster: Cluster, provider: ClusterProvider, ctx: ClusterContext): Promise<string> {
  const version = daprVersion(ctx);
  const probe = await probeDapr(cluster);
  const provide = provider.provideDapr && provideNeeded(probe);
  if (!provide && !installNeeded(probe)) {
    const missing = probe.workloads.filter((w) => !w.object).map((w) => `${w.workload.kind} ${w.workload.name}`);
    if (missing.length) {
      throw new DeployError(
        `The Dapr control plane in ${DAPR_NAMESPACE} (context "${cluster.context}") lacks ${missing.join(', ')}; Dapr before 1.14 has no scheduler. Nothing of the stack was applied. ` +
          `Fix: upgrade Dapr to ${version}: \`helm upgrade --install dapr dapr/dapr --repo ${DAPR_HELM_REPO} --version ${version} --namespace ${DAPR_NAMESPACE} --wait\` or \`dapr upgrade -k --runtime-version ${version}\`.`,
      );
    }
    // The lists just read already show every workload ready: no watch is needed to know it.
    if (notReady(probe).length === 0) return daprReady('Dapr already installed');
  }
  // The install (helm --wait, the Dapr CLI, or the provider's) and the wait run beside a watch
  // of dapr-system's pods that stops both at the first pod waiting will not heal.
  return withDaprFailFast(cluster, ctx, async (signal) => {
    const watched = { ...ctx, signal };
    let how: string;
    if (provide) {
      how = await provider.provideDapr!(cluster, watched);
    } else if (installNeeded(probe)) {
      ctx.log(`Dapr is not installed (missing: ${describeMissing(probe)})`);
      const installer = await install(cluster, watched, probe, version);
      how = `Dapr ${version} installed with ${installer === 'helm' ? 'helm' : 'the Dapr CLI'}`;
    } else {
      how = 'Dapr already installed';
    }
    await waitForDapr(cluster, watched);
    return daprReady(how);
  });
}

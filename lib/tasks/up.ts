// `up` as one pipeline: the plan first (configuration, secrets, rendering, policy: nothing
// touches a cluster when it is refused), the provider chosen and checked, then the cluster,
// its ingress controller and Dapr, the images (re-planned with the built tags), the ten stages
// through the executor, and the address. Views render the executor's events.
import { loadConfig, type Config, type SettingKey } from '../config.ts';
import { redact } from '../output.ts';
import { ensureDevAuthSecret } from '../dev-secret.ts';
import { buildImages, nodeImageFrom, referencedImages } from '../images/index.ts';
import { selectProvider } from '../cluster/index.ts';
import { ensureDapr } from '../cluster/dapr.ts';
import { providerContext } from '../cluster/context.ts';
import type { ClusterAddress, ClusterProvider, ProviderName } from '../cluster/provider.ts';
import { planDeployment, planSummary, requireDeployable, withImages, type Plan, type StagePlan } from '../plan.ts';
import { checkReachable, loadKubeConfig, type Cluster } from '../kube/client.ts';
import { Execution, Skip, runStage, stageId, stageTitle, steps, tellApplied, untilAborted, type Listener, type StageWork, type Timing } from '../executor.ts';

import { answeredByLists, changesOf, isUnchanged, type Changes } from '../changes.ts';
import { summarize } from '../diff.ts';
import { FIELD_MANAGER } from '../kube/apply.ts';
import { listKind, readLive } from '../kube/live.ts';
import { KINDS } from '../kinds.ts';
import type { Gate } from '../readiness.ts';
import type { KubeObject } from '../types.ts';

import { planNamespace } from '../ownership.ts';
import { listObjects } from '../kube/apply.ts';
import { UsageError } from '../errors.ts';

const NAMESPACE = KINDS.Namespace.ref;

export interface UpOptions {
  env: string;
  repoRoot: string;
  manifestsDir: string;
  /** --cluster; undefined: the environment's default (dev: the first available, lib/cluster/default.ts; prod: current). */
  clusterProvider?: ProviderName;
  context?: string;
  skipImages: boolean;
  flags: Partial<Record<SettingKey, string>>;
  signal?: AbortSignal;
}

export interface UpResult {
  config: Config;
  /** The plan that was applied (with the built image tags). */
  plan: Plan;
  provider: ClusterProvider;
  /** Where the app is reachable, from the provider. */
  address: ClusterAddress;
  timings: Timing[];
}

/** What `up` may leave alone in a stage (lib/changes.ts): unchanged objects, gates the lists answer. */
export interface LeaveAlone {
  unchanged(object: KubeObject): boolean;
  answered(gate: Gate): boolean;
}

/** What the executor does with one stage of the plan on the way up: apply what changed, then wait on the rest. */
export function upWork(planned: StagePlan, leave?: LeaveAlone): StageWork {
  const objects = leave ? planned.objects.filter((o) => !leave.unchanged(o.object)) : planned.objects;
  const watched = (gates: readonly Gate[]) => (leave ? gates.filter((g) => !leave.answered(g)) : gates);
  const { before, rollouts, endpoints } = planned.gates;
  const answered = [...rollouts, ...endpoints].length - [...watched(rollouts), ...watched(endpoints)].length;
  return {
    stage: planned.stage,
    position: planned.stage.number,
    action: 'apply',
    objects,
    unchanged: planned.objects.length - objects.length,
    answered,
    groups: [
      // With the lists read, the namespace is known not to be Terminating (else nothing is left alone).
      { title: 'not being deleted', gates: leave ? [] : before, before: true },
      { title: 'rollouts', gates: watched(rollouts) },
      { title: 'service endpoints', gates: watched(endpoints) },
    ],
  };
}

/**
 * The lists read before the stages tell what may be left alone. An unchanged object is not
 * applied again; its gate is not watched when the listed object already passes it. An endpoint
 * gate also needs every Deployment unchanged (a new rollout changes the endpoints). A namespace
 * being deleted takes everything along: then nothing is left alone.
 */
async function leaveAlone(cluster: Cluster, plan: Plan, changes: Changes | undefined, planned: StagePlan): Promise<LeaveAlone | undefined> {
  if (!changes) return undefined;
  const unchanged = (o: KubeObject) => isUnchanged(changes, o);
  const deploymentsChanged = plan.stages.some((p) => p.objects.some((o) => o.object.kind === KINDS.Deployment.ref.kind && !unchanged(o.object)));
  if (planned.gates.endpoints.length > 0 && !deploymentsChanged) {
    // The endpoint gates from one list of the namespace's EndpointSlices instead of a watch each.
    changes.lists.push(await listKind(cluster, KINDS.EndpointSlice.ref, plan.config.namespace, { selector: false }));
  }
  const answered = (g: Gate) => unchanged(g.subject) && (g.subject.kind !== KINDS.Service.ref.kind || !deploymentsChanged) && answeredByLists(g, changes.lists);
  return { unchanged, answered };
}

const STEP = steps({
  config: 'Load configuration and secrets',
  plan: 'Render manifests and check policy',
  cluster: 'Cluster',
  ingress: 'Ingress controller',
  dapr: 'Dapr control plane',
  images: 'Build and load images',
  compare: 'Compare with the cluster',
  address: 'Address',
});

export async function runUp(options: UpOptions, listener: Listener): Promise<UpResult> {
  // A newcomer's first dev run gets a session secret instead of a stop (lib/dev-secret.ts).
  const generated = options.env === 'dev' ? ensureDevAuthSecret(options.repoRoot, process.env) : undefined;
  const config = loadConfig({ env: options.env, repoRoot: options.repoRoot, flags: options.flags });
  let plan = planDeployment({ config, processEnv: process.env, repoRoot: options.repoRoot, manifestsDir: options.manifestsDir, secrets: 'required' });
  requireDeployable(plan);
  // The provider's tools are checked now, before anything is started.
  const { provider, why } = await untilAborted(selectProvider(options.clusterProvider, config.environment, { needsDocker: !options.skipImages, kubeContext: options.context }), options.signal);

  const exec = new Execution(listener, options.signal);
  const pctx = providerContext(config, options, exec.log);
  const stageNodes = plan.stages.map((s) => ({ id: stageId(s.stage), title: stageTitle(upWork(s)) }));
  exec.announce([STEP.config, STEP.plan, STEP.cluster, STEP.ingress, STEP.dapr, STEP.images, STEP.compare, ...stageNodes, STEP.address]);
  const db = plan.secrets.embeddedPostgres ? 'in-cluster PostgreSQL' : 'external database';
  const chat = plan.secrets.chat ? '' : '; chat is off (no OPENAI_API_KEY: /api/chat answers 503 until you set one)';
  const cluster = `cluster ${provider.name}${why ? ` (chosen by default: ${why})` : ''}`;
  exec.done(STEP.config.id, `Configuration ${config.environment}: namespace ${config.namespace}, ${config.domain}, ${config.replicas} replica(s), ${db}, ${cluster}${chat}${generated ? `. ${generated}` : ''}`);
  exec.done(STEP.plan.id, planSummary(plan));
  try {
    let cluster!: Cluster;
    /** Set when the namespace exists and is the user's: deployed into, never applied. */
    let usersNamespace: string | undefined;
    await exec.step(STEP.cluster, async () => {
      const target = await provider.ensureCluster(pctx);
      // The sandbox's kubeconfig is this run's (and the tools' it starts).
      if (target.kubeconfig) process.env.KUBECONFIG = target.kubeconfig;
      cluster = loadKubeConfig(target.context ?? options.context);
      const version = await checkReachable(cluster);
      // Whose namespace: decided before anything is installed or applied (lib/ownership.ts).
      const planned = plan.stages.find((p) => p.stage.kinds.includes(NAMESPACE))?.objects[0]?.object;
      if (planned) {
        const existing = (await listObjects(cluster, NAMESPACE.apiVersion, NAMESPACE.kind, undefined, undefined, `metadata.name=${planned.metadata.name}`))?.items[0];
        const decision = planNamespace(planned, existing);
        if (decision.action === 'refuse') throw new UsageError(decision.reason);
        if (decision.action === 'keep') usersNamespace = decision.note;
      }
      return `Cluster (${provider.name}): ${target.summary}; context ${cluster.context} at ${cluster.server} (Kubernetes ${version})`;
    }, { timing: 'cluster' });
    await exec.step(STEP.ingress, () => provider.ensureIngress(cluster, pctx), { timing: 'ingress controller' });
    await exec.step(STEP.dapr, () => ensureDapr(cluster, provider, pctx), { timing: 'Dapr control plane' });
    await exec.step(STEP.images, async () => {
      const notNeeded = provider.imagesNotNeeded?.(pctx);
      if (notNeeded) throw new Skip(`Images: ${notNeeded}`);
      if (options.skipImages) throw new Skip(`Images: using prebuilt ${Object.values(plan.refs).join(', ')} (--skip-images)`);
      // Only what the rendered manifests run: no PostgreSQL image with the external database.
      const only = referencedImages(plan.rendered, plan.refs);
      const built = await buildImages({ repoRoot: options.repoRoot, names: config.images, nodeImage: nodeImageFrom(pctx.settings), redact, log: exec.log, only });
      // The same plan, rendered with the tags just built, through the same checks.
      plan = withImages(plan, { ...plan.refs, ...(await provider.loadImages(built.refs, pctx)) });
      requireDeployable(plan);
      return `Images: ${built.results.map((r) => `${r.ref} ${r.action}`).join(', ')}, loaded (${provider.name})`;
    }, { timing: 'images' });
    let changes: Changes | undefined;
    await exec.step(STEP.compare, async () => {
      // One list per kind (only the Namespace when it does not exist yet), before any stage.
      const live = await readLive(cluster, config.namespace, { namespaceFirst: true });
      if (live.lists[0]?.items.some((ns) => ns.metadata.deletionTimestamp)) return `Compared with the cluster: namespace ${config.namespace} is being deleted, so everything is applied anew`;
      changes = changesOf(plan.stages.flatMap((p) => p.objects.map((o) => o.object)), live.lists, FIELD_MANAGER);
      const s = summarize(changes.entries);
      return s.unchanged === 0 ? `Compared with the cluster: all ${s.create + s.update} object(s) to apply` : `Compared with the cluster: ${s.create} to create, ${s.update} to update, ${s.unchanged} unchanged (not applied again)`;
    });
    for (const planned of plan.stages) {
      if (planned.objects.length === 0 || (usersNamespace && planned.stage.kinds.includes(NAMESPACE))) {
        exec.skip(stageId(planned.stage), `${stageTitle(upWork(planned))}: ${planned.objects.length === 0 ? 'no objects' : usersNamespace}`);
        continue;
      }
      const work = upWork(planned, await leaveAlone(cluster, plan, changes, planned));
      await runStage(exec, work, { cluster, timeoutSeconds: config.readyTimeoutSeconds, hints: { ingressFix: provider.ingressFix } });
    }
    let address!: ClusterAddress;
    await exec.step(STEP.address, async () => {
      address = await provider.address(cluster, pctx, config.namespace);
      if (address.url) return `Address: ${address.url}`;
      if (!address.serves) return 'Address: none (nothing serves traffic in the sandbox)';
      return `Address: ${address.ingress ? `ingress at ${address.ingress}` : 'ingress address unknown'}`;
    });
    exec.finish();
    return { config, plan, provider, address, timings: exec.timings };
  } catch (caught) {
    const err = tellApplied(caught, exec.acted, exec.partial);
    exec.finish(err);
    throw err;
  }
}

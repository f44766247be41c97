// `up` as one pipeline: the plan first (configuration, secrets, rendering, policy: nothing
// touches a cluster when it is refused), the provider chosen and checked, then the cluster,
// its ingress controller and Dapr, the images (re-planned with the built tags), the ten stages
// through the executor, and the address. Views render the executor's events.
import { describeEnforcement } from '../cluster/policy-enforcement.ts';
import { clusterEnforcement } from '../cluster/policy-probe.ts';
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
import { Execution, Skip, listObjects as listRefs, runStage, stageId, stageTitle, steps, tellApplied, untilAborted, type Listener, type StageWork, type Timing } from '../executor.ts';
import { Interrupted } from '../errors.ts';
import type { HelmRelease } from '../release/helm-codec.ts';
import { DEFAULT_HISTORY_MAX, lastDeployed, pendingUpgrade, releaseManifest } from '../release/record.ts';
import { openRelease, type ReleaseSession } from '../release/session.ts';
import { releaseChart, releaseValues } from '../release/values.ts';
import { deleteInReverse, pruneList, sessionNotes } from './release-steps.ts';
import { removalNodes, rollbackNodes, rollbackStages } from './rollback.ts';

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
  /** --no-rollback: a failed gate leaves the failed state for inspection instead of going back. */
  noRollback?: boolean;
  /** Revisions kept in the release history (--history-max; 0 keeps all). */
  historyMax?: number;
}

export interface UpResult {
  config: Config;
  /** The plan that was applied (with the built image tags). */
  plan: Plan;
  provider: ClusterProvider;
  /** Where the app is reachable, from the provider. */
  address: ClusterAddress;
  /** The revision recorded (deployed). */
  revision: HelmRelease;
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
  release: 'Lock and record the release',
  compare: 'Compare with the cluster',
  prune: 'Prune what the plan no longer has',
  address: 'Address',
  record: 'Record the release',
});

export async function runUp(options: UpOptions, listener: Listener): Promise<UpResult> {
  // A newcomer's first dev run gets a session secret instead of a stop (lib/dev-secret.ts).
  const generated = options.env === 'dev' ? ensureDevAuthSecret(options.repoRoot, process.env) : undefined;
  const config = loadConfig({ env: options.env, repoRoot: options.repoRoot, flags: options.flags });
  let plan = planDeployment({ config, processEnv: process.env, repoRoot: options.repoRoot, manifestsDir: options.manifestsDir, secrets: 'required' });
  requireDeployable(plan);
  // The provider's tools are checked now, before anything is started.
  const { provider, why } = await untilAborted(selectProvider(options.clusterProvider, config.environment, { needsDocker: !options.skipImages, kubeContext: options.context }), options.signal);

  // The run also stops when it loses its lock (another run took it over): two runs never change the stack at once.
  const lockLost = new AbortController();
  const exec = new Execution(listener, options.signal ? AbortSignal.any([options.signal, lockLost.signal]) : lockLost.signal);
  const pctx = providerContext(config, options, exec.log);
  const stageNodes = plan.stages.map((s) => ({ id: stageId(s.stage), title: stageTitle(upWork(s)) }));
  exec.announce([STEP.config, STEP.plan, STEP.cluster, STEP.ingress, STEP.dapr, STEP.images, STEP.release, STEP.compare, ...stageNodes, STEP.prune, STEP.address, STEP.record]);
  const db = plan.secrets.embeddedPostgres ? 'in-cluster PostgreSQL' : 'external database';
  const chat = plan.secrets.chat ? '' : '; chat is off (no OPENAI_API_KEY: /api/chat answers 503 until you set one)';
  const clusterNote = `cluster ${provider.name}${why ? ` (chosen by default: ${why})` : ''}`;
  exec.done(STEP.config.id, `Configuration ${config.environment}: namespace ${config.namespace}, ${config.domain}, ${config.replicas} replica(s), ${db}, ${clusterNote}${chat}${generated ? `. ${generated}` : ''}`);
  exec.done(STEP.plan.id, planSummary(plan));
  let session: ReleaseSession | undefined;
  let cluster!: Cluster;
  let changes: Changes | undefined;
  try {
    /** Set when the namespace exists and is the user's: deployed into, never applied. */
    let usersNamespace: string | undefined;
    await exec.step(STEP.cluster, async () => {
      // Where the images go is checked first: a registry that is down stops the run before
      // anything is started, installed or built (lib/cluster/current.ts).
      const imageTarget = options.skipImages ? undefined : await provider.checkImageTarget?.(pctx);
      const target = await provider.ensureCluster(pctx);
      // The sandbox's kubeconfig is this run's (and the tools' it starts).
      if (target.kubeconfig) process.env.KUBECONFIG = target.kubeconfig;
      cluster = loadKubeConfig(target.context ?? options.context);
      const version = await checkReachable(cluster);
      // The stack's isolation (Redis has no password) rests on the NetworkPolicies: say whether anything enforces them.
      const enforcement = await clusterEnforcement(provider, cluster, pctx);
      exec.log(`${enforcement.enforces ? '' : 'warning: '}${describeEnforcement(enforcement)}`);
      // Whose namespace: decided before anything is installed or applied (lib/ownership.ts).
      const planned = plan.stages.find((p) => p.stage.kinds.includes(NAMESPACE))?.objects[0]?.object;
      if (planned) {
        const existing = (await listObjects(cluster, NAMESPACE.apiVersion, NAMESPACE.kind, undefined, undefined, `metadata.name=${planned.metadata.name}`))?.items[0];
        const decision = planNamespace(planned, existing);
        if (decision.action === 'refuse') throw new UsageError(decision.reason);
        if (decision.action === 'keep') usersNamespace = decision.note;
      }
      return `Cluster (${provider.name}): ${target.summary}; context ${cluster.context} at ${cluster.server} (Kubernetes ${version})${imageTarget ? `; ${imageTarget}` : ''}`;
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
    const openSession = async () => {
      session = await openRelease(cluster, { namespace: config.namespace, command: 'npm run up', historyMax: options.historyMax });
      session.lock.lost.addEventListener('abort', () => lockLost.abort(session!.lock.lost.reason), { once: true });
      const objects = plan.stages.flatMap((s) => s.objects);
      const revision = await session.record((before, version) =>
        pendingUpgrade({ namespace: config.namespace, version, chart: releaseChart(plan.repoRoot, plan.manifestsDir), config: releaseValues(config, plan.refs, plan.secrets.embeddedPostgres), manifest: releaseManifest(objects), now: new Date() }, before),
      );
      return `Release ${revision.name}: revision ${revision.version} ${revision.info.status}${sessionNotes(session)}`;
    };
    // The lock and the records live in the namespace. When it does not exist yet, or an earlier
    // `down` is still deleting it, they are taken right after stage 1 has (re)created it: stage
    // 1's gate shows the wait for a namespace being deleted, and a second run meanwhile applies
    // the same Namespace, then finds the lock taken.
    let deferred: string | undefined;
    await exec.step(STEP.release, async () => {
      const existing = (await listObjects(cluster, NAMESPACE.apiVersion, NAMESPACE.kind, undefined, undefined, `metadata.name=${config.namespace}`))?.items[0];
      if (!existing || existing.metadata.deletionTimestamp) {
        deferred = `namespace ${config.namespace} ${existing ? 'is being deleted' : 'does not exist yet'}`;
        return `Release: ${deferred}; the lock is taken and the revision recorded once stage 1 has created it`;
      }
      return openSession();
    });
    let lateNote = '';
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
      } else {
        const work = upWork(planned, await leaveAlone(cluster, plan, changes, planned));
        await runStage(exec, work, { cluster, timeoutSeconds: config.readyTimeoutSeconds, hints: { ingressFix: provider.ingressFix } });
      }
      if (deferred && planned.stage.kinds.includes(NAMESPACE)) {
        deferred = undefined;
        await openSession();
        lateNote = sessionNotes(session!);
      }
    }
    await exec.step(STEP.prune, async () => {
      const doomed = await pruneList(cluster, config.namespace, plan.stages.flatMap((s) => s.objects.map((o) => o.object)));
      if (doomed.length === 0) return 'Prune: nothing managed by todo-deploy that the plan lacks';
      await deleteInReverse(exec, doomed, { cluster, timeoutSeconds: config.readyTimeoutSeconds, hints: {} }, 'prune/');
      return `Pruned ${doomed.length} object(s) the plan no longer has: ${listRefs(doomed)}`;
    });
    let address!: ClusterAddress;
    await exec.step(STEP.address, async () => {
      const routes = await provider.routesReady?.(cluster, pctx, config.namespace);
      address = await provider.address(cluster, pctx, config.namespace);
      if (!address.serves) return 'Address: none (nothing serves traffic in the sandbox)';
      return `Address: ${address.ingress ? `ingress at ${address.ingress}` : 'ingress address unknown'}${routes ? ` (${routes})` : ''}`;
    });
    await exec.step(STEP.record, async () => {
      const pruned = await session!.succeed();
      const r = session!.revision;
      return `Release ${r.name}: revision ${r.version} deployed (${r.info.description})${lateNote}${pruned.length ? `; history kept to ${options.historyMax ?? DEFAULT_HISTORY_MAX}: revision(s) ${pruned.join(', ')} removed` : ''}`;
    });
    exec.finish();
    return { config, plan, provider, address, revision: session!.revision, timings: exec.timings };
  } catch (caught) {
    const err = tellApplied(caught, exec.acted, exec.partial);
    exec.finish(err);
    if (!session || lockLost.signal.aborted) throw err;
    const applied = new Set([...exec.acted.map((a) => a.stage.id), ...(exec.partial ? [exec.partial.id] : [])]);
    throw await afterFailure(err, { session, cluster, plan, changes, listener, options, applied });
  } finally {
    await session?.close().catch(() => undefined);
  }
}

/**
 * A failed run's revision is marked failed (interrupted, when Ctrl-C or SIGTERM stopped it).
 * A failed gate or apply then goes back (unless --no-rollback): to the last deployed revision
 * through the same stages (recorded as a new revision, as Helm's atomic upgrade does), or on a
 * first install by removing what this run created, in reverse order. The error says what was done.
 */
async function afterFailure(
  err: unknown,
  ctx: { session: ReleaseSession; cluster: Cluster; plan: Plan; changes?: Changes; listener: Listener; options: UpOptions; applied: ReadonlySet<string> },
): Promise<unknown> {
  const { session, cluster, plan, options } = ctx;
  const message = err instanceof Error ? err.message : String(err);
  const interrupted = err instanceof Interrupted;
  await session.fail(message, interrupted).catch(() => undefined);
  const failed = session.revision;
  const said = (text: string) => {
    if (err instanceof Error) err.message = `${err.message}\n${text}`;
    return err;
  };
  if (interrupted) return said(`Revision ${failed.version} of ${failed.name} is marked failed (interrupted); the lock is released. The next up carries on from what is there.`);
  if (ctx.applied.size === 0) return said(`Revision ${failed.version} of ${failed.name} is marked failed; nothing of the stack was changed.`);
  if (options.noRollback) return said(`Revision ${failed.version} of ${failed.name} is marked failed and left as it is (--no-rollback): inspect it with npm run status, then run up again or npm run rollback.`);
  const options2 = { cluster, timeoutSeconds: plan.config.readyTimeoutSeconds, hints: {} };
  const exec = new Execution(ctx.listener, options.signal);
  const previous = lastDeployed(session.before);
  try {
    if (previous) {
      const { objects, nodes } = rollbackNodes(previous, plan.stages.flatMap((s) => s.objects), 'rollback/');
      exec.announce([{ id: 'rollback/', title: `Roll back to revision ${previous.version}` }, ...nodes]);
      exec.done('rollback/', `Roll back to revision ${previous.version}: revision ${failed.version} failed`);
      const { revision } = await rollbackStages(exec, cluster, session, previous, objects, { ...options2, namespace: plan.config.namespace, idPrefix: 'rollback/' });
      exec.finish();
      return said(`Rolled back to revision ${previous.version} (recorded as revision ${revision.version}, deployed): its objects are applied again and their gates passed. Revision ${failed.version} is marked failed.`);
    }
    // A first install: what this run created goes, in reverse order. The Namespace stays: it holds the release record of the failure.
    const keys = new Set((ctx.changes?.entries ?? []).filter((e) => e.action !== 'create').map((e) => `${e.kind}/${e.namespace ?? ''}/${e.name}`));
    const created = plan.stages
      .filter((s) => ctx.applied.has(s.stage.id))
      .flatMap((s) => s.objects.map((o) => o.object))
      .filter((o) => o.kind !== KINDS.Namespace.ref.kind && !keys.has(`${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`));
    const nodes = removalNodes(created, 'remove/');
    exec.announce([{ id: 'remove/', title: 'Remove what this first install created' }, ...nodes]);
    exec.done('remove/', `Remove what this first install created: ${created.length} object(s), in reverse order`);
    await deleteInReverse(exec, created, options2, 'remove/');
    exec.finish();
    return said(`This was the first install, so the ${created.length} object(s) it created were removed in reverse order; namespace ${plan.config.namespace} stays with the release record (revision ${failed.version}, failed).`);
  } catch (rollbackErr) {
    exec.finish(rollbackErr);
    return said(`Going back failed too: ${rollbackErr instanceof Error ? rollbackErr.message : String(rollbackErr)}`);
  }
}

// `rollback`: a recorded revision applied again through the same ordered, gated stages as `up`,
// what it did not have pruned, and a new revision recorded ("Rollback to N"), as `helm rollback`
// records it. `up` uses the same steps to go back after a failed gate (its atomic rollback).
import { loadConfig, type SettingKey } from '../config.ts';
import { planDeployment, requireDeployable, type Plan } from '../plan.ts';
import type { ProviderName } from '../cluster/provider.ts';
import { findRunningCluster } from '../cluster/find.ts';
import type { Cluster } from '../kube/client.ts';
import { DeployError, Interrupted, UsageError } from '../errors.ts';
import type { HelmRelease } from '../release/helm-codec.ts';
import { manifestObjects, pendingRollback, rollbackTarget } from '../release/record.ts';
import { openRelease, type ReleaseSession } from '../release/session.ts';
import { DELETION_STAGES, stageOf } from '../order.ts';
import type { KubeObject, SourcedObject } from '../types.ts';
import { Execution, stageId, stageTitle, steps, type Listener, type StageOptions, type StepNode, type Timing } from '../executor.ts';
import { applyStages, deleteInReverse, pruneList, sessionNotes, stagePlans, withCurrentSecrets } from './release-steps.ts';

export interface RollbackOptions {
  env: string;
  repoRoot: string;
  manifestsDir: string;
  clusterProvider?: ProviderName;
  context?: string;
  /** --to N; undefined: the deployed revision before the current one. */
  to?: number;
  historyMax?: number;
  flags: Partial<Record<SettingKey, string>>;
  signal?: AbortSignal;
}

export interface RollbackResult {
  revision: HelmRelease;
  target: number;
  pruned: number;
  timings: Timing[];
}

/** The steps a rollback to `target` shows: its stages, the prune, the record. */
export function rollbackNodes(target: HelmRelease, current: readonly SourcedObject[], idPrefix: string): { objects: SourcedObject[]; nodes: StepNode[] } {
  const objects = withCurrentSecrets(manifestObjects(target.manifest), current);
  const stages = stagePlans(objects).filter((s) => s.objects.length > 0);
  const nodes = [
    ...stages.map((s) => ({ id: `${idPrefix}${stageId(s.stage)}`, title: stageTitle({ stage: s.stage, position: s.stage.number }) })),
    { id: `${idPrefix}prune`, title: `Prune what revision ${target.version} does not have` },
    { id: `${idPrefix}record`, title: 'Record the release' },
  ];
  return { objects, nodes };
}

/**
 * Applies `target`'s objects (its Secret as this run generates it: records hold no secret
 * value), prunes what it lacks, and records a new revision: pending-rollback, then deployed.
 */
export async function rollbackStages(exec: Execution, cluster: Cluster, session: ReleaseSession, target: HelmRelease, objects: readonly SourcedObject[], options: StageOptions & { namespace: string; idPrefix: string; description?: string }): Promise<{ revision: HelmRelease; pruned: number }> {
  await session.record((before, version) => pendingRollback(target, version, new Date(), before, options.description));
  await applyStages(exec, stagePlans(objects), options, options.idPrefix);
  let pruned = 0;
  await exec.step({ id: `${options.idPrefix}prune`, title: `Prune what revision ${target.version} does not have` }, async () => {
    const doomed = await pruneList(cluster, options.namespace, objects.map((o) => o.object));
    pruned = doomed.length;
    if (doomed.length > 0) await deleteInReverse(exec, doomed, options, `${options.idPrefix}prune/`);
    return doomed.length ? `Pruned ${doomed.length} object(s) revision ${target.version} does not have` : `Prune: nothing that revision ${target.version} does not have`;
  });
  await exec.step({ id: `${options.idPrefix}record`, title: 'Record the release' }, async () => {
    await session.succeed();
    return `Release ${session.revision.name}: revision ${session.revision.version} deployed (${session.revision.info.description})`;
  });
  return { revision: session.revision, pruned };
}

const STEP = steps({ config: 'Load configuration and secrets', release: 'Lock and read the release' });

export async function runRollback(options: RollbackOptions, listener: Listener): Promise<RollbackResult> {
  const config = loadConfig({ env: options.env, repoRoot: options.repoRoot, flags: options.flags });
  // The current secrets: the records hold none, so todo-secrets is applied as it is now.
  const plan: Plan = planDeployment({ config, processEnv: process.env, repoRoot: options.repoRoot, manifestsDir: options.manifestsDir, secrets: 'required' });
  requireDeployable(plan);
  const found = await findRunningCluster(config, { clusterProvider: options.clusterProvider, context: options.context });
  if ('absent' in found) throw new DeployError(`No cluster runs (${found.absent}), so there is nothing to roll back. Fix: start it, or run npm run up.`);
  const { cluster } = found;
  const exec = new Execution(listener, options.signal);
  const session = await openRelease(cluster, { namespace: config.namespace, command: 'npm run rollback', historyMax: options.historyMax });
  try {
    const chosen = rollbackTarget(session.before, options.to);
    if ('error' in chosen) throw new UsageError(`Cannot roll back: ${chosen.error} Nothing was changed.`);
    const target = chosen.target;
    const current = plan.stages.flatMap((s) => s.objects);
    const { objects, nodes } = rollbackNodes(target, current, '');
    exec.announce([STEP.config, STEP.release, ...nodes]);
    exec.done(STEP.config.id, `Configuration ${config.environment}: namespace ${config.namespace}, cluster ${found.provider}`);
    exec.done(STEP.release.id, `Release ${target.name}: rolling back to revision ${target.version} (${target.info.status}, ${target.info.description ?? ''}); lock held by ${session.lock.holder}${sessionNotes(session)}`);
    try {
      const { revision, pruned } = await rollbackStages(exec, cluster, session, target, objects, { cluster, timeoutSeconds: config.readyTimeoutSeconds, hints: {}, namespace: config.namespace, idPrefix: '' });
      exec.finish();
      return { revision, target: target.version, pruned, timings: exec.timings };
    } catch (err) {
      const interrupted = err instanceof Interrupted;
      await session.fail(err instanceof Error ? err.message : String(err), interrupted).catch(() => undefined);
      exec.finish(err);
      throw err;
    }
  } finally {
    await session.close().catch(() => undefined);
  }
}

/** Nodes for removing objects in deletion order: the stages that hold any of them. */
export function removalNodes(objects: readonly KubeObject[], idPrefix: string): StepNode[] {
  return DELETION_STAGES.map((stage, i) => ({ stage, position: i + 1 }))
    .filter(({ stage }) => objects.some((o) => stageOf(o) === stage))
    .map(({ stage, position }) => ({ id: `${idPrefix}${stageId(stage)}`, title: stageTitle({ stage, position }) }));
}

// The stage work a release needs besides `up`'s own: applying a recorded revision's objects
// through the same ordered, gated stages (rollback), pruning what the deployed revision no
// longer has, and removing what a failed first install created, both in reverse stage order.
// Everything runs through the executor, so every view shows it like any other stage.
import { DELETION_STAGES, planStages, stageOf } from '../order.ts';
import { planGates } from '../readiness.ts';
import { pruneCandidates } from '../diff.ts';
import { KINDS } from '../kinds.ts';
import { readLive } from '../kube/live.ts';
import type { Cluster } from '../kube/client.ts';
import type { StagePlan } from '../plan.ts';
import type { KubeObject, SourcedObject } from '../types.ts';
import type { ReleaseSession } from '../release/session.ts';
import { runStage, type Execution, type StageOptions, type StageWork } from '../executor.ts';
import { downWork } from './down.ts';

/** Objects grouped into the ten stages with their gates, as a plan has them. */
export function stagePlans(objects: readonly SourcedObject[]): StagePlan[] {
  const stages = planStages(objects);
  const gates = planGates(stages);
  return stages.map((s, i) => ({ ...s, gates: gates[i]! }));
}

/** Applies every stage that has objects, in creation order, each gated before the next. */
export async function applyStages(exec: Execution, stages: readonly StagePlan[], options: StageOptions, idPrefix = ''): Promise<void> {
  for (const planned of stages) {
    if (planned.objects.length === 0) continue;
    const work: StageWork = {
      stage: planned.stage,
      position: planned.stage.number,
      action: 'apply',
      objects: planned.objects,
      idPrefix,
      groups: [
        { title: 'not being deleted', gates: planned.gates.before, before: true },
        { title: 'rollouts', gates: planned.gates.rollouts },
        { title: 'service endpoints', gates: planned.gates.endpoints },
      ],
    };
    await runStage(exec, work, options);
  }
}

/** Deletes objects stage by stage in deletion order, each stage waiting until its objects are gone. */
export async function deleteInReverse(exec: Execution, objects: readonly KubeObject[], options: StageOptions, idPrefix = ''): Promise<void> {
  let position = 0;
  for (const stage of DELETION_STAGES) {
    position++;
    const mine = objects.filter((o) => stageOf(o) === stage);
    if (mine.length === 0) continue;
    await runStage(exec, { ...downWork(stage, position, mine), idPrefix }, options);
  }
}

/**
 * What pruning deletes: objects managed by todo-deploy in the namespace that the plan lacks
 * (lib/diff.ts pruneCandidates, the one definition `diff` shares), never the Namespace itself.
 * Objects without the managed-by label are never listed, so never touched.
 */
export async function pruneList(cluster: Cluster, namespace: string, planned: readonly KubeObject[]): Promise<KubeObject[]> {
  const live = await readLive(cluster, namespace);
  return pruneCandidates(planned, live.objects).filter((o) => o.kind !== KINDS.Namespace.ref.kind && !o.metadata.deletionTimestamp);
}

/** A recorded manifest's objects with its Secrets (recorded by key names and a hash) replaced by the ones this run generates. */
export function withCurrentSecrets(recorded: readonly SourcedObject[], current: readonly SourcedObject[]): SourcedObject[] {
  const secrets = current.filter((s) => s.object.kind === KINDS.Secret.ref.kind);
  const named = (o: KubeObject) => secrets.find((s) => s.object.metadata.name === o.metadata.name && s.object.metadata.namespace === o.metadata.namespace);
  return recorded.map((s) => (s.object.kind === KINDS.Secret.ref.kind && named(s.object) ? named(s.object)! : s));
}


/** What taking the lock and reading the history found that a person should know. */
export function sessionNotes(session: Pick<ReleaseSession, 'lock' | 'abandoned'>): string {
  const took = session.lock.tookOverFrom ? `; took over the lock from ${session.lock.tookOverFrom}, which stopped renewing it` : '';
  const left = session.abandoned.map((a) => `; revision ${a.version} was left ${a.status} by a run that did not finish: marked failed`).join('');
  return `${took}${left}`;
}

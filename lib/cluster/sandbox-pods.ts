// Which pods the sandbox runs: real ones (a kubelet and containerd on this machine) where that
// is possible, else kwok's simulated ones, saying why in one line. `--pods real|simulated`
// (or the SANDBOX_PODS setting) chooses; asking for real pods where they cannot run is refused
// with the reasons. Pure, so every choice is unit-tested.
import { POD_MODES, type PodMode } from '../controlplane/config.ts';
import type { RealNodeVerdict } from '../controlplane/node/support.ts';
import { UsageError } from '../errors.ts';

export interface PodsInputs {
  /** --pods, or the SANDBOX_PODS setting. */
  requested?: PodMode;
  /** The pods of a sandbox that already runs. */
  running?: PodMode;
  /** Whether this host can run a real node at all (Linux, root, cgroups, tools). */
  host: RealNodeVerdict;
  /** A Docker engine answers: the images a real node runs are built with it. */
  docker: boolean;
  /** The node's programs are built, or Go is here to build them. */
  buildable: boolean;
}

export interface PodsChoice {
  pods: PodMode;
  /** Why, for the one line `up` prints: the reasons real pods cannot run, or who asked. */
  why: string;
}

/** The SANDBOX_PODS setting, checked. Pure. */
export function parsePodsSetting(value: string | undefined): PodMode | undefined {
  const v = value?.trim();
  if (!v) return undefined;
  if ((POD_MODES as readonly string[]).includes(v)) return v as PodMode;
  throw new UsageError(`SANDBOX_PODS is "${v}", which is neither real nor simulated. Fix: set SANDBOX_PODS=real or SANDBOX_PODS=simulated (or pass --pods), or remove it to let the sandbox choose.`);
}

/** What keeps real pods from running here, one sentence each. Pure. */
export function realPodBlockers(i: Pick<PodsInputs, 'host' | 'docker' | 'buildable'>): string[] {
  const out = [...i.host.reasons];
  if (!i.docker) out.push('no Docker engine answers (the images the node runs are built with it)');
  if (!i.buildable) out.push('the node programs are not built and Go is not installed to build them');
  return out;
}

/** Chooses the pods of a sandbox run. Pure; throws a UsageError for a request that cannot be met. */
export function choosePods(i: PodsInputs): PodsChoice {
  if (i.running) {
    if (i.requested && i.requested !== i.running) {
      throw new UsageError(
        `The sandbox already runs with ${i.running} pods; --pods ${i.requested} needs a new one. Fix: \`npm run down -- --cluster sandbox --purge\`, then run up again (or drop --pods / SANDBOX_PODS to use the running one).`,
      );
    }
    return { pods: i.running, why: 'the running sandbox' };
  }
  if (i.requested === 'simulated') return { pods: 'simulated', why: 'asked for with --pods simulated' };
  const blockers = realPodBlockers(i);
  if (i.requested === 'real') {
    if (blockers.length) {
      throw new UsageError(`--pods real: a real node cannot run here: ${blockers.join('; ')}. Fix: address the above, or use --pods simulated (kwok; no container runs).`);
    }
    return { pods: 'real', why: 'asked for with --pods real' };
  }
  if (blockers.length) return { pods: 'simulated', why: blockers.join('; ') };
  return { pods: 'real', why: 'Linux, root and cgroups are here' };
}

/** The line `up` and `doctor` show for a choice. Pure. */
export function describePods(choice: PodsChoice): string {
  return choice.pods === 'real'
    ? 'pods run on a real node (kubelet and containerd in a network namespace)'
    : `pods simulated by kwok, nothing serves traffic (${choice.why.startsWith('asked') ? choice.why : `${choice.why}; real pods need Linux, root, cgroups and Docker`})`;
}

// The sandbox provider: the project's own control plane (lib/controlplane: real etcd,
// kube-apiserver, controller-manager and scheduler on loopback; kwok in place of kubelets),
// started in the background when it is not running and shared with `npm run controlplane`.
// It rehearses the whole pipeline on a machine without Docker or minikube: the API server is
// real, the pods are simulated and nothing serves traffic. Its Dapr control plane is a
// stand-in (lib/cluster/dapr-stand-in.ts) and its ingress controller the ingress-nginx
// stand-in; no images are built, as nothing would run them.
import { buildGroups } from '../controlplane/build-binaries.ts';
import { cacheRoot, CONTROL_PLANE_GROUPS, missingGroups, readVersions, type Group } from '../controlplane/versions.ts';
import { isAlive } from '../controlplane/processes.ts';
import { describeLeft, runningState, startDetached, stateFilePath, stopRecorded } from '../controlplane/state.ts';
import { withStartLock } from '../controlplane/start-lock.ts';
import { DeployError, UsageError } from '../errors.ts';
import { applyDaprStandIn } from './dapr-stand-in.ts';
import { getIngressClass, INGRESS_NGINX } from './ingress.ts';
import type { ClusterAddress, ClusterContext, ClusterProvider } from './provider.ts';
import { findTool, INSTALL } from './tools.ts';

export const SIMULATED =
  'Sandbox: the API server and controllers are real, but pods are simulated by kwok and nothing serves traffic (no container runs, no sidecar is injected).';

function stateFile(ctx: ClusterContext): string {
  return stateFilePath(ctx.settings as NodeJS.ProcessEnv);
}

/** Builds the groups of programs that are missing (needs Go; about 25 minutes the first time), showing build.sh's progress. */
async function ensureBinaries(ctx: ClusterContext, groups: readonly Group[] = CONTROL_PLANE_GROUPS): Promise<void> {
  const missing = missingGroups(readVersions(), groups);
  if (missing.length === 0) return;
  if (!(await findTool('go'))) {
    throw new UsageError(`The sandbox needs programs that are not built yet (${missing.join(', ')}, in ${cacheRoot()}), and Go is not installed to build them. Fix: ${INSTALL.go}, then run \`npm run controlplane:build\` (or \`up\` again).`);
  }
  ctx.log(`building ${missing.join(', ')} from the Go module proxy (once; progress below, full output in each group's build.log)`);
  const built = await buildGroups(missing, (line) => ctx.log(ctx.redact(line)));
  if (!built.ok) {
    throw new DeployError(`Building the sandbox's programs failed:\n${ctx.redact(built.error ?? '')}\nFix: read the log named above; \`npm run controlplane:build\` runs the same build.`);
  }
}

export const sandboxProvider: ClusterProvider = {
  name: 'sandbox',
  imagesNotNeeded: 'not built for the sandbox: kwok simulates the pods, so nothing would run the images (the manifests name the IMAGE_TAG refs)',

  async ensureCluster(ctx) {
    const file = stateFile(ctx);
    const running = runningState(file);
    if (running) return { kubeconfig: running.kubeconfig, summary: `sandbox control plane: already running at ${running.server} (pods simulated)` };
    // Checked again under the lock: another run may have started it while we waited.
    return withStartLock(file, ctx.log, async () => {
      const started = runningState(file);
      if (started) return { kubeconfig: started.kubeconfig, summary: `sandbox control plane: already running at ${started.server}, started by another run (pods simulated)` };
      await ensureBinaries(ctx);
      ctx.log('starting the sandbox control plane (etcd, kube-apiserver, kube-controller-manager, kube-scheduler, kwok, ingress stand-in)');
      const state = await startDetached({ log: ctx.log }, file);
      return { kubeconfig: state.kubeconfig, summary: `sandbox control plane: started at ${state.server}, ${state.versions} (pods simulated)` };
    });
  },

  async findCluster(ctx) {
    const running = runningState(stateFile(ctx));
    if (running) return { kubeconfig: running.kubeconfig, summary: `sandbox control plane at ${running.server}` };
    return { absent: 'the sandbox control plane is not running' };
  },

  async ensureIngress(cluster, ctx) {
    const standIn = runningState(stateFile(ctx))?.processes.find((p) => p.name === 'ingress-stand-in');
    const cls = await getIngressClass(cluster);
    if (!standIn || !isAlive(standIn.pid) || !cls) {
      throw new DeployError(
        `The sandbox runs without its ingress stand-in (${!standIn ? 'not started' : !isAlive(standIn.pid) ? `pid ${standIn.pid} ended` : `no IngressClass ${INGRESS_NGINX.className}`}), so the Ingress would never get an address. ` +
          'Fix: restart the sandbox: `npm run down -- --cluster sandbox --purge`, then `up` again (or `npm run controlplane -- stop` and `start` without --no-ingress).',
      );
    }
    return `Ingress controller: the ingress-nginx stand-in (publishes Ingress addresses; serves no traffic)`;
  },

  async loadImages(refs) {
    return refs;
  },

  async address(): Promise<ClusterAddress> {
    return { serves: false, hint: `${SIMULATED} The URL is not reachable; use --cluster minikube or --cluster kind to run the app.` };
  },

  async provideDapr(cluster) {
    await applyDaprStandIn(cluster.kc);
    return 'stand-in created in dapr-system (kwok-simulated workloads named like Dapr\'s; not Dapr, no sidecars)';
  },

  async purge(ctx) {
    const file = stateFile(ctx);
    const running = runningState(file);
    if (!running) return 'the sandbox control plane was not running';
    const left = describeLeft(await stopRecorded(running, file));
    if (left) throw new DeployError(`Could not stop the sandbox control plane cleanly: ${left}.`);
    return `sandbox control plane stopped (${running.processes.map((p) => p.name).join(', ')})`;
  },
};

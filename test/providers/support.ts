// Shared set-up of the provider suites: a real control plane (lib/controlplane) for the
// objects the providers wait on, the recording fakes on PATH, a private kubeconfig file that
// the fakes write contexts into (as minikube and kind do), and a ClusterContext whose
// redaction hides one known secret value.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { KubernetesObjectApi } from '@kubernetes/client-node';
import { startControlPlane, type ControlPlane, type ControlPlaneOptions } from '../../lib/controlplane/index.ts';
import type { ClusterContext } from '../../lib/cluster/provider.ts';
import type { ImageRefs } from '../../lib/types.ts';
import { loadKubeConfig, type Cluster } from '../../lib/kube/client.ts';
import { watchUntil } from '../../lib/kube/watch.ts';
import { goneVerdict } from '../../lib/kinds.ts';
import { fakeBin, useFakes, type FakeBin, type FakeTool } from '../fakes/harness.ts';

/** A value that must never appear in what a provider shows: tools echo it in the tests. */
export const SECRET = 'sk-provider-test-secret-7f3a9c';

export const REFS: ImageRefs = {
  frontend: 'todo-frontend:0123456789ab',
  backend: 'todo-backend:123456789abc',
  mcpServer: 'todo-mcp-server:23456789abcd',
  postgres: 'todo-postgres:3456789abcde',
  redis: 'todo-redis:456789abcdef',
};

export interface World {
  plane: ControlPlane;
  bin: FakeBin;
  tmp: string;
  /** The kubeconfig file the fakes write contexts into (KUBECONFIG while the suite runs). */
  kubeconfig: string;
  /** Where created clusters are recorded (TODO_DEPLOY_STATE_DIR). */
  stateDir: string;
  logs: string[];
  ctx(settings?: Record<string, string>, timeoutSeconds?: number): ClusterContext;
  /** The client for a context of the private kubeconfig. */
  cluster(context?: string): Cluster;
  stop(): Promise<void>;
}

export async function startWorld(tools: FakeTool[], planeOptions: ControlPlaneOptions = {}, system: string[] = []): Promise<World> {
  const plane = await startControlPlane({ ingressStandIn: false, ...planeOptions });
  const tmp = mkdtempSync(path.join(tmpdir(), 'todo-deploy-providers-'));
  const bin = fakeBin(tools, { system });
  const kubeconfig = path.join(tmp, 'kubeconfig');
  const stateDir = path.join(tmp, 'state');
  const restore = useFakes(bin, { KUBECONFIG: kubeconfig });
  const logs: string[] = [];
  return {
    plane,
    bin,
    tmp,
    kubeconfig,
    stateDir,
    logs,
    ctx: (settings = {}, timeoutSeconds = 60) => ({
      environment: 'dev',
      settings: { TODO_DEPLOY_STATE_DIR: stateDir, ...settings },
      log: (line) => logs.push(line),
      redact: (s) => s.split(SECRET).join('[redacted]'),
      timeoutSeconds,
    }),
    cluster: (context) => loadKubeConfig(context),
    stop: async () => {
      restore();
      bin.cleanup();
      await plane.stop();
      rmSync(tmp, { recursive: true, force: true });
    },
  };
}

/** Deletes an object and waits (by watch) until it is gone. */
export async function deleteAndWait(world: World, object: { apiVersion: string; kind: string; plural: string; namespace?: string; name: string }): Promise<void> {
  const api = KubernetesObjectApi.makeApiClient(world.plane.kc);
  try {
    await api.delete({ apiVersion: object.apiVersion, kind: object.kind, metadata: { name: object.name, namespace: object.namespace } }, undefined, undefined, 0, undefined, 'Foreground');
  } catch (err) {
    if ((err as { code?: number }).code !== 404) throw err;
  }
  const cluster = { kc: world.plane.kc, objects: api, context: 'admin', server: world.plane.server };
  await watchUntil(cluster, { kind: { apiVersion: object.apiVersion, kind: object.kind, plural: object.plural, namespaced: !!object.namespace }, namespace: object.namespace, name: object.name }, goneVerdict(object.name), {
    deadline: Date.now() + 60_000,
    goal: `${object.kind} ${object.name} to be deleted`,
  });
}

/** Runs fn and returns what it threw (fails when it did not throw). */
export async function rejection(fn: () => Promise<unknown>): Promise<Error> {
  try {
    await fn();
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected a rejection, but the call succeeded');
}

// The state of a control plane that outlives the process that started it: the CLI's
// `npm run controlplane -- start` and `npm run up -- --cluster sandbox` both keep it in one
// file, so either can find, reuse or stop what the other started.
//
// The file is <cache>/state.json (see cacheRoot); TODO_DEPLOY_CONTROLPLANE_STATE names another
// file, which lets a test run its own sandbox without touching a developer's.

import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { parse } from 'yaml';
import { healthFromArgs, waitForHealthy } from './health.ts';
import { RESTARTABLE, removePlaneDir, startControlPlane, type ControlPlaneOptions, type NetworkPolicyMode, type RestartableComponent } from './index.ts';
import { removePolicyRules } from './node/policy-controller.ts';
import type { PodMode } from './config.ts';
import type { RealNodeRecord } from './node/index.ts';
import type { RegistryEndpoints } from './registry.ts';
import { recoverAbandonedNode, type Recovery } from './node/recover.ts';
import { isAlive, startComponent, stopPids, TEARDOWN_GRACE_MS } from './processes.ts';
import { cacheRoot, describeVersions } from './versions.ts';

export interface ControlPlaneState {
  dir: string;
  kubeconfig: string;
  server: string;
  versions: string;
  processes: { name: string; pid: number }[];
  startedAt: string;
  /** Who runs the pods (absent in files written before real nodes existed: simulated). */
  pods?: PodMode;
  /** With real pods: what the sweep needs to put the host back. */
  node?: RealNodeRecord;
  /** Further real nodes (the sweep of the first finds them on disk too). */
  furtherNodes?: RealNodeRecord[];
  /** The image registry's endpoints, when it runs (REGISTRY is `registry.push`). */
  registry?: RegistryEndpoints;
  /** Whether the real node enforces NetworkPolicies (absent in files written before: off). */
  networkPolicies?: NetworkPolicyMode;
}

/** Whether a recorded plane enforces NetworkPolicies now: asked for, and kube-router alive. */
export function enforcesPolicies(state: ControlPlaneState): boolean {
  const controller = state.processes.find((p) => p.name === 'kube-router');
  return state.networkPolicies === 'enforce' && !!controller && isAlive(controller.pid);
}

/**
 * Turns enforcement off on a running recorded plane: stops kube-router, removes its rules and
 * ipsets from the node's namespace, and records the plane as not enforcing. Returns what could
 * not be removed (empty when clean).
 */
export async function stopPolicyEnforcement(state: ControlPlaneState, file = stateFilePath()): Promise<string[]> {
  const controller = state.processes.find((p) => p.name === 'kube-router');
  if (controller) await stopPids([controller.pid], TEARDOWN_GRACE_MS);
  const left = state.node ? removePolicyRules(state.node.netns) : [];
  state.processes = state.processes.filter((p) => p !== controller);
  state.networkPolicies = 'off';
  writeFileSync(file, JSON.stringify(state, null, 2), { mode: 0o600 });
  return left;
}

/** Who runs the pods of a recorded plane. */
export function podsOf(state: ControlPlaneState): PodMode {
  return state.pods ?? 'simulated';
}

export function stateFilePath(env: NodeJS.ProcessEnv = process.env): string {
  const override = env.TODO_DEPLOY_CONTROLPLANE_STATE;
  return override && override !== '' ? override : join(cacheRoot(env), 'state.json');
}

export function readState(file = stateFilePath()): ControlPlaneState | undefined {
  if (!existsSync(file)) return undefined;
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as ControlPlaneState;
  } catch {
    return undefined;
  }
}

/** True while any of its processes lives. */
export function isRunning(state: ControlPlaneState): boolean {
  return state.processes.some((p) => isAlive(p.pid));
}

/** The state of a running plane, or undefined (a stale file is removed). */
export function runningState(file = stateFilePath()): ControlPlaneState | undefined {
  const state = readState(file);
  if (state && isRunning(state)) return state;
  if (state) rmSync(file, { force: true });
  return undefined;
}

/** Starts a detached plane (it outlives this process) and records it. */
export async function startDetached(options: Omit<ControlPlaneOptions, 'detached'> = {}, file = stateFilePath()): Promise<ControlPlaneState> {
  const plane = await startControlPlane({ ...options, detached: true });
  const state: ControlPlaneState = {
    dir: plane.dir,
    kubeconfig: plane.kubeconfig,
    server: plane.server,
    versions: describeVersions(plane.versions),
    processes: plane.processes,
    startedAt: new Date().toISOString(),
    pods: plane.pods,
    node: plane.node,
    ...(plane.furtherNodes ? { furtherNodes: plane.furtherNodes } : {}),
    ...(plane.registry ? { registry: plane.registry } : {}),
    networkPolicies: plane.networkPolicies,
  };
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, JSON.stringify(state, null, 2), { mode: 0o600 });
  return state;
}

/**
 * Stops every process of a recorded plane, puts the host back after a real node (sweep), and
 * removes its folder and the state file; returns the processes left alive and anything the
 * sweep could not remove.
 */
export async function stopRecorded(state: ControlPlaneState, file = stateFilePath(), log: (line: string) => void = () => {}): Promise<StopResult> {
  const started = Date.now();
  const took = () => `${((Date.now() - started) / 1000).toFixed(1)} s`;
  // The node's programs first (the kubelet must not restart what the sweep kills), then the rest.
  const order = [...state.processes].reverse();
  const node = order.filter((p) => isNodeProgram(p.name));
  if (node.length) {
    await stopPids(node.map((p) => p.pid), TEARDOWN_GRACE_MS);
    log(`stopped ${node.map((p) => p.name).join(', ')} (${took()})`);
  }
  await stopPids(order.map((p) => p.pid), TEARDOWN_GRACE_MS);
  log(`stopped ${order.filter((p) => !isNodeProgram(p.name)).map((p) => p.name).join(', ')} (${took()})`);
  const alive = state.processes.filter((p) => isAlive(p.pid));
  const leftovers = removePlaneDir(state.dir, state.node);
  log(`${state.node ? 'real node swept, ' : ''}folder ${state.dir} removed (${took()})`);
  rmSync(file, { force: true });
  return { alive, leftovers };
}

/**
 * Restarts one component of a recorded (detached) plane: the same program with the same
 * arguments, read from /proc/<pid>/cmdline, down for downMs, then waited on until healthy.
 * The state file gets the new pid.
 */
export async function restartRecorded(state: ControlPlaneState, name: string, downMs = 0, file = stateFilePath(), deadlineMs = 60_000): Promise<number> {
  if (!(RESTARTABLE as readonly string[]).includes(name)) throw new Error(`Cannot restart '${name}': restartable components are ${RESTARTABLE.join(', ')}.`);
  const entry = state.processes.find((p) => p.name === name);
  if (!entry || !isAlive(entry.pid)) throw new Error(`${name} is not running, so its arguments cannot be read. Fix: npm run controlplane -- stop, then start.`);
  const argv = readFileSync(`/proc/${entry.pid}/cmdline`, 'utf8').split('\0').filter((a) => a !== '');
  await stopPids([entry.pid]);
  if (downMs > 0) await new Promise((r) => setTimeout(r, downMs));
  const c = startComponent(name, argv[0]!, argv.slice(1), join(state.dir, 'logs'));
  c.proc.unref();
  entry.pid = c.pid;
  writeFileSync(file, JSON.stringify(state, null, 2), { mode: 0o600 });
  const token = (parse(readFileSync(state.kubeconfig, 'utf8')) as { users?: { user?: { token?: string } }[] }).users?.[0]?.user?.token;
  await waitForHealthy(healthFromArgs(name as RestartableComponent, argv.slice(1), token), deadlineMs, c);
  return c.pid;
}

export interface StopResult {
  /** Processes still alive after SIGKILL. */
  alive: { name: string; pid: number }[];
  /** What the real node's sweep could not remove (mounts, cgroups, the network namespace). */
  leftovers: string[];
}

/** A sentence saying what a stop left behind and how to end it, or undefined when nothing. Pure. */
export function describeLeft(result: StopResult): string | undefined {
  const parts: string[] = [];
  if (result.alive.length) parts.push(`${result.alive.map((p) => `${p.name} (pid ${p.pid})`).join(', ')} still run (end them with \`kill ${result.alive.map((p) => p.pid).join(' ')}\`)`);
  if (result.leftovers.length) parts.push(`left behind: ${result.leftovers.join('; ')}`);
  return parts.length ? parts.join('; ') : undefined;
}

/** A node's program: the first node's kube-router, kube-proxy, kubelet, containerd, or a further node's (kubelet-2, ...). Pure. */
export function isNodeProgram(name: string): boolean {
  return /^(kube-router|kube-proxy|kubelet|containerd)(-\d)?$/.test(name);
}

/**
 * After a stop (or when no plane is recorded): removes an abandoned real node's leftovers from
 * the host (node/recover.ts), never a running one. `stopped` is the plane just stopped, whose
 * processes still alive keep any node counted as running.
 */
export function recoverAbandoned(stopped?: { state: ControlPlaneState; result: StopResult }): Recovery {
  return recoverAbandonedNode(removePlaneDir, stopped ? { dir: stopped.state.dir, alive: stopped.result.alive } : undefined);
}

/** A sentence for a user after recoverAbandoned: what was removed, what was left, or a running node left alone. Pure. */
export function describeRecovery(recovery: Recovery): { line?: string; problem?: string } {
  if (recovery.left.length) return { line: recovery.line, problem: `an abandoned real node could not be removed completely: left ${recovery.left.join('; ')}` };
  if (recovery.verdict.state === 'live') return { line: `A real node started by another process runs (${recovery.verdict.holders.join(', ')}): left alone.` };
  return { line: recovery.line };
}

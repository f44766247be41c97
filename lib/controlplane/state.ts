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
import { RESTARTABLE, startControlPlane, type ControlPlaneOptions, type RestartableComponent } from './index.ts';
import { isAlive, startComponent, stopPids } from './processes.ts';
import { cacheRoot, describeVersions } from './versions.ts';

export interface ControlPlaneState {
  dir: string;
  kubeconfig: string;
  server: string;
  versions: string;
  processes: { name: string; pid: number }[];
  startedAt: string;
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
  };
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, JSON.stringify(state, null, 2), { mode: 0o600 });
  return state;
}

/** Stops every process of a recorded plane and removes its folder and the state file; returns the processes left alive. */
export async function stopRecorded(state: ControlPlaneState, file = stateFilePath()): Promise<{ name: string; pid: number }[]> {
  await stopPids(state.processes.map((p) => p.pid));
  const left = state.processes.filter((p) => isAlive(p.pid));
  rmSync(state.dir, { recursive: true, force: true });
  rmSync(file, { force: true });
  return left;
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

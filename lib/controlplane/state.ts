// The state of a control plane that outlives the process that started it: the CLI's
// `npm run controlplane -- start` and `npm run up -- --cluster sandbox` both keep it in one
// file, so either can find, reuse or stop what the other started.
//
// The file is <cache>/state.json (see cacheRoot); TODO_DEPLOY_CONTROLPLANE_STATE names another
// file, which lets a test run its own sandbox without touching a developer's.

import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { startControlPlane, type ControlPlaneOptions } from './index.ts';
import { isAlive, stopPids } from './processes.ts';
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

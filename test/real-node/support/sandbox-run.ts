// What the suites that run the sandbox's real nodes through its commands share: the environment
// those commands run with (their own state file, test secrets, nothing of the caller's cluster,
// registry or database), and the clean-up that leaves no sandbox or node behind whatever failed.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { KubeConfig } from '@kubernetes/client-node';
import { readState, recoverAbandoned, stopRecorded, type ControlPlaneState } from '../../../lib/controlplane/state.ts';
import { hostSnapshot, type HostSnapshot } from './host.ts';

/** What such a suite's tests share: the host before it, its folder and state file, the commands' environment, the plane. */
export interface SandboxSuiteCtx {
  before?: HostSnapshot;
  tmp?: string;
  stateFile?: string;
  env?: NodeJS.ProcessEnv;
  state?: ControlPlaneState;
  kc?: KubeConfig;
}

/**
 * The environment of `npm run controlplane|up|down ...` in a suite named `name`: the plane
 * recorded in `stateFile`; secrets as CI passes them; KUBECONFIG, REGISTRY and DATABASE_URL
 * empty until the suite sets them; NODE_IMAGE empty as on a clean clone (where
 * node:22-bookworm-slim cannot be pulled, the images step builds and uses the offline base).
 */
export function sandboxScriptEnv(name: string, stateFile: string, more: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return {
    ...process.env,
    TODO_DEPLOY_CONTROLPLANE_STATE: stateFile,
    OPENAI_API_KEY: `sk-${name}-test-not-a-real-key`,
    BETTER_AUTH_SECRET: `${name}-test-auth-secret-0123456789abcdef`,
    KUBECONFIG: '',
    REGISTRY: '',
    DATABASE_URL: '',
    NODE_IMAGE: '',
    // The default (enforced on a real node), whatever the caller's environment says; netpol asks for it by name.
    SANDBOX_NETWORK_POLICIES: '',
    CI: 'true',
    NO_COLOR: '1',
    FORCE_COLOR: '0',
    ...more,
  };
}

/** Stops the plane recorded in `stateFile`, if any, and sweeps a node abandoned by a failed test; says what it swept. */
export async function leaveNoSandbox(stateFile: string | undefined): Promise<void> {
  const left = stateFile ? readState(stateFile) : undefined;
  if (left) await stopRecorded(left, stateFile);
  const recovery = recoverAbandoned();
  if (recovery.line || recovery.left.length) console.log(`  after: ${recovery.line ?? ''} ${recovery.left.join('; ')}`);
}

/** A suite's start: the host as it was, a folder of its own with the plane's state file, the commands' environment. */
export function openSandboxSuite(ctx: SandboxSuiteCtx, name: string, more: NodeJS.ProcessEnv = {}): void {
  ctx.before = hostSnapshot();
  ctx.tmp = mkdtempSync(join(tmpdir(), `todo-deploy-${name}-`));
  ctx.stateFile = join(ctx.tmp, 'controlplane-state.json');
  ctx.env = sandboxScriptEnv(name, ctx.stateFile, more);
}

/** A suite's end, whatever happened in it: no sandbox (and no node a failed test abandoned) outlives it, nor its folder. */
export async function closeSandboxSuite(ctx: SandboxSuiteCtx): Promise<void> {
  await leaveNoSandbox(ctx.stateFile);
  if (ctx.tmp) rmSync(ctx.tmp, { recursive: true, force: true });
}

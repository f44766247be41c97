// What a suite needs to run the real scripts against a sandbox of its own: a PATH of npm, node
// and the shells only (no minikube, kind or docker to choose instead), a scratch state file for
// the control plane (a developer's own `npm run controlplane` is never touched), and a clean-up
// that stops whatever plane the suite's runs left and removes the scratch files.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { readState, stopRecorded } from '../../lib/controlplane/state.ts';
import { fakeBin } from '../fakes/harness.ts';

export interface SandboxRuns {
  /** The control plane's state file for these runs. */
  stateFile: string;
  /** The runs' environment: `extra` over the PATH, HOME, an absent kubeconfig and the state file. */
  env: NodeJS.ProcessEnv;
  cleanup(): Promise<void>;
}

export function sandboxRuns(prefix: string, extra: NodeJS.ProcessEnv): SandboxRuns {
  const bin = fakeBin([], { system: ['npm', 'sh'] });
  const tmp = mkdtempSync(path.join(tmpdir(), prefix));
  const stateFile = path.join(tmp, 'controlplane-state.json');
  const env = {
    ...bin.env(),
    HOME: process.env.HOME, // the control-plane binaries live in the user's cache folder
    KUBECONFIG: path.join(tmp, 'no-kubeconfig'),
    TODO_DEPLOY_CONTROLPLANE_STATE: stateFile,
    ...extra,
  };
  return {
    stateFile,
    env,
    async cleanup() {
      const left = readState(stateFile);
      if (left) await stopRecorded(left, stateFile);
      bin.cleanup();
      rmSync(tmp, { recursive: true, force: true });
    },
  };
}

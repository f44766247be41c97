// The node's programs and images, from the build cache (lib/controlplane/build/build.sh
// builds them; lib/controlplane/versions.ts knows where), with runc resolved on PATH.

import { spawnSync } from 'node:child_process';
import { checkNodeArtifacts, nodeArtifacts, readVersions } from '../versions.ts';
import type { NodeBinaries } from './index.ts';

/** Absolute path of a program on PATH, or undefined. */
export function which(program: string): string | undefined {
  const r = spawnSync('sh', ['-c', `command -v ${program}`], { encoding: 'utf8' });
  const path = r.status === 0 ? r.stdout.trim() : '';
  return path.startsWith('/') ? path : undefined;
}

/** Absolute paths of everything the node runs, for the pinned versions. */
export function nodeBinaries(): NodeBinaries {
  const a = nodeArtifacts(readVersions());
  return {
    kubelet: a.kubelet,
    kubeProxy: a.kubeProxy,
    containerd: a.containerd,
    ctr: a.ctr,
    containerdBinDir: a.containerdBinDir,
    cniBinDir: a.cniBinDir,
    runc: which(a.runc.command) ?? a.runc.command,
    kubeRouter: a.kubeRouter,
    images: a.images,
  };
}

/** What keeps the node's programs from being used (unbuilt groups, runc absent or another release): empty when ready. */
export function nodeBinaryProblems(): string[] {
  return checkNodeArtifacts(readVersions());
}

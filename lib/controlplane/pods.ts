// Who runs the sandbox's pods: kwok pretends (simulated), or a real kubelet and containerd
// (lib/controlplane/node). A module of its own, free of imports, so flag parsing stays cheap.
export type PodMode = 'simulated' | 'real';
export const POD_MODES: readonly PodMode[] = ['simulated', 'real'];

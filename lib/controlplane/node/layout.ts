// Where the real nodes live: their network (a network namespace each, because a node address
// cannot be loopback) and their files (all inside the control plane's folder, so removing that
// folder removes them). Pure values, no I/O.
//
//   host                                   network namespace todo-deploy-node (node 1, index 0)
//   todo-node-host 10.250.0.1/24  <-veth->  eth0 10.250.0.2/24 (default route to the host)
//   kube-apiserver binds 10.250.0.1         containerd, kubelet, kube-proxy; bridge cni0
//   routes 10.244.0.0/16, 10.96.0.0/16        10.244.0.1/24 for the pods
//     via 10.250.0.2 (pods and Services     todo-node2 10.250.1.1/24 <-veth-> (node 2's eth0)
//     are reachable from the host);         routes 10.244.1.0/24 via 10.250.1.2
//   10.250.1.0/24 via 10.250.0.2
//                                          network namespace todo-deploy-node-2 (index 1)
//                                           eth0 10.250.1.2/24 (default route to node 1)
//                                           its own containerd, kubelet, kube-proxy; cni0
//                                           10.244.1.1/24 for its pods
//
// Every further node hangs off the first node's namespace, not off the host: traffic between
// nodes is then forwarded inside that namespace, whose firewall is the node's own, while the
// host's FORWARD chain (Docker sets its policy to DROP) would drop it, and the sandbox adds no
// rule to the host's firewall. The first node is laid out exactly as when it was the only one.

import { join } from 'node:path';

/** The one real node's name (kubelet --hostname-override, the Node object, its token user). */
export const NODE_NAME = 'todo-deploy-node';
/** The network namespace (/run/netns/<name>) the node's programs run in. */
export const NETNS = 'todo-deploy-node';
/** Host end of the veth pair (at most 15 characters); the node end is eth0 inside the namespace. */
export const HOST_VETH = 'todo-node-host';
export const NODE_VETH = 'eth0';
export const NODE_SUBNET_PREFIX = 24;
/** The host's address on the veth: kube-apiserver binds and advertises it. */
export const HOST_ADDRESS = '10.250.0.1';
/** The node's InternalIP. */
export const NODE_ADDRESS = '10.250.0.2';
export const NODE_SUBNET = '10.250.0.0/24';
/** The node's pod range: the first /24 of the cluster's pod CIDR, which the controller-manager allocates to the first node. */
export const NODE_POD_CIDR = '10.244.0.0/24';
/** The cluster DNS Service's address (kubelet clusterDNS, kube-dns Service clusterIP). */
export const CLUSTER_DNS = '10.96.0.10';
export const CLUSTER_DOMAIN = 'cluster.local';
/** The parent cgroup of every pod (kubelet cgroupRoot), so a sweep finds exactly our processes. */
export const CGROUP_ROOT = 'todo-deploy-node';
/** containerd's namespace for Kubernetes (CRI). */
export const CRI_NAMESPACE = 'k8s.io';

/** How many real nodes a sandbox may run (veth names stay within 15 characters up to 9). */
export const MAX_REAL_NODES = 9;

/** One node's name, network and pods' range, by its index (0: the first node, the default). Pure. */
export interface NodeIdentity {
  index: number;
  /** kubelet --hostname-override, the Node object, its token user. */
  name: string;
  /** The network namespace its programs run in. */
  netns: string;
  /** Its InternalIP. */
  address: string;
  /** The link it sits on (a /24 of its own) and the address across it: the host's for the first node, the first node's for the others. */
  linkSubnet: string;
  gateway: string;
  /** The veth end across the link: in the host for the first node, in the first node's namespace for the others. */
  upstreamVeth: string;
  /** Its pods' range: the index-th /24 of the cluster's pod CIDR, which the controller-manager allocates to the index-th node registered. */
  podCidr: string;
  /** The parent cgroup of its pods (kubelet cgroupRoot): one per node, so two kubelets never manage one tree. */
  cgroupRoot: string;
  /** Its folder's name in the plane folder. */
  dirName: string;
}

export function nodeIdentity(index: number): NodeIdentity {
  if (!Number.isInteger(index) || index < 0 || index >= MAX_REAL_NODES) throw new Error(`A real node's index runs from 0 to ${MAX_REAL_NODES - 1}, not ${index}.`);
  if (index === 0) {
    return { index, name: NODE_NAME, netns: NETNS, address: NODE_ADDRESS, linkSubnet: NODE_SUBNET, gateway: HOST_ADDRESS, upstreamVeth: HOST_VETH, podCidr: NODE_POD_CIDR, cgroupRoot: CGROUP_ROOT, dirName: 'node' };
  }
  const n = index + 1;
  return {
    index,
    name: `${NODE_NAME}-${n}`,
    netns: `${NETNS}-${n}`,
    address: `10.250.${index}.2`,
    linkSubnet: `10.250.${index}.0/${NODE_SUBNET_PREFIX}`,
    gateway: `10.250.${index}.1`,
    upstreamVeth: `todo-node${n}`,
    podCidr: `10.244.${index}.0/24`,
    cgroupRoot: `${CGROUP_ROOT}-${n}`,
    dirName: `node-${n}`,
  };
}

/** The index of a node's network namespace name (todo-deploy-node -> 0, todo-deploy-node-2 -> 1), or undefined for any other name. Pure. */
export function nodeIndexOfNetns(name: string): number | undefined {
  if (name === NETNS) return 0;
  const m = new RegExp(`^${NETNS}-(\\d)$`).exec(name);
  const index = m ? Number(m[1]) - 1 : undefined;
  return index !== undefined && index >= 1 && index < MAX_REAL_NODES ? index : undefined;
}

export interface NodeLayout extends NodeIdentity {
  /** <plane folder>/node (the first node), <plane folder>/node-<n> (the others) */
  dir: string;
  pkiDir: string;
  clientCaCert: string;
  clientCaKey: string;
  /** kube-apiserver's client certificate towards the kubelet (logs, exec, port-forward). */
  apiserverKubeletClientCert: string;
  apiserverKubeletClientKey: string;
  containerdConfig: string;
  containerdRoot: string;
  containerdState: string;
  /** containerd's gRPC socket (unix path). */
  containerdSocket: string;
  /** Where the shims put their sockets (containerd's default is the host's /run/containerd/s). */
  shimSocketDir: string;
  /** runc's state (its default is the host's /run/containerd/runc). */
  runcRoot: string;
  cniConfDir: string;
  /** host-local IPAM's store of allocated pod addresses. */
  cniDataDir: string;
  kubeletConfig: string;
  kubeletKubeconfig: string;
  kubeletRoot: string;
  podLogsDir: string;
  kubeProxyConfig: string;
  kubeProxyKubeconfig: string;
  /** Image archives exported from Docker before they are imported into containerd. */
  imagesDir: string;
  /** containerd's registry hosts folder (CRI config_path): <registry host:port>/hosts.toml, for the sandbox's registry only. */
  registryHostsDir: string;
  /** What a sweep needs (RealNodeRecord, JSON): the reaper's sweep and a later recovery read it. */
  recordFile: string;
}

export function nodeLayoutFor(planeDir: string, index = 0): NodeLayout {
  const id = nodeIdentity(index);
  const dir = join(planeDir, id.dirName);
  // One client CA for the plane: the API server's kubelet client certificate is trusted by every kubelet.
  const pkiDir = join(planeDir, 'node', 'pki');
  return {
    ...id,
    dir,
    pkiDir,
    clientCaCert: join(pkiDir, 'client-ca.crt'),
    clientCaKey: join(pkiDir, 'client-ca.key'),
    apiserverKubeletClientCert: join(pkiDir, 'apiserver-kubelet-client.crt'),
    apiserverKubeletClientKey: join(pkiDir, 'apiserver-kubelet-client.key'),
    containerdConfig: join(dir, 'containerd.toml'),
    containerdRoot: join(dir, 'containerd', 'root'),
    containerdState: join(dir, 'containerd', 'state'),
    containerdSocket: join(dir, 'containerd', 'containerd.sock'),
    shimSocketDir: join(dir, 's'),
    runcRoot: join(dir, 'containerd', 'state', 'runc'),
    cniConfDir: join(dir, 'cni', 'net.d'),
    cniDataDir: join(dir, 'cni', 'networks'),
    kubeletConfig: join(dir, 'kubelet.yaml'),
    kubeletKubeconfig: join(dir, 'kubelet.kubeconfig'),
    kubeletRoot: join(dir, 'kubelet'),
    podLogsDir: join(dir, 'pod-logs'),
    kubeProxyConfig: join(dir, 'kube-proxy.yaml'),
    kubeProxyKubeconfig: join(dir, 'kube-proxy.kubeconfig'),
    imagesDir: join(dir, 'images'),
    registryHostsDir: join(dir, 'certs.d'),
    recordFile: join(dir, 'record.json'),
  };
}

/** containerd refuses a shim socket folder longer than this (a socket path must fit in 108 bytes). */
export const MAX_SHIM_SOCKET_DIR = 42;
/** containerd's own shim socket folder, used when ours would be too long. */
export const DEFAULT_SHIM_SOCKET_DIR = '/run/containerd/s';

/** /run/netns/<name>: what `nsenter --net=` joins. */
export function netnsPath(name = NETNS): string {
  return `/run/netns/${name}`;
}

/**
 * Host paths the kubelet, containerd and the CNI library create outside their configured
 * folders (hard-coded in them). Whichever did not exist before the node started is removed
 * when it stops.
 */
export const HOST_PATHS = ['/var/lib/kubelet', '/var/lib/cni', '/var/log/pods', '/var/log/containers', '/run/containerd', '/var/run/nri', '/etc/cni', '/opt/cni'];

/**
 * Host kernel settings the kubelet rewrites at start unless they already hold its values
 * (container_manager_linux.go setupKernelTunables). They are not namespaced, so the node
 * records them before the kubelet starts and writes them back once it has.
 */
export const KUBELET_SYSCTLS = ['vm/overcommit_memory', 'vm/panic_on_oom', 'kernel/panic', 'kernel/panic_on_oops', 'kernel/keys/root_maxkeys', 'kernel/keys/root_maxbytes'];

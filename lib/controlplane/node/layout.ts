// Where the real node lives: its network (a network namespace joined to the host by a veth
// pair, because a node address cannot be loopback) and its files (all inside the control
// plane's folder, so removing that folder removes them). Pure values, no I/O.
//
//   host                                   network namespace todo-deploy-node
//   todo-node-host 10.250.0.1/24  <-veth->  eth0 10.250.0.2/24 (default route to the host)
//   kube-apiserver binds 10.250.0.1         containerd, kubelet, kube-proxy; bridge cni0
//   routes 10.244.0.0/16, 10.96.0.0/16        10.244.0.1/24 for the pods
//     via 10.250.0.2 (pods and Services
//     are reachable from the host)

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

export interface NodeLayout {
  /** <plane folder>/node */
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

export function nodeLayoutFor(planeDir: string): NodeLayout {
  const dir = join(planeDir, 'node');
  const pkiDir = join(dir, 'pki');
  return {
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

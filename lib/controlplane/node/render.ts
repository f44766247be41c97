// The real node's configuration files, as pure functions of its layout: containerd's TOML,
// the CNI network, the kubelet's and kube-proxy's configuration, and the cluster DNS
// (CoreDNS) objects. Every setting that works around this kind of host says why
// (shared/REAL-NODE.md: cgroup v1, no CAP_SYS_RESOURCE, host kernel settings).

import { stringify } from 'yaml';
import type { KubeObject } from '../../types.ts';
import { POD_CIDR } from '../config.ts';
import { CLUSTER_DNS, CLUSTER_DOMAIN, CRI_NAMESPACE, MAX_SHIM_SOCKET_DIR, type NodeLayout } from './layout.ts';

export interface NodePrograms {
  /** Folder holding bridge, host-local, loopback and portmap. */
  cniBinDir: string;
  /** Absolute path of runc. */
  runc: string;
  /** The pod sandbox image, already imported (nothing can be pulled). */
  pauseImage: string;
}

/** A TOML basic string: JSON's escapes are valid TOML escapes. Pure. */
const q = (s: string) => JSON.stringify(s);

/** containerd 2.x configuration (version 3). Pure. */
export function containerdToml(l: NodeLayout, p: NodePrograms): string {
  // Shim sockets in the node's folder when the path fits; else in /run/containerd/s, where
  // the sweep removes exactly ours (their names are hashes of our socket and the task ids).
  const shimSockets =
    l.shimSocketDir.length <= MAX_SHIM_SOCKET_DIR
      ? `
  [plugins.'io.containerd.shim.v1.manager']
    socket_dir = ${q(l.shimSocketDir)}
`
      : '';
  return `# containerd for the todo-deploy sandbox's real node (written by lib/controlplane/node).
version = 3
root = ${q(l.containerdRoot)}
state = ${q(l.containerdState)}
# No CAP_SYS_RESOURCE on these hosts: never try to lower our own OOM score.
oom_score = 0

[grpc]
  address = ${q(l.containerdSocket)}

[plugins]${shimSockets}
  # NRI would listen on /var/run/nri; nothing here uses it.
  [plugins.'io.containerd.nri.v1.nri']
    disable = true
    socket_path = ${q(`${l.containerdState}/nri.sock`)}

  [plugins.'io.containerd.cri.v1.images']
    snapshotter = 'overlayfs'
    [plugins.'io.containerd.cri.v1.images'.pinned_images]
      # Built here and imported before the kubelet starts: nothing can be pulled.
      sandbox = ${q(p.pauseImage)}
    [plugins.'io.containerd.cri.v1.images'.registry]
      # Only the sandbox's own registry has a hosts.toml here (plain HTTP on the host's
      # address); every other name keeps containerd's defaults.
      config_path = ${q(l.registryHostsDir)}

  [plugins.'io.containerd.cri.v1.runtime']
    enable_selinux = false
    # Without CAP_SYS_RESOURCE, runc cannot set a pod's oom_score_adj below ours: every
    # sandbox would fail with "can't get final child's PID from pipe: EOF".
    restrict_oom_score_adj = true
    # Pod network namespaces under our state folder, not in the host's /run/netns.
    netns_mounts_under_state_dir = true
    [plugins.'io.containerd.cri.v1.runtime'.containerd]
      default_runtime_name = 'runc'
      [plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes.runc]
        runtime_type = 'io.containerd.runc.v2'
        [plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes.runc.options]
          BinaryName = ${q(p.runc)}
          Root = ${q(l.runcRoot)}
          SystemdCgroup = false
    [plugins.'io.containerd.cri.v1.runtime'.cni]
      bin_dirs = [${q(p.cniBinDir)}]
      conf_dir = ${q(l.cniConfDir)}
      max_conf_num = 1
`;
}

/** The pods' network: one bridge in the node's namespace, addresses from the node's pod range (its index-th /24). Pure. */
export function cniConflist(l: NodeLayout): Record<string, unknown> {
  return {
    cniVersion: '1.0.0',
    name: 'todo-deploy',
    plugins: [
      {
        type: 'bridge',
        bridge: 'cni0',
        isGateway: true,
        // The host routes the pod range to the node, so pods keep their own address.
        ipMasq: false,
        // A pod reaching itself through its own Service.
        hairpinMode: true,
        ipam: {
          type: 'host-local',
          ranges: [[{ subnet: l.podCidr }]],
          routes: [{ dst: '0.0.0.0/0' }],
          dataDir: l.cniDataDir,
        },
      },
      { type: 'portmap', capabilities: { portMappings: true } },
    ],
  };
}

/** KubeletConfiguration (kubelet.config.k8s.io/v1beta1). Pure. */
export function kubeletConfig(l: NodeLayout): Record<string, unknown> {
  return {
    apiVersion: 'kubelet.config.k8s.io/v1beta1',
    kind: 'KubeletConfiguration',
    address: l.address,
    port: 10250,
    readOnlyPort: 0,
    healthzBindAddress: '127.0.0.1',
    healthzPort: 10248,
    containerRuntimeEndpoint: `unix://${l.containerdSocket}`,
    // No systemd as PID 1, and cgroup v1 (Kubernetes 1.34 still runs there when told to).
    cgroupDriver: 'cgroupfs',
    failCgroupV1: false,
    failSwapOn: false,
    // Every pod under one parent cgroup, so stopping the node finds exactly its processes.
    cgroupRoot: `/${l.cgroupRoot}`,
    // Without CAP_SYS_RESOURCE the kubelet cannot lower its own OOM score.
    oomScoreAdj: 0,
    clusterDNS: [CLUSTER_DNS],
    clusterDomain: CLUSTER_DOMAIN,
    resolvConf: '/etc/resolv.conf',
    podLogsDir: l.podLogsDir,
    authentication: {
      anonymous: { enabled: false },
      webhook: { enabled: true },
      x509: { clientCAFile: l.clientCaCert },
    },
    authorization: { mode: 'Webhook' },
    // A shared machine's disk may be busy: evict only when it is really full.
    evictionHard: {
      'memory.available': '100Mi',
      'nodefs.available': '1%',
      'nodefs.inodesFree': '1%',
      'imagefs.available': '1%',
      'imagefs.inodesFree': '1%',
    },
    // Images are imported, never pulled: a collected image could not come back.
    imageGCHighThresholdPercent: 100,
    imageGCLowThresholdPercent: 99,
    serializeImagePulls: false,
    maxPods: 110,
    // The kubelet writes the host's vm.overcommit_memory and kernel.panic* only when told it
    // may; the node restores them anyway (see KUBELET_SYSCTLS).
    protectKernelDefaults: false,
    rotateCertificates: false,
    serverTLSBootstrap: false,
  };
}

/** The kubelet's command line (the rest is in its configuration file). Pure. */
export function kubeletArgs(l: NodeLayout): string[] {
  return [
    `--config=${l.kubeletConfig}`,
    `--kubeconfig=${l.kubeletKubeconfig}`,
    `--root-dir=${l.kubeletRoot}`,
    // Its self-signed serving certificate; the default is /var/lib/kubelet/pki whatever the root.
    `--cert-dir=${l.kubeletRoot}/pki`,
    `--hostname-override=${l.name}`,
    `--node-ip=${l.address}`,
    '--v=1',
  ];
}

/** KubeProxyConfiguration (kubeproxy.config.k8s.io/v1alpha1), iptables mode. Pure. */
export function kubeProxyConfig(l: NodeLayout): Record<string, unknown> {
  return {
    apiVersion: 'kubeproxy.config.k8s.io/v1alpha1',
    kind: 'KubeProxyConfiguration',
    clientConnection: { kubeconfig: l.kubeProxyKubeconfig },
    mode: 'iptables',
    hostnameOverride: l.name,
    clusterCIDR: POD_CIDR,
    healthzBindAddress: '127.0.0.1:10256',
    metricsBindAddress: '127.0.0.1:10249',
    oomScoreAdj: 0,
    // It cannot raise the host's conntrack limits (not namespaced, no CAP_SYS_RESOURCE):
    // zero means leave them as they are.
    conntrack: { maxPerCore: 0, min: 0, tcpEstablishedTimeout: '0s', tcpCloseWaitTimeout: '0s' },
    // localhostNodePorts would set route_localnet; nothing here uses node ports on loopback.
    iptables: { localhostNodePorts: false, masqueradeAll: false, minSyncPeriod: '1s', syncPeriod: '30s' },
  };
}

export function kubeProxyArgs(l: NodeLayout): string[] {
  return [`--config=${l.kubeProxyConfig}`, '--v=1'];
}

export function toYaml(value: Record<string, unknown>): string {
  return stringify(value);
}

/** ctr's arguments against the node's containerd, in the CRI namespace. Pure. */
export function ctrArgs(l: Pick<NodeLayout, 'containerdSocket'>, ...args: string[]): string[] {
  return ['--address', l.containerdSocket, '--namespace', CRI_NAMESPACE, ...args];
}

const COREDNS_LABELS = { 'k8s-app': 'kube-dns', 'app.kubernetes.io/name': 'coredns', 'app.kubernetes.io/part-of': 'todo-deploy-sandbox' };

/** The Corefile: cluster names only. There is no upstream to forward to (no internet here). */
export const COREFILE = `.:53 {
    errors
    health {
        lameduck 5s
    }
    ready
    kubernetes ${CLUSTER_DOMAIN} in-addr.arpa ip6.arpa {
        pods insecure
        fallthrough in-addr.arpa ip6.arpa
        ttl 30
    }
    cache 30
    loop
    reload
    loadbalance
}
`;

/** CoreDNS as the cluster DNS: RBAC, its Corefile, one replica and the kube-dns Service at CLUSTER_DNS. Pure. */
export function corednsObjects(image: string): KubeObject[] {
  const ns = 'kube-system';
  const meta = (name: string, namespaced = true) => ({ name, ...(namespaced ? { namespace: ns } : {}), labels: COREDNS_LABELS });
  return [
    { apiVersion: 'v1', kind: 'ServiceAccount', metadata: meta('coredns') },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRole',
      metadata: meta('system:coredns', false),
      rules: [
        { apiGroups: [''], resources: ['endpoints', 'services', 'pods', 'namespaces'], verbs: ['list', 'watch'] },
        { apiGroups: ['discovery.k8s.io'], resources: ['endpointslices'], verbs: ['list', 'watch'] },
      ],
    },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRoleBinding',
      metadata: meta('system:coredns', false),
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'system:coredns' },
      subjects: [{ kind: 'ServiceAccount', name: 'coredns', namespace: ns }],
    },
    { apiVersion: 'v1', kind: 'ConfigMap', metadata: meta('coredns'), data: { Corefile: COREFILE } },
    {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: meta('coredns'),
      spec: {
        replicas: 1,
        selector: { matchLabels: { 'k8s-app': 'kube-dns' } },
        template: {
          metadata: { labels: COREDNS_LABELS },
          spec: {
            serviceAccountName: 'coredns',
            priorityClassName: 'system-cluster-critical',
            // It is the cluster DNS: it resolves through the node's resolver, not itself.
            dnsPolicy: 'Default',
            tolerations: [{ key: 'CriticalAddonsOnly', operator: 'Exists' }],
            securityContext: { runAsNonRoot: true, runAsUser: 65532, runAsGroup: 65532, seccompProfile: { type: 'RuntimeDefault' } },
            containers: [
              {
                name: 'coredns',
                image,
                imagePullPolicy: 'Never',
                args: ['-conf', '/etc/coredns/Corefile'],
                ports: [
                  { name: 'dns', containerPort: 53, protocol: 'UDP' },
                  { name: 'dns-tcp', containerPort: 53, protocol: 'TCP' },
                  { name: 'metrics', containerPort: 9153, protocol: 'TCP' },
                ],
                securityContext: {
                  allowPrivilegeEscalation: false,
                  readOnlyRootFilesystem: true,
                  capabilities: { add: ['NET_BIND_SERVICE'], drop: ['ALL'] },
                },
                resources: { requests: { cpu: '50m', memory: '32Mi' }, limits: { memory: '128Mi' } },
                livenessProbe: { httpGet: { path: '/health', port: 8080 }, initialDelaySeconds: 5, periodSeconds: 10, failureThreshold: 5 },
                readinessProbe: { httpGet: { path: '/ready', port: 8181 }, periodSeconds: 2 },
                volumeMounts: [{ name: 'config', mountPath: '/etc/coredns', readOnly: true }],
              },
            ],
            volumes: [{ name: 'config', configMap: { name: 'coredns', items: [{ key: 'Corefile', path: 'Corefile' }] } }],
          },
        },
      },
    },
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { ...meta('kube-dns'), annotations: { 'prometheus.io/port': '9153', 'prometheus.io/scrape': 'true' } },
      spec: {
        selector: { 'k8s-app': 'kube-dns' },
        clusterIP: CLUSTER_DNS,
        ports: [
          { name: 'dns', port: 53, targetPort: 53, protocol: 'UDP' },
          { name: 'dns-tcp', port: 53, targetPort: 53, protocol: 'TCP' },
          { name: 'metrics', port: 9153, targetPort: 9153, protocol: 'TCP' },
        ],
      },
    },
  ];
}

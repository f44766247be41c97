// The files and command lines of one control plane, as pure functions of its folder and
// ports, so they can be unit-tested without starting anything.

import { join } from 'node:path';
import { stringify } from 'yaml';
import { HOST_ADDRESS, NODE_NAME, nodeLayoutFor, type NodeLayout } from './node/layout.ts';

export interface Ports {
  etcdClient: number;
  etcdPeer: number;
  apiserver: number;
  controllerManager: number;
  scheduler: number;
  kwok: number;
}

export const PORT_NAMES: (keyof Ports)[] = ['etcdClient', 'etcdPeer', 'apiserver', 'controllerManager', 'scheduler', 'kwok'];

import type { PodMode } from './pods.ts';
export { POD_MODES, type PodMode } from './pods.ts';

/** Who talks to the API server, each with its own static token. */
export type Identity = 'admin' | 'controllerManager' | 'scheduler' | 'kwok' | 'kubelet' | 'kubeProxy' | 'networkPolicyController';
export const IDENTITIES: Identity[] = ['admin', 'controllerManager', 'scheduler', 'kwok'];
/** With a real node, the kubelet and kube-proxy take kwok's place (and kube-router enforces NetworkPolicies when asked). */
export const REAL_NODE_IDENTITIES: Identity[] = ['admin', 'controllerManager', 'scheduler', 'kubelet', 'kubeProxy', 'networkPolicyController'];

/** The identities a plane of this mode gives tokens to. Pure. */
export function identitiesFor(pods: PodMode): Identity[] {
  return pods === 'real' ? REAL_NODE_IDENTITIES : IDENTITIES;
}

/** User and groups of each identity. The kube-* users are the ones RBAC's bootstrap roles are bound to. */
export const USERS: Record<Identity, { user: string; groups: string[] }> = {
  admin: { user: 'todo-deploy-admin', groups: ['system:masters'] },
  controllerManager: { user: 'system:kube-controller-manager', groups: [] },
  scheduler: { user: 'system:kube-scheduler', groups: [] },
  // kwok acts for every node it manages (pod and node status, leases, deletes).
  kwok: { user: 'kwok-controller', groups: ['system:masters'] },
  // The Node authorizer and NodeRestriction recognise a node by this name and group.
  kubelet: kubeletUser(NODE_NAME),
  // Bound to system:node-proxier by RBAC's bootstrap policy.
  kubeProxy: { user: 'system:kube-proxy', groups: [] },
  // kube-router's policy controller: bound to a read-only ClusterRole (node/policy-controller.ts).
  networkPolicyController: { user: 'todo-deploy:network-policy-controller', groups: [] },
};

export const SERVICE_CIDR = '10.96.0.0/16';
export const POD_CIDR = '10.244.0.0/16';
/** Nodes report this address, so anything the API server sends to a "kubelet" stays on loopback. */
export const NODE_IP = '127.0.0.1';
export const SERVICE_ACCOUNT_ISSUER = 'https://kubernetes.default.svc.cluster.local';
export const CLUSTER_NAME = 'todo-deploy-test';

export interface Layout {
  dir: string;
  ports: Ports;
  pods: PodMode;
  /** The API server's bind and advertise address: loopback, or the host end of the real node's veth. */
  address: string;
  /** The real node's files (pods real only): the first node's. */
  node?: NodeLayout;
  /** Further real nodes (index 1 and up), each off the first node's namespace; empty with one node. */
  furtherNodes: NodeLayout[];
  server: string;
  etcdUrl: string;
  etcdDataDir: string;
  /** kube-apiserver writes its self-signed serving certificate (and CA) here. */
  certDir: string;
  /** Certificate bundle the clients trust: the API server's certificate and its CA. */
  caFile: string;
  saPrivateKey: string;
  saPublicKey: string;
  tokenFile: string;
  kwokConfig: string;
  logDir: string;
  kubeconfigs: Record<Identity, string>;
}

/** The Node authorizer's user for a kubelet: system:node:<node name>, in system:nodes. Pure. */
export function kubeletUser(nodeName: string): { user: string; groups: string[] } {
  return { user: `system:node:${nodeName}`, groups: ['system:nodes'] };
}

/** `realNodes`: how many real nodes (pods real only; 1 unless asked). */
export function layoutFor(dir: string, ports: Ports, pods: PodMode = 'simulated', realNodes = 1): Layout {
  const certDir = join(dir, 'pki');
  // A real node reaches the API server from its own network namespace, and pods reach it
  // through the `kubernetes` Service: it cannot be loopback.
  const address = pods === 'real' ? HOST_ADDRESS : '127.0.0.1';
  return {
    dir,
    ports,
    pods,
    address,
    node: pods === 'real' ? nodeLayoutFor(dir) : undefined,
    furtherNodes: pods === 'real' ? Array.from({ length: Math.max(0, realNodes - 1) }, (_, i) => nodeLayoutFor(dir, i + 1)) : [],
    server: `https://${address}:${ports.apiserver}`,
    etcdUrl: `http://127.0.0.1:${ports.etcdClient}`,
    etcdDataDir: join(dir, 'etcd'),
    certDir,
    caFile: join(certDir, 'apiserver.crt'),
    saPrivateKey: join(certDir, 'service-account.key'),
    saPublicKey: join(certDir, 'service-account.pub'),
    tokenFile: join(certDir, 'tokens.csv'),
    kwokConfig: join(dir, 'kwok.yaml'),
    logDir: join(dir, 'logs'),
    kubeconfigs: {
      admin: join(dir, 'admin.kubeconfig'),
      controllerManager: join(dir, 'kube-controller-manager.kubeconfig'),
      scheduler: join(dir, 'kube-scheduler.kubeconfig'),
      kwok: join(dir, 'kwok.kubeconfig'),
      kubelet: join(dir, 'node', 'kubelet.kubeconfig'),
      kubeProxy: join(dir, 'node', 'kube-proxy.kubeconfig'),
      networkPolicyController: join(dir, 'node', 'kube-router.kubeconfig'),
    },
  };
}

export function etcdArgs(l: Layout): string[] {
  const peer = `http://127.0.0.1:${l.ports.etcdPeer}`;
  return [
    '--name=todo-deploy',
    `--data-dir=${l.etcdDataDir}`,
    `--listen-client-urls=${l.etcdUrl}`,
    `--advertise-client-urls=${l.etcdUrl}`,
    `--listen-peer-urls=${peer}`,
    `--initial-advertise-peer-urls=${peer}`,
    `--initial-cluster=todo-deploy=${peer}`,
    '--initial-cluster-state=new',
    // A throwaway store: durability buys nothing and fsync costs seconds on a shared disk.
    '--unsafe-no-fsync=true',
    '--log-level=warn',
  ];
}

export function apiserverArgs(l: Layout): string[] {
  return [
    `--etcd-servers=${l.etcdUrl}`,
    `--bind-address=${l.address}`,
    `--advertise-address=${l.address}`,
    `--secure-port=${l.ports.apiserver}`,
    `--cert-dir=${l.certDir}`,
    `--service-cluster-ip-range=${SERVICE_CIDR}`,
    '--authorization-mode=Node,RBAC',
    '--enable-admission-plugins=NodeRestriction',
    `--token-auth-file=${l.tokenFile}`,
    `--service-account-issuer=${SERVICE_ACCOUNT_ISSUER}`,
    `--service-account-key-file=${l.saPublicKey}`,
    `--service-account-signing-key-file=${l.saPrivateKey}`,
    '--allow-privileged=true',
    // Kubelet traffic (logs, exec) goes to the node's InternalIP.
    '--kubelet-preferred-address-types=InternalIP',
    '--profiling=false',
    ...(l.node
      ? [
          // The kubelet trusts this CA for the API server's own client certificate (logs, exec).
          `--client-ca-file=${l.node.clientCaCert}`,
          `--kubelet-client-certificate=${l.node.apiserverKubeletClientCert}`,
          `--kubelet-client-key=${l.node.apiserverKubeletClientKey}`,
          // The endpoint reconciler stays on: pods reach the API server through the `kubernetes` Service.
        ]
      : // The `kubernetes` Service cannot have a loopback endpoint; simulated pods need none.
        ['--endpoint-reconciler-type=none']),
  ];
}

/** Flags every client component shares: its kubeconfig, also for delegated authn/authz of its own port. */
function clientArgs(kubeconfig: string, port: number): string[] {
  return [
    `--kubeconfig=${kubeconfig}`,
    `--authentication-kubeconfig=${kubeconfig}`,
    `--authorization-kubeconfig=${kubeconfig}`,
    '--bind-address=127.0.0.1',
    `--secure-port=${port}`,
    '--leader-elect=false',
    '--profiling=false',
  ];
}

export function controllerManagerArgs(l: Layout): string[] {
  return [
    ...clientArgs(l.kubeconfigs.controllerManager, l.ports.controllerManager),
    // Every controller on by default: deployments, replicasets, endpointslices, namespace
    // deletion, garbage collection, service accounts, node lifecycle, ...
    '--controllers=*',
    '--use-service-account-credentials=true',
    `--service-account-private-key-file=${l.saPrivateKey}`,
    `--root-ca-file=${l.caFile}`,
    `--cluster-name=${CLUSTER_NAME}`,
    // The real node's bridge network takes its range from the Node's podCIDR.
    ...(l.node ? ['--allocate-node-cidrs=true', `--cluster-cidr=${POD_CIDR}`, '--node-cidr-mask-size=24', `--service-cluster-ip-range=${SERVICE_CIDR}`] : []),
  ];
}

export function schedulerArgs(l: Layout): string[] {
  return clientArgs(l.kubeconfigs.scheduler, l.ports.scheduler);
}

export const KWOK_NODE_SELECTOR = 'kwok.x-k8s.io/node=fake';

export function kwokArgs(l: Layout): string[] {
  return [
    `--kubeconfig=${l.kubeconfigs.kwok}`,
    `--config=${l.kwokConfig}`,
    '--manage-all-nodes=false',
    `--manage-nodes-with-annotation-selector=${KWOK_NODE_SELECTOR}`,
    `--server-address=127.0.0.1:${l.ports.kwok}`,
    `--node-ip=${NODE_IP}`,
    `--node-port=${l.ports.kwok}`,
    `--cidr=${POD_CIDR}`,
    '--node-lease-duration-seconds=40',
  ];
}

/** kube-apiserver's --token-auth-file: token,user,uid,"group,group"; `more` adds users beyond the fixed identities (further nodes' kubelets). */
export function tokenFileCsv(tokens: Partial<Record<Identity, string>>, more: { token: string; user: string; groups: string[] }[] = []): string {
  const line = ({ token, user, groups }: { token: string; user: string; groups: string[] }) => {
    const base = `${token},${user},${user}`;
    return groups.length > 0 ? `${base},"${groups.join(',')}"` : base;
  };
  return [...(Object.keys(tokens) as Identity[]).map((id) => line({ token: tokens[id]!, ...USERS[id] })), ...more.map(line)].join('\n') + '\n';
}

export interface KubeconfigInput {
  server: string;
  /** PEM of the certificates to trust (embedded, so the file stands alone). */
  caPem: string;
  user: string;
  token: string;
  context?: string;
}

export function renderKubeconfig(input: KubeconfigInput): string {
  const context = input.context ?? CLUSTER_NAME;
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [
      {
        name: CLUSTER_NAME,
        cluster: { server: input.server, 'certificate-authority-data': Buffer.from(input.caPem).toString('base64') },
      },
    ],
    users: [{ name: input.user, user: { token: input.token } }],
    contexts: [{ name: context, context: { cluster: CLUSTER_NAME, user: input.user } }],
    'current-context': context,
    preferences: {},
  });
}

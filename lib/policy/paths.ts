// The network paths the Todo stack intends, in one place: which pod may open a connection to
// which, on which ports, and the paths that must stay closed. Two things read it and nothing
// else says it again:
//   - the policy gate (rules/networkpolicy.ts, networkpolicy/intended-paths) compares what the
//     rendered NetworkPolicies allow with this list, so a policy that opens more, or less, than
//     the list fails `validate` and `up` before anything is applied;
//   - the real-node suite's traffic matrix (test/real-node/netpol.test.ts) tries every path here
//     from inside the pods, expecting the allowed ones to connect and the forbidden ones not.
// A new path is added here first; then the manifests get the policies that open it.
// Pure data, no I/O.

/** The label every stack pod carries with its component's name (the policies select by it). */
export const COMPONENT_LABEL = 'app.kubernetes.io/name';

/** One end of a path. */
export type Endpoint =
  /** The pods of one stack component (by COMPONENT_LABEL), in the stack's namespace. */
  | { kind: 'component'; name: string }
  /** Every pod of the stack's namespace, whatever its labels. */
  | { kind: 'any-pod' }
  /** A pod of the stack's namespace without any component's label (someone's debug pod). */
  | { kind: 'unlabeled-pod' }
  /** Pods of a named other namespace with these labels ({} for any pod there). */
  | { kind: 'pods'; namespace: string; labels: Record<string, string> }
  /** A pod of any other namespace, with any labels, even a component's. */
  | { kind: 'other-namespace' }
  /** Addresses outside the cluster in this range. */
  | { kind: 'outside'; cidr: string };

export interface PortSpec {
  protocol: 'TCP' | 'UDP';
  port: number;
}

export interface NetworkPath {
  /** Short, stable name: the traffic matrix prints it. */
  name: string;
  from: Endpoint;
  to: Endpoint;
  ports: PortSpec[];
  /** The Service a client uses for a component target (the traffic matrix connects to it). */
  service?: string;
  /** Why the path is allowed, or why it must stay closed. */
  why: string;
}

const component = (name: string): Endpoint => ({ kind: 'component', name });
const tcp = (...ports: number[]): PortSpec[] => ports.map((port) => ({ protocol: 'TCP', port }));

/** Cluster DNS: CoreDNS's pods in kube-system. */
export const CLUSTER_DNS_PODS: Endpoint = { kind: 'pods', namespace: 'kube-system', labels: { 'k8s-app': 'kube-dns' } };
/** Pods of a named namespace with these labels: an end outside the stack's namespace. */
export type PodsEndpoint = Extract<Endpoint, { kind: 'pods' }>;
/**
 * The pods of every ingress controller that serves the stack's IngressClass nginx, one entry
 * each; each gets its own path to the frontend (named after its label), and the frontend's
 * ingress policy admits each:
 *   - ingress-nginx: minikube's addon, kind's manifest, and what a current cluster is asked for;
 *   - Traefik, in namespace traefik: the controller the sandbox's real node runs for class nginx.
 */
export const INGRESS_CONTROLLER_PODS: readonly PodsEndpoint[] = [
  { kind: 'pods', namespace: 'ingress-nginx', labels: { [COMPONENT_LABEL]: 'ingress-nginx' } },
  { kind: 'pods', namespace: 'traefik', labels: { [COMPONENT_LABEL]: 'traefik' } },
];
/** The short name of a controller's pods in path names: its component label ("traefik -> frontend"). */
const controllerName = (pods: PodsEndpoint): string => pods.labels[COMPONENT_LABEL] ?? pods.namespace;
/** The Dapr control plane (operator, sentry, placement, scheduler). */
export const DAPR_CONTROL_PLANE_PODS: Endpoint = { kind: 'pods', namespace: 'dapr-system', labels: {} };

/** Every path the policies open. Nothing else may connect to or from a stack pod. */
export const ALLOWED_PATHS: readonly NetworkPath[] = [
  { name: 'every pod -> DNS', from: { kind: 'any-pod' }, to: CLUSTER_DNS_PODS, ports: [{ protocol: 'UDP', port: 53 }, { protocol: 'TCP', port: 53 }], why: 'every pod resolves Service and external names through the cluster DNS' },
  ...INGRESS_CONTROLLER_PODS.map((pods): NetworkPath => ({ name: `${controllerName(pods)} -> frontend`, from: pods, to: component('frontend'), ports: tcp(3000), service: 'frontend-svc', why: 'users reach the app through todo-ingress only' })),
  { name: 'frontend -> backend', from: component('frontend'), to: component('backend'), ports: tcp(8000), service: 'backend-svc', why: "the frontend server proxies the page's /api/* calls" },
  { name: 'frontend -> mcp-server', from: component('frontend'), to: component('mcp-server'), ports: tcp(8080), service: 'mcp-server-svc', why: "the frontend server proxies /mcp as the session's user: the MCP server acts for the X-User-Id only the frontend sets" },
  { name: 'mcp-server -> backend', from: component('mcp-server'), to: component('backend'), ports: tcp(8000), service: 'backend-svc', why: "the MCP server's tools call the todo API" },
  { name: 'backend -> redis', from: component('backend'), to: component('redis'), ports: tcp(6379), service: 'redis-svc', why: "the backend's Dapr sidecar keeps state and events in Redis" },
  { name: 'backend -> postgres', from: component('backend'), to: component('postgres'), ports: tcp(5432), service: 'postgres-svc', why: 'the backend keeps todos in the embedded PostgreSQL' },
  { name: 'backend -> outside', from: component('backend'), to: { kind: 'outside', cidr: '0.0.0.0/0' }, ports: tcp(443, 5432), why: 'the OpenAI API (HTTPS) and a hosted PostgreSQL, whose addresses change' },
  { name: 'backend Dapr sidecar -> Dapr control plane', from: component('backend'), to: DAPR_CONTROL_PLANE_PODS, ports: tcp(6500, 50001, 50005, 50006), why: 'components and configuration (operator), mTLS certificate (sentry), placement, scheduler' },
];

/** Paths that must stay closed: the ones whose opening would matter. The traffic matrix tries each. */
export const FORBIDDEN_PATHS: readonly NetworkPath[] = [
  { name: 'frontend -> postgres', from: component('frontend'), to: component('postgres'), ports: tcp(5432), service: 'postgres-svc', why: 'only the backend talks to the database' },
  { name: 'frontend -> redis', from: component('frontend'), to: component('redis'), ports: tcp(6379), service: 'redis-svc', why: 'Redis has no password: only the backend may reach it' },
  { name: 'mcp-server -> redis', from: component('mcp-server'), to: component('redis'), ports: tcp(6379), service: 'redis-svc', why: 'Redis has no password: only the backend may reach it' },
  { name: 'mcp-server -> postgres', from: component('mcp-server'), to: component('postgres'), ports: tcp(5432), service: 'postgres-svc', why: 'the MCP server goes through the backend API' },
  { name: 'unlabeled pod -> backend', from: { kind: 'unlabeled-pod' }, to: component('backend'), ports: tcp(8000), service: 'backend-svc', why: 'a pod without a component label is nobody the policies name' },
  { name: 'unlabeled pod -> redis', from: { kind: 'unlabeled-pod' }, to: component('redis'), ports: tcp(6379), service: 'redis-svc', why: 'a pod without a component label is nobody the policies name' },
  { name: 'unlabeled pod -> postgres', from: { kind: 'unlabeled-pod' }, to: component('postgres'), ports: tcp(5432), service: 'postgres-svc', why: 'a pod without a component label is nobody the policies name' },
  { name: 'unlabeled pod -> mcp-server', from: { kind: 'unlabeled-pod' }, to: component('mcp-server'), ports: tcp(8080), service: 'mcp-server-svc', why: 'the MCP server trusts the X-User-Id it is sent: only the frontend, which sets it from the session, may call it' },
  { name: 'unlabeled pod -> frontend', from: { kind: 'unlabeled-pod' }, to: component('frontend'), ports: tcp(3000), service: 'frontend-svc', why: 'only the ingress controller reaches the frontend' },
  { name: 'other namespace -> frontend', from: { kind: 'other-namespace' }, to: component('frontend'), ports: tcp(3000), service: 'frontend-svc', why: 'only the ingress controller reaches the frontend' },
  { name: 'other namespace -> backend', from: { kind: 'other-namespace' }, to: component('backend'), ports: tcp(8000), service: 'backend-svc', why: 'the API is reached through the frontend (and the MCP server behind it)' },
  { name: 'other namespace -> mcp-server', from: { kind: 'other-namespace' }, to: component('mcp-server'), ports: tcp(8080), service: 'mcp-server-svc', why: 'MCP clients come through the ingress and the frontend, which sets X-User-Id from the session' },
  { name: 'other namespace -> redis', from: { kind: 'other-namespace' }, to: component('redis'), ports: tcp(6379), service: 'redis-svc', why: 'Redis has no password: only the backend may reach it' },
  { name: 'other namespace -> postgres', from: { kind: 'other-namespace' }, to: component('postgres'), ports: tcp(5432), service: 'postgres-svc', why: 'only the backend talks to the database' },
  ...INGRESS_CONTROLLER_PODS.map((pods): NetworkPath => ({ name: `${controllerName(pods)} -> backend`, from: pods, to: component('backend'), ports: tcp(8000), service: 'backend-svc', why: 'the ingress routes every path to the frontend, which proxies /api itself' })),
  ...INGRESS_CONTROLLER_PODS.map((pods): NetworkPath => ({ name: `${controllerName(pods)} -> mcp-server`, from: pods, to: component('mcp-server'), ports: tcp(8080), service: 'mcp-server-svc', why: 'the ingress routes every path to the frontend, which proxies /mcp itself as the session user' })),
];

/** The components a set of paths names (either end). */
export function componentsOf(paths: readonly NetworkPath[]): string[] {
  const names = paths.flatMap((p) => [p.from, p.to]).flatMap((e) => (e.kind === 'component' ? [e.name] : []));
  return [...new Set(names)];
}

/** One line for an endpoint, as the matrix and the gate print it. */
export function describeEndpoint(e: Endpoint): string {
  switch (e.kind) {
    case 'component':
      return e.name;
    case 'any-pod':
      return 'every pod';
    case 'unlabeled-pod':
      return 'a pod without component labels';
    case 'pods':
      return `${Object.keys(e.labels).length ? Object.entries(e.labels).map(([k, v]) => `${k}=${v}`).join(',') : 'any pod'} in ${e.namespace}`;
    case 'other-namespace':
      return 'a pod of another namespace';
    case 'outside':
      return `outside (${e.cidr})`;
  }
}

export function describePorts(ports: readonly PortSpec[]): string {
  return ports.map((p) => `${p.protocol} ${p.port}`).join(', ');
}

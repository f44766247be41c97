// `doctor`'s judgement, separate from its probing: what was found (a Probe, plain data) in,
// one line per check out, each ✓ or ✗ with the fix, and whether it blocks `up`. Pure, so every
// verdict is unit-tested on hand-written probes. Whether a finding blocks depends on the
// provider: a missing minikube blocks `--cluster minikube` only; a missing ingress controller
// blocks `current` (which installs nothing) but not minikube or kind (which install it).
import type { ProviderName } from '../cluster/provider.ts';
import { INSTALL } from '../cluster/tools.ts';
import { openWithoutEnforcement, type Enforcement } from '../cluster/policy-enforcement.ts';

export interface ToolFound {
  /** The tool's path, when on PATH. */
  path?: string;
  /** Its version line, when it answered. */
  version?: string;
}

export interface Probe {
  provider: ProviderName;
  /** True when --cluster was not given (the environment's default). */
  defaulted: boolean;
  /** Why the default is this provider (dev probes the machine). */
  why?: string;
  environment: string;
  /** Configuration and secrets: undefined when they load, else the error's message. */
  configError?: string;
  node: { version: string };
  docker: { found: boolean; reachable: boolean; version?: string; error?: string };
  tools: { minikube: ToolFound; kind: ToolFound; helm: ToolFound; dapr: ToolFound };
  /** The pinned Dapr version `up` would install. */
  daprVersion: string;
  cluster:
    | { state: 'reachable'; description: string }
    | { state: 'absent'; reason: string }
    | { state: 'unreachable'; error: string }
    | { state: 'unchecked'; reason: string };
  /** Sandbox: whether the control-plane binaries are built, and Go is there to build them. */
  sandbox?: {
    built: boolean;
    go: boolean;
    binDir: string;
    /** Which pods `up` would run (or the running sandbox runs), and why; `refused` when the request cannot be met. */
    pods: { mode: 'real' | 'simulated'; why: string; running: boolean; host: string } | { refused: string };
  };
  /** Undefined when the cluster could not be asked. */
  /** name and namespace: the controller looked for (ingress-nginx's unless said; the sandbox's is Traefik). */
  ingress?: { controller: 'ready' | 'not-ready' | 'missing'; ingressClass?: string; name?: string; namespace?: string };
  /** Undefined when the cluster could not be asked. */
  dapr?: { missing?: string; notReady: string[]; /** The workloads are the sandbox's stand-in (labelled so), not Dapr. */ standIn?: boolean };
  /** Whether the cluster enforces NetworkPolicies; undefined when the cluster could not be asked. */
  networkPolicies?: Enforcement;
  host: { domain: string; address?: string; resolves: boolean; serves: boolean; hostsFile: string };
}

export interface CheckLine {
  ok: boolean;
  /** True when this problem stops `up` (exit 1). */
  blocks: boolean;
  name: string;
  detail: string;
  fix?: string;
}

const line = (ok: boolean, blocks: boolean, name: string, detail: string, fix?: string): CheckLine => ({ ok, blocks: !ok && blocks, name, detail, fix });

const clusterTool = (p: ProviderName) => (p === 'minikube' || p === 'kind' ? p : undefined);

function nodeCheck(probe: Probe): CheckLine {
  const major = Number(probe.node.version.replace(/^v/, '').split('.')[0]);
  return line(major >= 22, true, 'Node.js', `${probe.node.version}${major >= 22 ? '' : ' (22 or newer needed)'}`, 'run the scripts through npm (`npm ci` installs Node 22 as the `node` package), or install Node.js 22.');
}

function configCheck(probe: Probe): CheckLine {
  if (!probe.configError) return line(true, true, 'Configuration', `--env ${probe.environment}: settings and secrets load`);
  // The loader's message already lists each problem with its own fix.
  return line(false, true, 'Configuration', probe.configError);
}

function dockerCheck(probe: Probe): CheckLine {
  const realPods = probe.sandbox && 'mode' in probe.sandbox.pods && probe.sandbox.pods.mode === 'real';
  const needed = probe.provider !== 'sandbox' || !!realPods;
  const why = probe.provider === 'minikube' || probe.provider === 'kind' ? `${probe.provider} runs in it and up builds the images with it` : 'up builds the images with it (unless --skip-images)';
  if (probe.docker.reachable) return line(true, needed, 'Docker', `daemon ${probe.docker.version ?? ''} reachable`.replace('  ', ' '));
  const detail = !probe.docker.found ? 'not installed' : `installed, but the daemon does not answer${probe.docker.error ? ` (${probe.docker.error})` : ''}`;
  if (!needed) return line(false, false, 'Docker', `${detail}; not needed for --cluster sandbox with simulated pods (real pods need it for their images)`);
  return line(false, true, 'Docker', `${detail}; needed: ${why}`, probe.docker.found ? 'start the Docker engine (`dockerd`, or Docker Desktop) and check `docker info`.' : `${INSTALL.docker}.`);
}

function clusterToolCheck(probe: Probe): CheckLine {
  const { minikube, kind } = probe.tools;
  const found = (name: 'minikube' | 'kind', t: ToolFound) => (t.path ? `${name} ${t.version ?? '(version unknown)'}` : `${name} not installed`);
  const detail = `${found('minikube', minikube)}; ${found('kind', kind)}`;
  const needed = clusterTool(probe.provider);
  if (!needed) return line(true, false, 'minikube or kind', `${detail} (not needed for --cluster ${probe.provider})`);
  const ok = !!probe.tools[needed].path;
  const which = `${needed} is the cluster provider${!probe.defaulted ? '' : probe.why ? ` (chosen by default: ${probe.why})` : ` (the default for --env ${probe.environment})`}`;
  return line(ok, true, 'minikube or kind', ok ? detail : `${detail}; ${which}`, `${INSTALL[needed]}; or use another cluster: ${needed === 'minikube' ? '--cluster kind, ' : '--cluster minikube, '}--cluster current, or --cluster sandbox (no Docker needed; pods simulated).`);
}

function daprToolCheck(probe: Probe): CheckLine {
  const { helm, dapr } = probe.tools;
  if (helm.path) return line(true, false, 'helm or dapr', `helm ${helm.version ?? ''} (installs Dapr when it is missing)${dapr.path ? '; Dapr CLI too' : ''}`.replace('  ', ' '));
  if (dapr.path) return line(true, false, 'helm or dapr', `Dapr CLI ${dapr.version ?? ''} (installs Dapr when it is missing); helm not installed`.replace('  ', ' '));
  // Needed when up would have to install Dapr: the cluster lacks it, or does not exist yet.
  const installed = probe.dapr !== undefined && probe.dapr.missing === undefined;
  const needed = probe.provider !== 'sandbox' && !installed;
  const why =
    probe.provider === 'sandbox'
      ? 'not needed for --cluster sandbox (with real pods it builds helm from the Go module proxy to install the Dapr built here; with simulated pods it brings a stand-in)'
      : installed
        ? 'not needed: Dapr is installed'
        : 'needed: up must install Dapr into the cluster';
  return line(false, needed, 'helm or dapr', `neither helm nor the Dapr CLI is installed; ${why}`, `${INSTALL.helm}, or ${INSTALL.dapr}.`);
}

function clusterCheck(probe: Probe): CheckLine {
  const c = probe.cluster;
  const name = probe.provider === 'current' ? 'Cluster and context' : `Cluster (${probe.provider})`;
  switch (c.state) {
    case 'reachable':
      return line(true, true, name, c.description);
    case 'unchecked':
      return line(false, false, name, `not checked: ${c.reason}`);
    case 'absent': {
      if (probe.provider === 'sandbox' && probe.sandbox && !probe.sandbox.built && !probe.sandbox.go) {
        return line(false, true, name, `${c.reason}, and its binaries are not built (${probe.sandbox.binDir}) with no Go to build them`, `${INSTALL.go}, then \`npm run controlplane:build\`.`);
      }
      const then = probe.provider === 'sandbox' && probe.sandbox && !probe.sandbox.built ? 'up builds its binaries (Go found; about 15 minutes once) and starts it' : probe.provider === 'kind' ? 'up creates it' : 'up starts it';
      return line(false, false, name, `${c.reason}: ${then}`);
    }
    case 'unreachable':
      // The kube client's messages carry their own fix.
      return line(false, true, name, c.error, /Fix:/.test(c.error) ? undefined : 'start the cluster, or choose a reachable context with --context or KUBECONFIG.');
  }
}

function ingressCheck(probe: Probe): CheckLine {
  const name = 'Ingress controller';
  const installs = probe.provider === 'minikube' || probe.provider === 'kind';
  if (!probe.ingress) return line(false, false, name, `not checked: the cluster could not be asked${installs ? '; up installs ingress-nginx' : ''}`);
  const controller = probe.ingress.name ?? 'ingress-nginx';
  if (probe.ingress.controller === 'ready') return line(true, true, name, `${controller} available`);
  if (probe.ingress.controller === 'not-ready') return line(false, false, name, `${controller} installed but not available yet: up waits for it`, `if it stays so: \`kubectl -n ${probe.ingress.namespace ?? 'ingress-nginx'} get pods\`.`);
  if (probe.ingress.ingressClass) return line(true, true, name, `IngressClass nginx (controller ${probe.ingress.ingressClass})`);
  if (probe.provider === 'sandbox') return line(false, false, name, 'missing: up deploys Traefik on the real node (with simulated pods the sandbox\'s stand-in serves the class)');
  if (installs) return line(false, false, name, `missing: up installs ingress-nginx (${probe.provider === 'minikube' ? 'the minikube addon' : 'its kind manifest'})`);
  return line(
    false,
    true,
    name,
    'no IngressClass nginx and no ingress-nginx controller: the Ingress would never get an address',
    'install ingress-nginx: `helm upgrade --install ingress-nginx ingress-nginx --repo https://kubernetes.github.io/ingress-nginx --namespace ingress-nginx --create-namespace`.',
  );
}

/** What up does about Dapr on the sandbox: the Dapr built here on a real node, else the stand-in. */
function sandboxDapr(probe: Probe): string {
  const pods = probe.sandbox?.pods;
  return pods && 'mode' in pods && pods.mode === 'real' ? `up installs Dapr ${probe.daprVersion} built here, with helm` : 'up creates the sandbox\'s stand-in';
}

function daprCheck(probe: Probe): CheckLine {
  const name = 'Dapr control plane';
  const installer = probe.tools.helm.path ? 'helm' : probe.tools.dapr.path ? 'the Dapr CLI' : undefined;
  // Without helm or the Dapr CLI, the "helm or dapr" line is the one that blocks, with its fix.
  const how = installer ? `up installs Dapr ${probe.daprVersion} with ${installer}` : 'up cannot install it without helm or the Dapr CLI (see above)';
  if (!probe.dapr) {
    if (probe.provider === 'sandbox') return line(false, false, name, `not checked: the sandbox does not run; ${sandboxDapr(probe)}`);
    return line(false, false, name, `not checked: the cluster could not be asked; ${how}`);
  }
  if (probe.dapr.missing) {
    if (probe.provider === 'sandbox') return line(false, false, name, `missing (${probe.dapr.missing}): ${sandboxDapr(probe)}`);
    return line(false, false, name, `missing (${probe.dapr.missing}): ${how}`);
  }
  if (probe.dapr.notReady.length) return line(false, false, name, `installed, not ready yet (${probe.dapr.notReady.join(', ')}): up waits for it`, 'if it stays so: `kubectl -n dapr-system get pods`, `dapr status -k`.');
  if (probe.dapr.standIn) return line(true, true, name, 'the sandbox\'s stand-in ready (workloads named like Dapr\'s; not Dapr, no sidecars)');
  return line(true, true, name, 'operator, sidecar injector, sentry, placement and scheduler ready');
}

/** Sandbox only: real pods or kwok's simulated ones, and why. */
function podsCheck(probe: Probe): CheckLine[] {
  if (probe.provider !== 'sandbox' || !probe.sandbox) return [];
  const name = 'Pods (sandbox)';
  const p = probe.sandbox.pods;
  if ('refused' in p) return [line(false, true, name, p.refused)];
  const where = p.running ? 'the running sandbox: ' : 'up would run ';
  if (p.mode === 'real') return [line(true, true, name, `${where}real pods on a kubelet and containerd in a network namespace (${p.host})`)];
  if (p.why.startsWith('asked') || p.why === 'the running sandbox') return [line(true, false, name, `${where}pods simulated by kwok (${p.why}); nothing serves traffic`)];
  return [line(false, false, name, `${where}pods simulated by kwok, nothing serves traffic: ${p.why}`, 'for real pods run as root on Linux with cgroups and a Docker engine (see the README, "The sandbox\'s real node"); --pods simulated silences this.')];
}

/** How each provider comes to enforce the policies. */
const ENFORCEMENT_FIX: Record<ProviderName, string> = {
  sandbox: 'install ipset if it is missing, remove SANDBOX_NETWORK_POLICIES=off if set, then `npm run down -- --cluster sandbox --purge` and up (kube-router enforces them on the real node by default).',
  minikube: 'up starts a new profile with --cni=calico; a profile started before keeps its CNI: `minikube delete -p <profile>`, then up.',
  kind: 'kind v0.24.0 or newer enforces them unless networking.disableNetworkPolicies is set: recreate the cluster (`kind delete cluster --name <name>`, then up).',
  current: 'install a network plugin that enforces NetworkPolicies (Calico, Cilium, Antrea), or use --cluster minikube or kind.',
};

function networkPolicyCheck(probe: Probe): CheckLine {
  const name = 'NetworkPolicies';
  const e = probe.networkPolicies;
  if (!e) return line(false, false, name, 'not checked: the cluster could not be asked');
  if (e.enforces) return line(true, false, name, `enforced by ${e.by}`);
  return line(false, false, name, `${e.enforces === false ? 'not enforced' : 'enforcement unknown'}: ${e.why}; ${openWithoutEnforcement()}`, ENFORCEMENT_FIX[probe.provider]);
}

function hostCheck(probe: Probe): CheckLine {
  const h = probe.host;
  const name = 'Host name';
  if (!h.serves) return line(true, false, name, `${h.domain}: nothing serves traffic in the sandbox, so no name to resolve`);
  if (!h.address) return line(false, false, name, `${h.domain}: the ingress address is not known yet; up prints the hosts-file line when one is needed`);
  if (h.resolves) return line(true, false, name, `${h.domain} resolves to ${h.address}`);
  return line(false, false, name, `${h.domain} does not resolve to the ingress address ${h.address}`, `add \`${h.address} ${h.domain}\` to ${h.hostsFile} (or run up with --write-hosts).`);
}

/** Every check, in the order doctor prints them. Pure. */
export function evaluate(probe: Probe): CheckLine[] {
  return [nodeCheck(probe), configCheck(probe), dockerCheck(probe), clusterToolCheck(probe), daprToolCheck(probe), clusterCheck(probe), ...podsCheck(probe), networkPolicyCheck(probe), ingressCheck(probe), daprCheck(probe), hostCheck(probe)];
}

/** The printed report: one line per check (✓ or ✗), the fix under a ✗, then the verdict. Pure. */
export function formatReport(lines: CheckLine[], command: string): string {
  const width = Math.max(...lines.map((l) => l.name.length));
  const out: string[] = [];
  const indent = `  ${' '.repeat(width)}  `;
  for (const l of lines) {
    const [first, ...rest] = l.detail.split('\n');
    out.push(`${l.ok ? '✓' : '✗'} ${l.name.padEnd(width)}  ${first}${l.blocks ? '  [blocks up]' : ''}`);
    for (const more of rest) out.push(`${indent}${more.trim()}`);
    if (!l.ok && l.fix) out.push(`${indent}Fix: ${l.fix}`);
  }
  const blocking = lines.filter((l) => l.blocks);
  out.push('');
  out.push(blocking.length ? `${blocking.length} problem(s) block \`${command}\`: ${blocking.map((l) => l.name).join(', ')}.` : `Nothing blocks \`${command}\`.`);
  return out.join('\n');
}

export function exitCode(lines: CheckLine[]): number {
  return lines.some((l) => l.blocks) ? 1 : 0;
}

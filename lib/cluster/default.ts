// The dev default cluster when --cluster is not given: the first that is available of
//   1. the current kubeconfig context, when it is a local cluster (minikube, kind, Docker
//      Desktop) and answers;
//   2. minikube, when minikube and Docker are installed;
//   3. kind, when kind and Docker are installed;
//   4. the sandbox, which needs nothing but Node (and Go once).
// `up` and `down` use the same rule with the same inputs, so `down` finds what `up` chose.
// Docker counts for both (not only for `up`, which builds images): otherwise a machine with
// minikube but no Docker would deploy to the sandbox and then tear down "minikube".
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';
import { parse } from 'yaml';
import type { ProviderName } from './provider.ts';
import { findTool } from './tools.ts';

/** The current kubeconfig context, as far as choosing a default needs it. */
export interface CurrentContext {
  name: string;
  /** minikube writes an extension naming itself into the contexts it creates. */
  minikube: boolean;
}

export interface DefaultInputs {
  current?: CurrentContext;
  /** Whether the current context's API server answered (asked only for a local context). */
  currentAnswers: boolean;
  minikube: boolean;
  kind: boolean;
  docker: boolean;
}

export interface DefaultChoice {
  name: ProviderName;
  /** One line: which cluster and why, for the task tree. */
  why: string;
  /** Settings that point the provider at the detected cluster (profile or cluster name). */
  settings: Record<string, string>;
}

/** Which kind of local cluster a context is, from its name and minikube's mark. Pure. */
export function localClusterOf(context: CurrentContext): { provider: 'minikube' | 'kind' | 'docker-desktop'; name: string } | undefined {
  if (context.minikube || context.name === 'minikube') return { provider: 'minikube', name: context.name };
  if (context.name.startsWith('kind-') && context.name.length > 5) return { provider: 'kind', name: context.name.slice(5) };
  if (context.name === 'docker-desktop' || context.name === 'docker-for-desktop') return { provider: 'docker-desktop', name: context.name };
  return undefined;
}

/** The rule above, over probed facts. Pure. */
export function chooseDevDefault(inputs: DefaultInputs): DefaultChoice {
  const local = inputs.current ? localClusterOf(inputs.current) : undefined;
  if (local && inputs.currentAnswers) {
    const ctx = `the current context "${inputs.current!.name}"`;
    if (local.provider === 'minikube' && inputs.minikube && inputs.docker) {
      return { name: 'minikube', why: `${ctx} is a running minikube cluster (profile ${local.name})`, settings: { MINIKUBE_PROFILE: local.name } };
    }
    if (local.provider === 'kind' && inputs.kind && inputs.docker) {
      return { name: 'kind', why: `${ctx} is a running kind cluster (${local.name})`, settings: { KIND_CLUSTER: local.name } };
    }
    // Docker Desktop shares the local engine's images; a minikube or kind cluster whose tool
    // is missing is still usable as it is.
    return { name: 'current', why: `${ctx} is a running local cluster (${local.provider})`, settings: {} };
  }
  const noLocal = local ? `the current context "${inputs.current!.name}" does not answer` : 'no running local cluster in the current context';
  if (inputs.minikube && inputs.docker) return { name: 'minikube', why: `${noLocal}; minikube and Docker are installed`, settings: {} };
  if (inputs.kind && inputs.docker) return { name: 'kind', why: `${noLocal}; kind and Docker are installed`, settings: {} };
  const missing = !inputs.docker && (inputs.minikube || inputs.kind) ? `${inputs.minikube ? 'minikube' : 'kind'} is installed but Docker is not` : 'neither minikube nor kind is installed';
  return { name: 'sandbox', why: `${noLocal}; ${missing}`, settings: {} };
}

/** The kubeconfig files kubectl would read: KUBECONFIG's list, else ~/.kube/config. */
export function kubeconfigFiles(env: Record<string, string | undefined>, home = homedir()): string[] {
  const list = env.KUBECONFIG?.split(path.delimiter).filter((f) => f !== '');
  return list && list.length > 0 ? list : [path.join(env.HOME || home, '.kube', 'config')];
}

/**
 * The current context from the kubeconfig files (the first current-context wins, as kubectl
 * merges them), or undefined when none is set or a file cannot be read.
 */
export function readCurrentContext(files: string[]): CurrentContext | undefined {
  const docs = files.filter((f) => existsSync(f)).map((f) => {
    try {
      return parse(readFileSync(f, 'utf8')) as any;
    } catch {
      return undefined;
    }
  });
  const name = docs.map((d) => d?.['current-context']).find((n) => typeof n === 'string' && n !== '') as string | undefined;
  if (!name) return undefined;
  const entry = docs.flatMap((d) => (Array.isArray(d?.contexts) ? d.contexts : [])).find((c: any) => c?.name === name);
  const extensions: any[] = Array.isArray(entry?.context?.extensions) ? entry.context.extensions : [];
  const minikube = extensions.some((e) => e?.extension?.provider === 'minikube.sigs.k8s.io');
  return { name, minikube };
}

/** Probes this machine for the dev default: the current context, the tools, and whether a local context answers. */
export async function devDefault(env: Record<string, string | undefined> = process.env): Promise<DefaultChoice> {
  const current = readCurrentContext(kubeconfigFiles(env));
  const [minikube, kind, docker] = await Promise.all([findTool('minikube'), findTool('kind'), findTool('docker')]);
  let currentAnswers = false;
  if (current && localClusterOf(current)) {
    // Loaded only here: most runs never need the Kubernetes client to choose.
    const { loadKubeConfig, checkReachable } = await import('../kube/client.ts');
    currentAnswers = await checkReachable(loadKubeConfig(current.name), 3_000).then(
      () => true,
      () => false,
    );
  }
  return chooseDevDefault({ current, currentAnswers, minikube: Boolean(minikube), kind: Boolean(kind), docker: Boolean(docker) });
}


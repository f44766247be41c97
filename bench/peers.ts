// The tools compared and what each runs per phase, as a person would type it. Pure: the
// commands are built from paths and names; bench/run.ts runs them.
//
//   cold    the namespace does not exist; deploy and wait until the tool says it is done
//   warm    the same again with nothing changed (should be a no-op)
//   change  deploy the stack with one image tag changed (the backend's), and wait
//   down    remove everything the tool deployed and wait until it is gone
export const TOOL_IDS = ['todo-deploy', 'kubectl', 'helm', 'kapp'] as const;
export type ToolId = (typeof TOOL_IDS)[number];
export const PHASES = ['cold', 'warm', 'change', 'down'] as const;
export type PhaseId = (typeof PHASES)[number];

export interface Step {
  /** Program name as shown in reports. */
  name: string;
  program: string;
  args: string[];
  /**
   * How often a person would run the command before giving up: plain `kubectl apply` and
   * `kubectl delete` have no ordering, so a failure from order (a namespace or CRD not there
   * yet, an object already gone) is met by running it again. Every extra attempt is reported.
   */
  attempts: number;
  /** Arguments of the attempts after the first, when a person would change the command (default: the same). */
  retryArgs?: string[];
}

export interface ToolPlan {
  id: ToolId;
  /** One line: what "done" means for this tool's deploy. */
  waitsFor: string;
  phases: Record<PhaseId, Step[]>;
  /** A command that only starts the program (its start-up cost, for reference). */
  startup: Step;
}

/** One version of the stack, as each tool takes it. */
export interface Variant {
  /** Folder with the rendered manifests (one file per manifest file, plus the Secret). */
  renderedDir: string;
  chartDir: string;
  /** The manifest folder todo-deploy renders (--manifests); undefined: its default, manifests/. */
  manifestsDir?: string;
}

export interface PlanInputs extends Variant {
  repoRoot: string;
  env: string;
  namespace: string;
  bin: { kubectl: string; helm: string; kapp: string };
  /** The stack with the backend's image tag changed (the change phase); undefined: the stack again. */
  changed?: Variant;
  /** Deadline each tool is given for its own waiting, in seconds. */
  timeoutSeconds: number;
  /** More arguments for todo-deploy's `up` (the real node's --image-tag). */
  upArgs?: string[];
}

const step = (name: string, program: string, args: string[], attempts = 1, retryArgs?: string[]): Step => ({ name, program, args, attempts, ...(retryArgs ? { retryArgs } : {}) });

export function toolPlans(p: PlanInputs): Record<ToolId, ToolPlan> {
  const t = `${p.timeoutSeconds}s`;
  const npm = (script: string, ...args: string[]) => step('npm', 'npm', ['run', '-s', script, '--', ...args]);
  const kubectl = (args: string[], attempts = 1, retryArgs?: string[]) => step('kubectl', p.bin.kubectl, args, attempts, retryArgs);
  const helm = (...args: string[]) => step('helm', p.bin.helm, args);
  const kapp = (...args: string[]) => step('kapp', p.bin.kapp, args);

  const changed = p.changed ?? p;
  const up = (v: Variant) => npm('up', '--cluster', 'current', '--skip-images', '--env', p.env, ...(v.manifestsDir ? ['--manifests', v.manifestsDir] : []), ...(p.upArgs ?? []));
  const kubectlDeploy = (v: Variant) => [
    kubectl(['apply', '--server-side', '-f', v.renderedDir], 3),
    kubectl(['-n', p.namespace, 'rollout', 'status', 'deployment', '-l', 'app.kubernetes.io/part-of=todo', `--timeout=${t}`]),
    kubectl(['-n', p.namespace, 'wait', '--for=jsonpath={.status.loadBalancer.ingress}', 'ingress', '--all', `--timeout=${t}`]),
  ];
  const helmDeploy = (v: Variant) => helm('upgrade', '--install', 'todo', v.chartDir, '--namespace', 'default', '--wait', '--timeout', t);
  const kappDeploy = (v: Variant) => kapp('deploy', '-a', 'todo', '-f', v.renderedDir, '-y', '--color=false');

  return {
    'todo-deploy': {
      id: 'todo-deploy',
      waitsFor: 'stage by stage: Dapr control plane ready, each Deployment rolled out, a ready endpoint for every pod-backed Service, the Ingress address',
      phases: { cold: [up(p)], warm: [up(p)], change: [up(changed)], down: [npm('down', '--cluster', 'current', '--env', p.env)] },
      startup: npm('up', '--help'),
    },
    kubectl: {
      id: 'kubectl',
      waitsFor: 'one server-side apply of the folder (file order), then `rollout status` of the Deployments and `wait` for the Ingress address',
      phases: {
        cold: kubectlDeploy(p),
        warm: kubectlDeploy(p),
        change: kubectlDeploy(changed),
        // The namespace's file comes first, so the namespace controller may remove objects
        // before kubectl reaches them: NotFound, exit 1. A person then adds --ignore-not-found.
        down: [kubectl(['delete', '-f', p.renderedDir, '--wait', `--timeout=${t}`], 2, ['delete', '-f', p.renderedDir, '--ignore-not-found', '--wait', `--timeout=${t}`])],
      },
      startup: kubectl(['version', '--client']),
    },
    helm: {
      id: 'helm',
      waitsFor: '`--wait` (Helm 4: watch-based kstatus): every resource Current, Deployments rolled out; an Ingress counts as ready on creation (no address wait)',
      phases: { cold: [helmDeploy(p)], warm: [helmDeploy(p)], change: [helmDeploy(changed)], down: [helm('uninstall', 'todo', '--namespace', 'default', '--wait', '--timeout', t)] },
      startup: helm('version'),
    },
    kapp: {
      id: 'kapp',
      waitsFor: 'its default wait rules: Namespaces and CRDs first, Deployments and their Pods reconciled; no wait rule for an Ingress address',
      phases: { cold: [kappDeploy(p)], warm: [kappDeploy(p)], change: [kappDeploy(changed)], down: [kapp('delete', '-a', 'todo', '-y', '--color=false')] },
      startup: kapp('version'),
    },
  };
}

/** Parses --tools (comma-separated ids, default all). Pure. */
export function parseToolList(text: string | undefined): ToolId[] {
  if (!text) return [...TOOL_IDS];
  const ids = text.split(',').map((s) => s.trim()).filter(Boolean);
  const unknown = ids.filter((id) => !(TOOL_IDS as readonly string[]).includes(id));
  if (unknown.length || ids.length === 0) throw new Error(`--tools: unknown tool ${unknown.join(', ') || '(none given)'}; use a comma-separated list of ${TOOL_IDS.join(', ')}.`);
  return TOOL_IDS.filter((id) => ids.includes(id));
}

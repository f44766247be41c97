// The plan: from configuration to everything `up` will do to the cluster, as one immutable value
// (the configuration, the secrets with their redaction registered, the image refs, the rendered
// manifests and their policy verdict, and the ten stages with their objects and gates).
// `validate`, `up` and the benchmark build it with planDeployment, so what is checked is what is
// applied. No cluster is involved (files are read: env files, .env, manifests).
import path from 'node:path';
import type { Config } from './config.ts';
import { renderManifests, manifestFiles, prepareForApply, type Vars } from './manifests.ts';
import { planStages, kindRefOf, type PlannedStage } from './order.ts';
import { readSecrets, secretObject, secretsError, type Secrets } from './secrets.ts';
import { registerSecretValues } from './output.ts';
import { policyGate } from './policy/gate.ts';
import { formatText } from './policy/format/text.ts';
import type { PolicyResult } from './policy/types.ts';
import { planGates, type StageGates } from './readiness.ts';
import { UsageError, type Problem } from './errors.ts';
import type { ImageRefs, SourcedObject } from './types.ts';

export function defaultImageRefs(config: Pick<Config, 'images' | 'imageTag'>): ImageRefs {
  return {
    frontend: `${config.images.frontend}:${config.imageTag}`,
    backend: `${config.images.backend}:${config.imageTag}`,
    mcpServer: `${config.images.mcpServer}:${config.imageTag}`,
    postgres: `${config.images.postgres}:${config.imageTag}`,
    redis: `${config.images.redis}:${config.imageTag}`,
  };
}

/** The variables `${VAR}` may name in manifests. Secrets are deliberately not among them. */
export function manifestVars(config: Config, refs: ImageRefs, embeddedPostgres: boolean): Vars {
  return {
    ENVIRONMENT: config.environment,
    NAMESPACE: config.namespace,
    DOMAIN: config.domain,
    REPLICAS: String(config.replicas),
    IMAGE_PULL_POLICY: config.imagePullPolicy,
    FRONTEND_IMAGE: refs.frontend,
    BACKEND_IMAGE: refs.backend,
    MCP_SERVER_IMAGE: refs.mcpServer,
    POSTGRES_IMAGE: refs.postgres,
    REDIS_IMAGE: refs.redis,
    EMBEDDED_POSTGRES: String(embeddedPostgres),
  };
}

// The default manifest folder lives with the configuration: the commands' flag tables read it
// at start-up, without loading the renderer (and the YAML parser) for --help.
export { DEFAULT_MANIFESTS_DIR } from './config.ts';

export interface Rendering {
  vars: Vars;
  /** Rendered manifests as written, for the policy gate. */
  rendered: SourcedObject[];
  /** Every stage in creation order with the objects to apply (labels and namespace added). */
  stages: PlannedStage[];
}

/**
 * Renders the manifests and the generated Secret into stages. The rendering step of
 * planDeployment, also used on its own by tests that render fixture folders the policy would refuse.
 */
export function buildPlan(config: Config, secrets: Secrets, refs: ImageRefs, manifestsDir: string, repoRoot: string): Rendering {
  const vars = manifestVars(config, refs, secrets.embeddedPostgres);
  const dir = path.resolve(repoRoot, manifestsDir);
  // Files inside the repository are named relative to it (as SARIF viewers expect), others absolutely.
  const rendered = renderManifests(dir, vars, repoRoot).map((s) => ({ ...s, file: fileLabel(repoRoot, s.file) }));
  const generated: SourcedObject = { object: secretObject(config.namespace, secrets), file: '(generated from .env)', line: 1 };
  const prepared = [...rendered, generated].map((s) => ({
    ...s,
    object: prepareForApply(s.object, kindRefOf(s.object)?.namespaced === false ? undefined : config.namespace),
  }));
  return { vars, rendered, stages: planStages(prepared) };
}

function fileLabel(repoRoot: string, relative: string): string {
  return relative.startsWith('..') || path.isAbsolute(relative) ? path.resolve(repoRoot, relative) : relative;
}

/** One stage of the plan: its objects, and the gates waited for after they are applied. */
export interface StagePlan extends PlannedStage {
  readonly gates: StageGates;
}

export interface Plan {
  readonly config: Config;
  readonly secrets: Secrets;
  /** What is wrong with the secrets; `up` refuses to run with any (see requireDeployable). */
  readonly secretProblems: readonly Problem[];
  readonly refs: ImageRefs;
  readonly vars: Vars;
  readonly repoRoot: string;
  /** The manifest folder (absolute) and its files, labelled as the objects' files are. */
  readonly manifestsDir: string;
  readonly files: readonly string[];
  /** Rendered manifests as written (the policy gate's input). */
  readonly rendered: readonly SourcedObject[];
  readonly policy: PolicyResult;
  readonly stages: readonly StagePlan[];
}

export interface PlanInput {
  config: Config;
  /** The process environment: secrets are read from it first, then from .env. */
  processEnv: Record<string, string | undefined>;
  repoRoot: string;
  /** The manifest folder, absolute or relative to repoRoot. */
  manifestsDir: string;
  /** The image refs to render; default: the configuration's repositories with IMAGE_TAG. */
  refs?: ImageRefs;
  /**
   * 'required' (up, bench): unusable secrets stop the plan before anything is rendered.
   * 'optional' (validate): the plan is made with what there is, the problems kept in it.
   */
  secrets: 'required' | 'optional';
}

/**
 * The one way to a plan. Secret values are registered for redaction before anything else can
 * print them. Bad manifests throw (UsageError, with file and line); policy violations are part
 * of the value, for `validate` to report and `up` to refuse (requireDeployable).
 */
export function planDeployment(input: PlanInput): Plan {
  const { secrets, problems } = readSecrets(input.config, input.processEnv);
  registerSecretValues(Object.values(secrets.values));
  if (input.secrets === 'required' && problems.length > 0) throw secretsError(problems);
  const dir = path.resolve(input.repoRoot, input.manifestsDir);
  return planWith(input.config, secrets, problems, input.refs ?? defaultImageRefs(input.config), dir, input.repoRoot);
}

/** The same plan rendered with other image refs (the tags the images step built), through the same function. */
export function withImages(plan: Plan, refs: ImageRefs): Plan {
  return planWith(plan.config, plan.secrets, plan.secretProblems, refs, plan.manifestsDir, plan.repoRoot);
}

function planWith(config: Config, secrets: Secrets, problems: readonly Problem[], refs: ImageRefs, dir: string, repoRoot: string): Plan {
  const rendering = buildPlan(config, secrets, refs, dir, repoRoot);
  if (rendering.rendered.length === 0) {
    throw new UsageError(`The folder ${dir} holds no Kubernetes objects for the ${config.environment} environment. Fix: point --manifests at a folder of *.yaml manifests.`);
  }
  const files = manifestFiles(dir).map((abs) => fileLabel(repoRoot, path.relative(repoRoot, abs) || abs));
  const policy = policyGate({ objects: rendering.rendered, files, environment: config.environment, namespace: config.namespace, root: repoRoot });
  const gates = planGates(rendering.stages);
  const stages = rendering.stages.map((s, i) => Object.freeze({ ...s, objects: Object.freeze([...s.objects]) as SourcedObject[], gates: gates[i]! }));
  return Object.freeze({
    config,
    secrets,
    secretProblems: Object.freeze([...problems]),
    refs,
    vars: rendering.vars,
    repoRoot,
    manifestsDir: dir,
    files: Object.freeze(files),
    rendered: Object.freeze(rendering.rendered),
    policy,
    stages: Object.freeze(stages),
  });
}

/** What `up` requires of a plan before it touches a cluster: usable secrets, no policy violation. */
export function requireDeployable(plan: Plan): void {
  if (plan.secretProblems.length > 0) throw secretsError([...plan.secretProblems]);
  if (plan.policy.violations.length > 0) {
    throw new UsageError(`The policy gate refused the manifests; nothing was sent to a cluster.\n${formatText(plan.policy, plan.config.environment)}`);
  }
}

/** The plan in one line, for the task title. */
export function planSummary(plan: Plan): string {
  const count = plan.stages.reduce((n, st) => n + st.objects.length, 0);
  const excepted = plan.policy.exceptions.length ? `, ${plan.policy.exceptions.length} excepted (see npm run validate)` : '';
  return `Rendered ${count} objects in ${plan.stages.filter((st) => st.objects.length).length} stages; policy: ${plan.policy.rulesChecked} rules passed${excepted}`;
}

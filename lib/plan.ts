// From configuration to the ordered set of objects `up` applies: the variables manifests may
// use, the rendered manifests, the generated Secret, the managed labels and the stage plan.
// No cluster is involved, so `validate` and tests use it as is.
import path from 'node:path';
import type { Config } from './config.ts';
import { renderManifests, prepareForApply, type Vars } from './manifests.ts';
import { planStages, kindRefOf, type PlannedStage } from './order.ts';
import { secretObject, type Secrets } from './secrets.ts';
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

export const DEFAULT_MANIFESTS_DIR = 'manifests';

export interface Plan {
  vars: Vars;
  /** Rendered manifests as written, for the policy gate. */
  rendered: SourcedObject[];
  /** Every stage in creation order with the objects to apply (labels and namespace added). */
  stages: PlannedStage[];
}

export function buildPlan(config: Config, secrets: Secrets, refs: ImageRefs, manifestsDir: string, repoRoot: string): Plan {
  const vars = manifestVars(config, refs, secrets.embeddedPostgres);
  const dir = path.resolve(repoRoot, manifestsDir);
  const rendered = renderManifests(dir, vars, repoRoot);
  const generated: SourcedObject = { object: secretObject(config.namespace, secrets), file: '(generated from .env)', line: 1 };
  const prepared = [...rendered, generated].map((s) => ({
    ...s,
    object: prepareForApply(s.object, kindRefOf(s.object)?.namespaced === false ? undefined : config.namespace),
  }));
  return { vars, rendered, stages: planStages(prepared) };
}

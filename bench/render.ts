// The objects every tool of the benchmark deploys: rendered once by the pipeline's own renderer
// (planDeployment: manifests/ with ${VAR}s from env/<env>.env, the generated Secret, the managed
// labels and namespaces `up` adds) and written to a private temporary folder, one file per
// manifest file as a person keeps them, the Secret in a file of its own. The same files become
// the templates of a Helm chart. The folder holds a Secret: it is created 0700, never printed,
// and removed by the caller (bench/run.ts) on every way out.
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { stringify } from 'yaml';
import { loadConfig, type Config, type SettingKey } from '../lib/config.ts';
import { planDeployment, DEFAULT_MANIFESTS_DIR, type Plan } from '../lib/plan.ts';
import type { Secrets } from '../lib/secrets.ts';
import type { KubeObject, SourcedObject } from '../lib/types.ts';

/**
 * Secret values for the benchmark: test values, never real ones. DATABASE_URL is left unset so
 * dev renders the embedded PostgreSQL, as a developer's first `up` does.
 */
export const BENCH_SECRETS = {
  OPENAI_API_KEY: 'sk-bench-not-a-real-key',
  BETTER_AUTH_SECRET: 'bench-only-auth-secret-0123456789abcdef',
} as const;

export interface RenderedStack {
  config: Config;
  secrets: Secrets;
  plan: Plan;
  /** Every object in creation order, as `up` applies them. */
  objects: KubeObject[];
}

/**
 * Renders as `up` does when given `processEnv` (the environment the benchmark hands every
 * tool): the same configuration layers and the same secret sources, so the objects agree.
 */
export function renderStack(repoRoot: string, env: string, processEnv: Record<string, string | undefined>, manifestsDir = DEFAULT_MANIFESTS_DIR, flags: Partial<Record<SettingKey, string>> = {}): RenderedStack {
  const config = loadConfig({ env, repoRoot, flags });
  const plan = planDeployment({ config, processEnv, repoRoot, manifestsDir, secrets: 'required' });
  return { config, secrets: plan.secrets, plan, objects: plan.stages.flatMap((s) => s.objects.map((o) => o.object)) };
}

/** The generated Secret's file: after 00-namespace.yaml, before the ServiceAccounts, as a person would name it. */
export const SECRET_FILE = '05-secret.yaml';

/**
 * File name -> objects, in file order within each file: each object goes back to the manifest
 * file it came from; the generated Secret gets SECRET_FILE. Pure.
 */
export function filesOf(plan: Plan): Map<string, KubeObject[]> {
  const sourced: SourcedObject[] = plan.stages.flatMap((s) => s.objects);
  const byFile = new Map<string, SourcedObject[]>();
  for (const s of sourced) {
    const name = s.object.kind === 'Secret' && !s.file.endsWith('.yaml') && !s.file.endsWith('.yml') ? SECRET_FILE : path.basename(s.file);
    byFile.set(name, [...(byFile.get(name) ?? []), s]);
  }
  const out = new Map<string, KubeObject[]>();
  for (const name of [...byFile.keys()].sort()) {
    out.set(name, byFile.get(name)!.sort((a, b) => a.line - b.line).map((s) => s.object));
  }
  return out;
}

/**
 * Objects as one multi-document YAML text. Pure. Written as YAML 1.1 because the Go tools read
 * YAML 1.1: a string like `no` (redis's `--appendonly no`) must come out quoted, or kubectl,
 * helm and kapp would read it as the boolean false.
 */
export function yamlOf(objects: KubeObject[]): string {
  return objects.map((o) => stringify(o, { lineWidth: 0, version: '1.1' })).join('---\n');
}

/** Writes the rendered files into `dir` (created 0700); returns their names. */
export function writeRendered(plan: Plan, dir: string): string[] {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  chmodSync(dir, 0o700);
  const files = filesOf(plan);
  for (const [name, objects] of files) writeFileSync(path.join(dir, name), yamlOf(objects), { mode: 0o600 });
  return [...files.keys()];
}

/** Helm would read `{{` in a template as an action; the rendered text must pass through verbatim. Pure. */
export function escapeForHelm(text: string): string {
  return text.replaceAll('{{', '{{ "{{" }}');
}

/** A chart whose templates are the rendered files, unchanged (no values, no helpers). */
export function writeChart(plan: Plan, dir: string, name = 'todo'): void {
  mkdirSync(path.join(dir, 'templates'), { recursive: true, mode: 0o700 });
  writeFileSync(
    path.join(dir, 'Chart.yaml'),
    stringify({ apiVersion: 'v2', name, description: 'The Todo stack as rendered by todo-deploy (benchmark chart)', type: 'application', version: '0.1.0', appVersion: '0.1.0' }),
    { mode: 0o600 },
  );
  for (const [file, objects] of filesOf(plan)) writeFileSync(path.join(dir, 'templates', file), escapeForHelm(yamlOf(objects)), { mode: 0o600 });
}

/**
 * Another common layout for the ordering probe: one file per object named <kind>-<name>.yaml
 * (as `kubectl get -o yaml` dumps are often kept). Alphabetical order then puts Components,
 * Configurations, Deployments and the Ingress before their Namespace. Returns the file names.
 */
export function writePerObject(plan: Plan, dir: string): string[] {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  chmodSync(dir, 0o700);
  const names: string[] = [];
  for (const o of plan.stages.flatMap((s) => s.objects.map((x) => x.object))) {
    const name = `${o.kind.toLowerCase()}-${o.metadata.name}.yaml`;
    writeFileSync(path.join(dir, name), yamlOf([o]), { mode: 0o600 });
    names.push(name);
  }
  return names.sort();
}

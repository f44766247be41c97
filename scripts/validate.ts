#!/usr/bin/env tsx
// npm run validate: the policy gate on its own, without touching a cluster (unless --server).
//   1. configuration   env/<env>.env, .env and flags, as `up` reads them
//   2. render          the manifest folder with ${VAR} from the configuration
//   3. policy          every rule of docs/rules.md, exceptions applied, lines pointed at fields
//   4. --server        a server-side dry-run apply of every object against the current context
// Exit codes: 0 clean, 1 violations (or server rejections), 2 bad input.
import '../lib/require-node.mjs';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { COMMON_OPTIONS, REPO_ROOT, main } from '../lib/cli.ts';
import { SETTING_HELP, SETTING_OPTIONS, settingFlags } from '../lib/flags.ts';
import { loadConfig } from '../lib/config.ts';
import { prepareForApply } from '../lib/manifests.ts';
import { DEFAULT_MANIFESTS_DIR, planDeployment } from '../lib/plan.ts';
import { UsageError } from '../lib/errors.ts';
import { RULES, formatJson, formatSarif, formatText, readmeRulesSection, refineLines, rulesMarkdown, type PolicyResult } from '../lib/policy/index.ts';
import type { Rule } from '../lib/policy/index.ts';

const OUTPUTS = ['text', 'json', 'sarif'] as const;
type Output = (typeof OUTPUTS)[number];

const usage = `Usage: npm run validate -- [options]

Checks the rendered manifests against the policy rules (docs/rules.md) before anything
touches a cluster: each violation names the object, its file and line, the rule, what is
wrong and how to fix it.

Options:
  --env dev|prod            environment (default dev): reads env/<env>.env, then .env
  --manifests DIR           manifest folder to validate (default manifests)
  --output text|json|sarif  report format (default text); sarif is SARIF 2.1.0 for code scanning
  --server                  also dry-run every object on the current kubeconfig context
  --context NAME            kubeconfig context for --server
  --list-rules              print docs/rules.md (the rule table, Markdown) and exit;
                            with --readme, the README section between its rules markers
  --debug                   print stack traces on failure
  -h, --help                show this help

${SETTING_HELP}

Exceptions: annotate an object with todo-deploy.dev/allow.<entity>.<rule>: "<reason>"
(e.g. todo-deploy.dev/allow.pod.read-only-root-fs). Security rules cannot be excepted in prod.

Exit codes: 0 no violations, 1 violations or server rejections, 2 bad input or usage.`;

interface Values {
  env: string;
  manifests: string;
  output: string;
  server: boolean;
  context?: string;
  'list-rules': boolean;
  readme: boolean;
  [key: string]: unknown;
}

/** npm runs scripts from the package root; a relative --manifests means the caller's folder. */
function resolveFromCaller(dir: string): string {
  return path.resolve(process.env.INIT_CWD ?? process.cwd(), dir);
}

await main<Values>({
  name: 'validate',
  usage,
  options: {
    ...COMMON_OPTIONS,
    ...SETTING_OPTIONS,
    manifests: { type: 'string', default: DEFAULT_MANIFESTS_DIR },
    output: { type: 'string', default: 'text' },
    server: { type: 'boolean', default: false },
    context: { type: 'string' },
    'list-rules': { type: 'boolean', default: false },
    readme: { type: 'boolean', default: false },
  },
  run: async (values, positionals) => {
    if (values['list-rules']) {
      process.stdout.write(values.readme ? `${readmeRulesSection()}\n` : rulesMarkdown());
      return 0;
    }
    if (positionals.length > 0) throw new UsageError(`Unexpected argument(s): ${positionals.join(' ')}. Fix: pass the folder with --manifests <dir>.`);
    if (!(OUTPUTS as readonly string[]).includes(values.output)) throw new UsageError(`Unknown output format "${values.output}" given to --output. Fix: use --output text, json or sarif.`);
    const output = values.output as Output;

    const config = loadConfig({ env: values.env, repoRoot: REPO_ROOT, flags: settingFlags(values) });
    // The plan `up` makes, from the same inputs (the embedded database exactly when `up` would
    // deploy it), with the same policy gate; secrets that `up` would refuse do not stop a check.
    const plan = planDeployment({ config, processEnv: process.env, repoRoot: REPO_ROOT, manifestsDir: resolveFromCaller(values.manifests), secrets: 'optional' });
    const objects = plan.rendered;
    const embeddedPostgres = plan.secrets.embeddedPostgres;
    const dir = plan.manifestsDir;
    let result: PolicyResult = plan.policy;
    const read = (file: string) => {
      try {
        return readFileSync(path.resolve(REPO_ROOT, file), 'utf8');
      } catch {
        return undefined;
      }
    };

    const notes: string[] = [`validated ${dir} for ${config.environment}${embeddedPostgres ? ' (with the embedded PostgreSQL)' : ''}`];
    const sarifRules: Rule[] = [...RULES];
    if (values.server) {
      // The Kubernetes client is loaded only here: a plain validate stays quick to start.
      const { loadKubeConfig, networkCause, unreachableError } = await import('../lib/kube/client.ts');
      const { FIELD_MANAGER } = await import('../lib/kube/apply.ts');
      const { DryRunUnavailable, SERVER_RULE, serverDryRun } = await import('../lib/policy/server-dry-run.ts');
      sarifRules.push(SERVER_RULE);
      const cluster = loadKubeConfig(values.context);
      try {
        const dry = await serverDryRun(objects, cluster.objects, {
          fieldManager: FIELD_MANAGER,
          describeUnreachable: (err) => {
            const cause = networkCause(err);
            return cause ? unreachableError(cluster, cause).message.replace('Nothing was applied. ', '') : undefined;
          },
          prepare: (object) => prepareForApply(object, object.metadata.namespace),
        });
        result = { ...result, violations: [...result.violations, ...refineLines(dry.violations, read)] };
        notes.push(`server dry-run on context "${cluster.context}": ${dry.checked} object(s) checked, ${dry.violations.length} rejected, ${dry.skipped.length} not checked`);
        const reasons = new Map<string, number>();
        for (const s of dry.skipped) reasons.set(s.reason, (reasons.get(s.reason) ?? 0) + 1);
        for (const [reason, n] of reasons) notes.push(`${n} object(s) not checked: ${reason}. Create the namespace (or run up once) to check them too.`);
      } catch (err) {
        if (err instanceof DryRunUnavailable) throw new UsageError(`${err.message} The server dry-run could not run. Fix: start the cluster or choose a reachable context with --context, or drop --server.`);
        throw err;
      }
    }

    const text =
      output === 'json' ? formatJson(result, config.environment)
      : output === 'sarif' ? formatSarif(result, config.environment, sarifRules)
      : formatText(result, config.environment);
    process.stdout.write(`${text}\n`);
    // Notes go to stderr so that json and sarif output stay parseable on stdout.
    process.stderr.write(notes.map((n) => `note: ${n}\n`).join(''));
    return result.violations.length > 0 ? 1 : 0;
  },
});

// The Helm chart charts/todo-app (data model §12), generated from manifests/ and env/*.env so
// that there is one source: each manifest becomes a template whose ${VAR} placeholders read
// .Values, env/prod.env becomes values.yaml (the base) and env/dev.env the overrides in
// values-dev.yaml ("merged values from values.yaml + values-dev.yaml"). `npm run chart`
// writes it; a unit test fails when the committed chart differs from what this generates.
// Pure: texts in, texts out.
import { parse, stringify } from 'yaml';
import type { Config } from './config.ts';
import type { ImageRefs } from './types.ts';
import type { HelmChart, HelmChartMetadata } from './release/helm-codec.ts';

export const CHART_NAME = 'todo-app';
export const CHART_DIR = 'charts/todo-app';
/** The chart's own version; bump it when the chart's shape (its values) changes. */
export const CHART_VERSION = '0.2.0';

/**
 * The chart's values, named after the data model's attributes (replicaCount, image.repository,
 * image.tag). One shape for values.yaml, values-dev.yaml and a release's recorded values.
 */
export interface ChartValues {
  environment: string;
  namespace: string;
  domain: string;
  replicaCount: number;
  imagePullPolicy: string;
  frontend: { image: { repository: string; tag: string } };
  backend: { image: { repository: string; tag: string } };
  mcpServer: { image: { repository: string; tag: string } };
  /** The in-cluster stores, built by the pipeline like the apps (apps/postgres, apps/redis). */
  postgres: { image: { repository: string; tag: string } };
  redis: { image: { repository: string; tag: string } };
  embeddedPostgres: boolean;
}

/** The template expression each manifest variable becomes. */
export const VAR_TEMPLATES: Record<string, string> = {
  ENVIRONMENT: '{{ .Values.environment }}',
  NAMESPACE: '{{ .Values.namespace }}',
  DOMAIN: '{{ .Values.domain }}',
  REPLICAS: '{{ .Values.replicaCount }}',
  IMAGE_PULL_POLICY: '{{ .Values.imagePullPolicy }}',
  FRONTEND_IMAGE: '{{ .Values.frontend.image.repository }}:{{ .Values.frontend.image.tag }}',
  BACKEND_IMAGE: '{{ .Values.backend.image.repository }}:{{ .Values.backend.image.tag }}',
  MCP_SERVER_IMAGE: '{{ .Values.mcpServer.image.repository }}:{{ .Values.mcpServer.image.tag }}',
  POSTGRES_IMAGE: '{{ .Values.postgres.image.repository }}:{{ .Values.postgres.image.tag }}',
  REDIS_IMAGE: '{{ .Values.redis.image.repository }}:{{ .Values.redis.image.tag }}',
  EMBEDDED_POSTGRES: '{{ .Values.embeddedPostgres }}',
};

/** The .Values path a `# todo-deploy: when VAR` condition reads. */
const CONDITION_VALUES: Record<string, string> = { EMBEDDED_POSTGRES: '.Values.embeddedPostgres' };

function splitRef(ref: string): { repository: string; tag: string } {
  // The tag follows the last colon after the last slash (a registry host may carry a port).
  const slash = ref.lastIndexOf('/');
  const colon = ref.lastIndexOf(':');
  if (colon <= slash) return { repository: ref, tag: '' };
  return { repository: ref.slice(0, colon), tag: ref.slice(colon + 1) };
}

/** The values a deployment of `config` with these image refs corresponds to. Pure. */
export function chartValues(config: Pick<Config, 'environment' | 'namespace' | 'domain' | 'replicas' | 'imagePullPolicy'>, refs: ImageRefs, embeddedPostgres: boolean): ChartValues {
  return {
    environment: config.environment,
    namespace: config.namespace,
    domain: config.domain,
    replicaCount: config.replicas,
    imagePullPolicy: config.imagePullPolicy,
    frontend: { image: splitRef(refs.frontend) },
    backend: { image: splitRef(refs.backend) },
    mcpServer: { image: splitRef(refs.mcpServer) },
    postgres: { image: splitRef(refs.postgres) },
    redis: { image: splitRef(refs.redis) },
    embeddedPostgres,
  };
}

/** Values from an env file's settings (the keys of env/<env>.env); dev without DATABASE_URL embeds PostgreSQL. */
export function valuesFromSettings(environment: 'dev' | 'prod', settings: Record<string, string>): ChartValues {
  const tag = settings.IMAGE_TAG ?? '';
  return chartValues(
    {
      environment,
      namespace: settings.NAMESPACE ?? '',
      domain: settings.DOMAIN ?? '',
      replicas: Number(settings.REPLICAS),
      imagePullPolicy: (settings.IMAGE_PULL_POLICY ?? '') as Config['imagePullPolicy'],
    },
    {
      frontend: `${settings.FRONTEND_IMAGE}:${tag}`,
      backend: `${settings.BACKEND_IMAGE}:${tag}`,
      mcpServer: `${settings.MCP_SERVER_IMAGE}:${tag}`,
      postgres: `${settings.POSTGRES_IMAGE}:${tag}`,
      redis: `${settings.REDIS_IMAGE}:${tag}`,
    },
    environment === 'dev',
  );
}

/** The keys of `over` whose values differ from `base`, recursively (what values-dev.yaml must say). */
export function valuesDiff(base: Record<string, unknown>, over: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(over)) {
    const was = base[key];
    if (value && typeof value === 'object' && !Array.isArray(value) && was && typeof was === 'object') {
      const inner = valuesDiff(was as Record<string, unknown>, value as Record<string, unknown>);
      if (Object.keys(inner).length > 0) out[key] = inner;
    } else if (JSON.stringify(value) !== JSON.stringify(was)) {
      out[key] = value;
    }
  }
  return out;
}

const CONDITION = /^#\s*todo-deploy:\s*when\s+([A-Z][A-Z0-9_]*)\s*$/;
const PLACEHOLDER = /\$\$\{|\$\{\s*([A-Z][A-Z0-9_]*)\s*\}/g;

/**
 * One manifest as a chart template. Text outside placeholders is kept byte for byte (a literal
 * "{{" is escaped for Go templates); comment lines keep their placeholders as written, as the
 * renderer does. Throws on a variable the chart has no value for.
 */
export function manifestToTemplate(text: string, file: string): string {
  const lines = text.split('\n');
  const condition = CONDITION.exec(lines[0] ?? '');
  const body = lines
    .map((line, index) => {
      const escaped = line.replace(/\{\{/g, '{{ "{{" }}');
      if (/^\s*#/.test(line)) return escaped;
      return escaped.replace(PLACEHOLDER, (match, name: string | undefined) => {
        if (match === '$${') return '${';
        const expression = VAR_TEMPLATES[name!];
        if (!expression) throw new Error(`${file}:${index + 1}: \${${name}} has no chart value. Fix: add it to VAR_TEMPLATES in lib/chart.ts.`);
        return expression;
      });
    })
    .join('\n');
  const header = `# Generated by \`npm run chart\` from manifests/${file}: edit that file, not this one.\n`;
  if (!condition) return header + body;
  const value = CONDITION_VALUES[condition[1]!];
  if (!value) throw new Error(`${file}:1: the condition ${condition[1]} has no chart value. Fix: add it to CONDITION_VALUES in lib/chart.ts.`);
  return `${header}{{- if ${value} }}\n${body.replace(/\n*$/, '\n')}{{- end }}\n`;
}

export interface ChartSources {
  /** manifests/*.yaml at the top level: file name -> text. */
  manifests: Record<string, string>;
  /** Parsed env/dev.env and env/prod.env. */
  devSettings: Record<string, string>;
  prodSettings: Record<string, string>;
  /** package.json version, the app version the chart deploys. */
  appVersion: string;
}

/** Every file of charts/todo-app, path relative to the chart -> content. */
export function generateChart(sources: ChartSources): Record<string, string> {
  const prod = valuesFromSettings('prod', sources.prodSettings);
  const dev = valuesFromSettings('dev', sources.devSettings);
  const files: Record<string, string> = {
    'Chart.yaml':
      '# Generated by `npm run chart` (lib/chart.ts); the templates come from manifests/.\n' +
      stringify(
        {
          apiVersion: 'v2',
          name: CHART_NAME,
          description: 'The Todo stack (frontend, backend, MCP server) with its Dapr objects, as todo-deploy deploys it',
          type: 'application',
          version: CHART_VERSION,
          appVersion: sources.appVersion,
        },
        { lineWidth: 0 },
      ),
    'values.yaml':
      '# Generated by `npm run chart` from env/prod.env: the base values. values-dev.yaml overrides them for dev\n' +
      '# (helm install todo-app charts/todo-app -f charts/todo-app/values-dev.yaml).\n' +
      '# The Secret todo-secrets is not part of the chart: todo-deploy creates it from .env (or create it yourself).\n' +
      stringify(prod),
    'values-dev.yaml': '# Generated by `npm run chart` from env/dev.env: what dev changes in values.yaml.\n' + stringify(valuesDiff(prod as unknown as Record<string, unknown>, dev as unknown as Record<string, unknown>)),
    '.helmignore': '# Generated by `npm run chart`.\n.git/\n*.swp\n*.bak\n',
  };
  for (const [name, text] of Object.entries(sources.manifests).sort(([a], [b]) => a.localeCompare(b))) {
    files[`templates/${name}`] = manifestToTemplate(text, name);
  }
  return files;
}

/**
 * The chart as a release stores it (Helm's chart loader: Chart.yaml becomes metadata, values.yaml
 * values, templates/* templates, anything else files), from the chart folder's files.
 */
export function helmChartRecord(files: Record<string, string>): HelmChart {
  const b64 = (text: string) => Buffer.from(text, 'utf8').toString('base64');
  const names = Object.keys(files).sort();
  return {
    metadata: parse(files['Chart.yaml'] ?? '') as HelmChartMetadata,
    lock: null,
    templates: names.filter((n) => n.startsWith('templates/')).map((name) => ({ name, data: b64(files[name]!) })),
    values: (parse(files['values.yaml'] ?? '') ?? {}) as Record<string, unknown>,
    schema: null,
    files: names.filter((n) => !n.startsWith('templates/') && !['Chart.yaml', 'values.yaml', '.helmignore'].includes(n)).map((name) => ({ name, data: b64(files[name]!) })),
  };
}

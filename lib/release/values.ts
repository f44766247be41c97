// What a revision records besides its manifest: the chart it corresponds to (generated from the
// manifests this run rendered, so `helm get` and a user's `helm rollback` see the same templates)
// and the values (`helm get values`): the merged configuration, never a secret.
import path from 'node:path';
import { chartValues, generateChart, helmChartRecord } from '../chart.ts';
import { readChartSources } from '../chart-files.ts';
import type { Config } from '../config.ts';
import type { ImageRefs } from '../types.ts';
import type { HelmChart } from './helm-codec.ts';

/** The chart values of this configuration, with every non-secret setting it was merged from (env file, .env, flags). Pure. */
export function releaseValues(config: Config, refs: ImageRefs, embeddedPostgres: boolean): Record<string, unknown> {
  const settings: Record<string, string> = {
    ...config.fileSettings,
    NAMESPACE: config.namespace,
    DOMAIN: config.domain,
    REPLICAS: String(config.replicas),
    IMAGE_PULL_POLICY: config.imagePullPolicy,
    FRONTEND_IMAGE: config.images.frontend,
    BACKEND_IMAGE: config.images.backend,
    MCP_SERVER_IMAGE: config.images.mcpServer,
    IMAGE_TAG: config.imageTag,
    READY_TIMEOUT: String(config.readyTimeoutSeconds),
  };
  const sorted = Object.fromEntries(Object.entries(settings).sort(([a], [b]) => a.localeCompare(b)));
  return { ...chartValues(config, refs, embeddedPostgres), settings: sorted };
}

/** The chart as the release stores it, with the templates of the manifest folder this run used. */
export function releaseChart(repoRoot: string, manifestsDir: string): HelmChart {
  const sources = readChartSources(repoRoot, path.resolve(repoRoot, manifestsDir), { lenient: true });
  return helmChartRecord(generateChart(sources));
}

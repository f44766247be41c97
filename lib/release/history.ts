// `npm run history`: the release's revisions as `helm history` lists them. Pure.
import type { HelmRelease } from './helm-codec.ts';

export interface HistoryRow {
  revision: number;
  updated?: string;
  status: string;
  chart: string;
  app_version?: string;
  description?: string;
}

export function historyRows(history: readonly HelmRelease[]): HistoryRow[] {
  return [...history]
    .sort((a, b) => a.version - b.version)
    .map((r) => ({
      revision: r.version,
      updated: r.info.last_deployed,
      status: r.info.status,
      chart: `${r.chart.metadata.name}-${r.chart.metadata.version}`,
      app_version: r.chart.metadata.appVersion,
      description: r.info.description,
    }));
}

/** The rows as a table with helm history's columns. */
export function formatHistory(rows: readonly HistoryRow[]): string {
  const header = ['REVISION', 'UPDATED', 'STATUS', 'CHART', 'APP VERSION', 'DESCRIPTION'];
  const cells = rows.map((r) => [String(r.revision), r.updated ?? '-', r.status, r.chart, r.app_version ?? '', r.description ?? '']);
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i]!.length)));
  const line = (c: string[]) => c.map((x, i) => (i === c.length - 1 ? x : x.padEnd(widths[i]!))).join('  ').trimEnd();
  return [line(header), ...cells.map(line)].join('\n');
}

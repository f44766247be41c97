#!/usr/bin/env tsx
// npm run chart: writes charts/todo-app from manifests/ and env/*.env (one source: the chart
// is generated, never edited). --check only says whether the committed chart is current.
import '../lib/require-node.mjs';
import { REPO_ROOT, main } from '../lib/cli.ts';
import { CHART_DIR } from '../lib/chart.ts';
import { chartDrift, writeChart } from '../lib/chart-files.ts';

const usage = `Usage: npm run chart [-- --check]

Generates the Helm chart ${CHART_DIR} from manifests/*.yaml (each becomes a template whose
\${VAR} placeholders read .Values) and env/prod.env (values.yaml) and env/dev.env
(values-dev.yaml, what dev changes). Run it after changing a manifest or an env file.

Options:
  --check       change nothing; exit 1 and name the files when the chart is not current
  -h, --help    show this help`;

await main<{ check: boolean }>({
  name: 'chart',
  usage,
  options: { check: { type: 'boolean', default: false }, help: { type: 'boolean', short: 'h', default: false }, debug: { type: 'boolean', default: false } },
  run: async (values) => {
    if (values.check) {
      const drift = chartDrift(REPO_ROOT);
      if (drift.length === 0) {
        console.log(`${CHART_DIR} is current.`);
        return 0;
      }
      console.error(`${CHART_DIR} differs from what manifests/ and env/ generate: ${drift.join(', ')}. Fix: npm run chart`);
      return 1;
    }
    const written = writeChart(REPO_ROOT);
    console.log(written.length ? `${CHART_DIR}: wrote ${written.join(', ')}` : `${CHART_DIR} is current.`);
    return 0;
  },
});

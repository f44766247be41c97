// npm run images [-- --env dev|prod] [--debug]
// Builds the three workload images and the in-cluster PostgreSQL and Redis images the way `up`
// does (content-derived tags, a build skipped when its tag exists) and prints the refs.
// NODE_IMAGE picks the base (default node:22-bookworm-slim; offline: the ref printed by
// `npm run images:base`).
import '../lib/require-node.mjs';
import { COMMON_OPTIONS, main, REPO_ROOT } from '../lib/cli.ts';
import { IMAGE_SETTINGS, loadConfig } from '../lib/config.ts';
import { UsageError } from '../lib/errors.ts';
import { buildImages, nodeImageFrom } from '../lib/images/build.ts';
import { redact } from '../lib/output.ts';

const usage = `Usage: npm run images -- [options]

Builds the frontend, backend and mcp-server images and the in-cluster PostgreSQL 15 and Redis 7.0
images (apps/postgres, apps/redis: Debian bookworm's packages) the way \`up\` does: each tagged
with a digest of its build context (never "latest"), a build skipped when its tag already
exists, and prints the refs as FRONTEND_IMAGE=... lines. NODE_IMAGE picks the base image
(default node:22-bookworm-slim; on a machine that cannot pull it, the ref
\`npm run images:base\` prints).

Options:
  --env dev|prod    environment whose image repositories are used (default dev)
  --debug           print stack traces on failure
  -h, --help        show this help

Exit codes: 0 built (or already there), 1 a build failed, 2 bad usage or configuration.`;

await main<{ env: string }>({
  name: 'images',
  usage,
  options: COMMON_OPTIONS,
  run: async (values, positionals) => {
    if (positionals.length > 0) throw new UsageError(`Unexpected argument(s): ${positionals.join(' ')}. Fix: see \`npm run images -- --help\` for the options.`);
    // Builds need no secret; docker's output passes through the redaction main() set up, as in `up`.
    const config = loadConfig({ env: values.env, repoRoot: REPO_ROOT });
    const nodeImage = nodeImageFrom(process.env);
    console.log(`Building with NODE_IMAGE=${nodeImage}`);
    const { refs, results } = await buildImages({ repoRoot: REPO_ROOT, names: config.images, nodeImage, redact, log: (l) => console.log(`  ${l}`) });
    for (const r of results) console.log(`${r.action === 'built' ? '✓ built  ' : '✓ skipped'} ${r.ref} (${r.seconds.toFixed(1)}s)`);
    for (const [key, setting] of Object.entries(IMAGE_SETTINGS) as [keyof typeof IMAGE_SETTINGS, string][]) console.log(`${setting}=${refs[key]}`);
  },
});

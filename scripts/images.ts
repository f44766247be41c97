// npm run images [-- --env dev|prod] [--debug]
// Builds the three workload images the way `up` does (content-derived tags, a build skipped
// when its tag exists) and prints the refs. NODE_IMAGE picks the base (default
// node:22-bookworm-slim; offline: the ref printed by `npm run images:base`).
import '../lib/require-node.ts';
import { REPO_ROOT } from '../lib/repo-root.ts';
import { parseArgs } from 'node:util';
import { loadConfig } from '../lib/config.ts';
import { exitCodeOf } from '../lib/errors.ts';
import { buildImages, nodeImageFrom } from '../lib/images/build.ts';
import { installRedaction, redact, registerSecretValues } from '../lib/output.ts';
import { SECRET_SOURCES } from '../lib/secrets.ts';

const repoRoot = REPO_ROOT;
const { values: args } = parseArgs({ options: { env: { type: 'string', default: 'dev' }, debug: { type: 'boolean', default: false } } });

installRedaction();
try {
  const config = loadConfig({ env: args.env, repoRoot });
  // Builds need no secret, but docker's output passes through the same redaction as `up`.
  registerSecretValues(Object.values(SECRET_SOURCES).map((v) => process.env[v] ?? config.dotenv[v] ?? ''));
  const nodeImage = nodeImageFrom(process.env);
  console.log(`Building with NODE_IMAGE=${nodeImage}`);
  const { refs, results } = await buildImages({ repoRoot, names: config.images, nodeImage, redact, log: (l) => console.log(`  ${l}`) });
  for (const r of results) console.log(`${r.action === 'built' ? '✓ built  ' : '✓ skipped'} ${r.ref} (${r.seconds.toFixed(1)}s)`);
  console.log(`FRONTEND_IMAGE=${refs.frontend}\nBACKEND_IMAGE=${refs.backend}\nMCP_SERVER_IMAGE=${refs.mcpServer}`);
} catch (err) {
  console.error(args.debug && err instanceof Error ? err.stack : err instanceof Error ? err.message : String(err));
  process.exit(exitCodeOf(err));
}

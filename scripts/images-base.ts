// npm run images:base [-- --fresh]
// Builds the offline Node 22 base image (todo-deploy/node-base:<node>-bookworm-offline) for
// machines that cannot pull node:22-bookworm-slim: debootstrap + Node from the npm registry +
// docker import. Skips when the image already exists. Pass the printed ref as NODE_IMAGE.
import '../lib/require-node.mjs';
import { main, REPO_ROOT } from '../lib/cli.ts';
import { UsageError } from '../lib/errors.ts';
import { ensureOfflineBaseImage } from '../lib/images/offline-base.ts';

const usage = `Usage: npm run images:base -- [options]

Builds the offline Node 22 base image (todo-deploy/node-base:<node>-bookworm-offline) for
machines that cannot pull node:22-bookworm-slim: a Debian root file system (debootstrap),
Node from the npm registry, then docker import. Skipped when the image already exists.
Pass the printed ref as NODE_IMAGE to \`npm run images\` and \`npm run up\`.

Options:
  --fresh           build the root file system and the image again, even when they exist
  --debug           print stack traces on failure
  -h, --help        show this help

Exit codes: 0 built (or already there), 1 the build failed, 2 bad usage.`;

await main<{ fresh: boolean }>({
  name: 'images:base',
  usage,
  options: {
    fresh: { type: 'boolean', default: false },
    debug: { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h', default: false },
  },
  run: async (values, positionals) => {
    if (positionals.length > 0) throw new UsageError(`Unexpected argument(s): ${positionals.join(' ')}. Fix: see \`npm run images:base -- --help\` for the options.`);
    const result = await ensureOfflineBaseImage({ repoRoot: REPO_ROOT, fresh: values.fresh, log: (line) => console.log(line) });
    console.log(`${result.ref}: ${result.action} in ${result.seconds.toFixed(1)}s`);
    console.log(`Use it with NODE_IMAGE=${result.ref}`);
  },
});

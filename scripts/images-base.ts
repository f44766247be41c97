// npm run images:base [-- --fresh]
// Builds the offline Node 22 base image (todo-deploy/node-base:<node>-bookworm-offline) for
// machines that cannot pull node:22-bookworm-slim: debootstrap + Node from the npm registry +
// docker import. Skips when the image already exists. Pass the printed ref as NODE_IMAGE.
import '../lib/require-node.ts';
import { REPO_ROOT } from '../lib/repo-root.ts';
import { ensureOfflineBaseImage } from '../lib/images/offline-base.ts';
import { exitCodeOf } from '../lib/errors.ts';

const repoRoot = REPO_ROOT;
const debug = process.argv.includes('--debug');

try {
  const result = await ensureOfflineBaseImage({
    repoRoot,
    fresh: process.argv.includes('--fresh'),
    log: (line) => console.log(line),
  });
  console.log(`${result.ref}: ${result.action} in ${result.seconds.toFixed(1)}s`);
  console.log(`Use it with NODE_IMAGE=${result.ref}`);
} catch (err) {
  console.error(debug && err instanceof Error ? err.stack : err instanceof Error ? err.message : String(err));
  process.exit(exitCodeOf(err));
}

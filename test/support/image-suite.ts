// What the image suites (test/images) share: a set-up that runs once before the tests and,
// when it fails, fails every test with its reason (uvu 0.5 swallows an error thrown by a before
// hook), synchronous cleanup on Ctrl-C or a CI timeout, and the removal of a suite's own images.
import type { Test } from 'uvu';
import { dockerRaw } from '../../lib/images/docker.ts';

/**
 * Registers `setup` as the suite's before hook and `cleanupNow` for SIGINT/SIGTERM (then exit
 * 130). A set-up error is kept in the state and thrown by every test.
 */
export function setUpOnce<S extends { setupError?: unknown }>(s: Test<S>, setup: (state: S) => Promise<void>, cleanupNow: (state: S) => void): void {
  s.before(async (state) => {
    for (const signal of ['SIGINT', 'SIGTERM'] as const) {
      process.once(signal, () => {
        cleanupNow(state);
        process.exit(130);
      });
    }
    try {
      await setup(state);
    } catch (err) {
      state.setupError = err;
    }
  });
  s.before.each((state) => {
    if (state.setupError) throw state.setupError;
  });
}

/** Removes every local image of the repositories under `prefix` (e.g. todo-images-test). */
export async function removeImagesUnder(prefix: string): Promise<void> {
  const listed = await dockerRaw(['image', 'ls', '--format', '{{.Repository}}:{{.Tag}}', '--filter', `reference=${prefix}/*`]);
  const refs = listed.stdout.split('\n').map((s) => s.trim()).filter(Boolean);
  if (refs.length) await dockerRaw(['image', 'rm', '--force', ...refs]);
}

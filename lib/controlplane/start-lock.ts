// One sandbox per state file, however many runs want it at once: the check "is it running?"
// and the start that follows are made under an inter-process lock (proper-lockfile: a lock
// directory beside the state file, refreshed while held and taken over when its holder died),
// so two `up`s started together start one control plane and the second uses it.
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import lockfile from 'proper-lockfile';

/** Long enough for a first build of the binaries, which happens under the lock. */
const WAIT_MS = 60 * 60 * 1000;

export async function withStartLock<T>(stateFile: string, log: (line: string) => void, fn: () => Promise<T>): Promise<T> {
  mkdirSync(dirname(stateFile), { recursive: true });
  const options = { realpath: false, lockfilePath: `${stateFile}.lock`, stale: 20_000, update: 5_000 };
  let release: () => Promise<void>;
  try {
    release = await lockfile.lock(stateFile, options);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ELOCKED') throw err;
    log('another run is starting the sandbox; waiting for it to finish, then using the same control plane');
    const started = Date.now();
    release = await lockfile.lock(stateFile, { ...options, retries: { retries: Math.ceil(WAIT_MS / 1000), factor: 1, minTimeout: 1000, maxTimeout: 1000 } });
    log(`the other run finished starting after ${Math.round((Date.now() - started) / 1000)}s`);
  }
  try {
    return await fn();
  } finally {
    await release().catch(() => {});
  }
}

// uvu 0.5.6 loses an error thrown by a before hook (its runner returns from a `finally`): the
// suite then reports "0 / N" with no message and exits 0. This keeps the setup's error and
// fails every test with it, so a broken setup is loud.
import type { Test } from 'uvu';

export function setUpOrFail(suite: Test, setup: () => Promise<void>): void {
  let failure: unknown;
  suite.before(async () => {
    try {
      await setup();
    } catch (err) {
      failure = err;
    }
  });
  suite.before.each(() => {
    if (failure !== undefined) throw failure;
  });
}

// uvu's suite, with one change: an error thrown by a `before` hook fails every test of the
// suite with that error. uvu 0.5.6 runs the hooks inside try/finally and returns from the
// finally block, which drops the error: the suite prints "(0 / 8)" with no reason and exits 0,
// and only test/run.ts's count shows that tests did not run. A set-up that fails (a control
// plane that does not start, a port taken) must say why, so every test file takes `suite`
// from here (test/unit/suite-import.test.ts checks).
import { suite as uvuSuite, type Callback, type Test } from 'uvu';

export function suite<T = Record<string, any>>(title?: string, context?: T): Test<T> {
  const test = uvuSuite<T>(title, context);
  const before = test.before;
  let failure: { error: unknown } | undefined;
  // Registered first, so it runs ahead of the suite's own `before.each` hooks: every test then
  // fails with the set-up's error instead of an unrelated one from a half-made context.
  before.each(() => {
    if (failure) throw failure.error;
  });
  const keepingErrors = (hook: Callback<T>) =>
    before(async (ctx) => {
      try {
        await hook(ctx);
      } catch (error) {
        failure ??= { error };
      }
    });
  test.before = Object.assign(keepingErrors, { each: before.each });
  return test;
}

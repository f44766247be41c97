// Assertion helpers shared by the unit suites.
import * as assert from 'uvu/assert';
import { UsageError } from '../../lib/errors.ts';

/** Runs fn and returns the UsageError it throws; fails the test when it throws nothing or something else. */
export function usageError(fn: () => unknown): UsageError {
  try {
    fn();
  } catch (err) {
    assert.instance(err, UsageError);
    return err as UsageError;
  }
  assert.unreachable('expected a UsageError');
  throw new Error('unreachable');
}

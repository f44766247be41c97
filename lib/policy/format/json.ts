// Machine-readable report with the same content as the text one.
import type { Environment } from '../../config.ts';
import type { PolicyResult, Violation } from '../types.ts';

export function pathText(path: readonly (string | number)[] | undefined): string | undefined {
  if (!path || path.length === 0) return undefined;
  return path.reduce<string>((acc, seg) => (typeof seg === 'number' ? `${acc}[${seg}]` : acc === '' ? seg : `${acc}.${seg}`), '');
}

const plain = ({ path, ...v }: Violation) => ({ ...v, ...(pathText(path) ? { field: pathText(path) } : {}) });

export function formatJson(result: PolicyResult, environment: Environment): string {
  return JSON.stringify(
    {
      environment,
      passed: result.violations.length === 0,
      summary: { violations: result.violations.length, exceptions: result.exceptions.length, rules: result.rulesChecked, objects: result.objectsChecked },
      violations: result.violations.map(plain),
      exceptions: result.exceptions.map((e) => ({ ...plain(e), reason: e.reason })),
    },
    null,
    2,
  );
}

// Human-readable report: one block per violation (object, file:line, rule, what, fix), the
// excepted ones with their reasons, and a one-line summary.
import type { Environment } from '../../config.ts';
import type { PolicyResult } from '../types.ts';

export function formatText(result: PolicyResult, environment: Environment): string {
  const lines: string[] = [];
  for (const v of result.violations) {
    lines.push(`VIOLATION ${v.ruleId}${v.security ? ' [security]' : ''}  ${v.object}  ${v.file}:${v.line}`);
    lines.push(`    ${v.message}`);
    lines.push(`    fix: ${v.fix}`);
  }
  for (const e of result.exceptions) {
    lines.push(`EXCEPTION ${e.ruleId}  ${e.object}  ${e.file}:${e.line}`);
    lines.push(`    ${e.message}`);
    lines.push(`    reason: ${e.reason}`);
  }
  const n = result.violations.length;
  const x = result.exceptions.length;
  const counts = `${result.rulesChecked} rules over ${result.objectsChecked} objects`;
  const excepted = x > 0 ? `, ${x} excepted` : '';
  lines.push(n === 0 ? `policy (${environment}): passed, ${counts}${excepted}.` : `policy (${environment}): ${n} violation${n === 1 ? '' : 's'}${excepted}, ${counts}.`);
  return lines.join('\n');
}

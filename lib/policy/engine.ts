// Runs every rule over the rendered objects, then applies the objects' exceptions. Pure: the
// same objects and context always give the same, sorted result.
import type { ExceptedViolation, Finding, PolicyContext, PolicyResult, Rule, Violation } from './types.ts';
import type { SourcedObject } from '../types.ts';
import { RULES } from './registry.ts';
import { exceptionsOf } from './exceptions.ts';
import { refOf } from './objects.ts';

function toViolation(rule: Rule, f: Finding): Violation {
  return {
    ruleId: rule.id,
    object: refOf(f.target.object),
    file: f.target.file,
    line: f.target.line,
    message: f.message,
    fix: f.fix ?? rule.fix,
    security: rule.security,
    ...(f.path ? { path: f.path } : {}),
  };
}

function runRule(rule: Rule, objects: readonly SourcedObject[], ctx: PolicyContext): { rule: Rule; finding: Finding }[] {
  try {
    return rule.check({ ...ctx, objects }).map((finding) => ({ rule, finding }));
  } catch (err) {
    // A malformed object must not hide every other result: report the rule as not checkable.
    const target = objects[0];
    if (!target) return [];
    const message = `could not be checked: ${(err as Error).message}. The objects are probably malformed for this rule.`;
    return [{ rule, finding: { target, message } }];
  }
}

const order = (a: Violation, b: Violation) => a.file.localeCompare(b.file) || a.line - b.line || a.ruleId.localeCompare(b.ruleId) || a.message.localeCompare(b.message);

export function runPolicy(objects: readonly SourcedObject[], ctx: PolicyContext, rules: readonly Rule[] = RULES): PolicyResult {
  const violations: Violation[] = [];
  const exceptions: ExceptedViolation[] = [];
  for (const rule of rules) {
    for (const { finding } of runRule(rule, objects, ctx)) {
      const v = toViolation(rule, finding);
      const exception = rule.id.startsWith('policy/') || rule.exceptable === false ? undefined : exceptionsOf(finding.target).find((e) => e.ruleId === rule.id && e.reason !== '');
      if (!exception) {
        violations.push(v);
      } else if (rule.security && ctx.environment === 'prod') {
        violations.push({ ...v, message: `${v.message} (The exception on this object is ignored: security rules cannot be excepted in prod.)` });
      } else {
        exceptions.push({ ...v, reason: exception.reason });
      }
    }
  }
  return { violations: violations.sort(order), exceptions: exceptions.sort(order) as ExceptedViolation[], rulesChecked: rules.length, objectsChecked: objects.length };
}

// Per-object exceptions. An object opts out of one rule with an annotation
//   todo-deploy.dev/allow.<entity>.<rule>: "<reason>"
// (the rule id with its "/" written as "."; annotation names cannot hold a second "/").
// The reason is mandatory and is printed with the result. Security rules are never excepted in
// prod. Mistakes in exceptions are themselves violations of the policy/* rules below.
import type { Finding, Rule, RuleInput } from './types.ts';
import { annotationsOf } from './objects.ts';
import type { SourcedObject } from '../types.ts';

export const EXCEPTION_PREFIX = 'todo-deploy.dev/allow.';

export function exceptionAnnotation(ruleId: string): string {
  return EXCEPTION_PREFIX + ruleId.replace('/', '.');
}

export interface ExceptionEntry {
  annotation: string;
  ruleId: string;
  /** The trimmed reason; empty when none was given. */
  reason: string;
}

export function exceptionsOf(s: SourcedObject): ExceptionEntry[] {
  return Object.entries(annotationsOf(s.object))
    .filter(([k]) => k.startsWith(EXCEPTION_PREFIX))
    .map(([annotation, value]) => ({
      annotation,
      ruleId: annotation.slice(EXCEPTION_PREFIX.length).replace('.', '/'),
      reason: typeof value === 'string' ? value.trim() : '',
    }));
}

/** Rules about exceptions; they need the ids of the rules that may be excepted, so the registry builds them. */
export function exceptionRules(knownIds: readonly string[]): Rule[] {
  const reason: Rule = {
    id: 'policy/exception-reason',
    entity: 'policy',
    title: 'An exception annotation gives a reason.',
    fix: `Write why the rule does not apply as the annotation value, e.g. ${exceptionAnnotation('pod/read-only-root-fs')}: "the vendor image writes to /var/cache at start".`,
    security: false,
    source: 'Issue: an exception without a reason is itself a violation',
    check: ({ objects }: RuleInput) =>
      objects.flatMap((s) =>
        exceptionsOf(s)
          .filter((e) => e.reason === '')
          .map((e): Finding => ({ target: s, path: ['metadata', 'annotations', e.annotation], message: `exception ${e.annotation} gives no reason, so it is not honoured.` })),
      ),
  };
  const known: Rule = {
    id: 'policy/exception-known-rule',
    entity: 'policy',
    title: 'An exception annotation names an existing rule that can be excepted.',
    fix: 'Correct the rule id in the annotation name (see docs/rules.md); policy/* rules and the rules marked "never" there cannot be excepted.',
    security: false,
    source: 'Issue: per-object exception naming the rule id',
    check: ({ objects }: RuleInput) =>
      objects.flatMap((s) =>
        exceptionsOf(s)
          .filter((e) => !knownIds.includes(e.ruleId) || e.ruleId.startsWith('policy/'))
          .map((e): Finding => ({ target: s, path: ['metadata', 'annotations', e.annotation], message: `exception ${e.annotation} names no rule that can be excepted ("${e.ruleId}").` })),
      ),
  };
  return [reason, known];
}

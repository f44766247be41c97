// The policy gate's public face: run the rules, point at lines, format the result.
import { runPolicy } from './engine.ts';
import { refineLines } from './locate.ts';
import type { PolicyContext, PolicyResult } from './types.ts';
import type { SourcedObject } from '../types.ts';

export { runPolicy } from './engine.ts';
export { RULES, ruleById } from './registry.ts';
export { refineLines } from './locate.ts';
export { formatText } from './format/text.ts';
export { formatJson } from './format/json.ts';
export { formatSarif } from './format/sarif.ts';
export { rulesMarkdown, rulesTable, readmeRulesSection, withReadmeRules } from './rules-doc.ts';
export { exceptionAnnotation, EXCEPTION_PREFIX } from './exceptions.ts';
export { DEFAULT_SECRET_NAME } from './rules/secret.ts';
export type { PolicyContext, PolicyResult, Violation, ExceptedViolation, Rule } from './types.ts';

/**
 * What `up` and `validate` call: every rule, exceptions applied, and each violation's line moved
 * to its field when `read` can return the file's text (file names as in SourcedObject.file).
 */
export function checkPolicy(objects: readonly SourcedObject[], ctx: PolicyContext, read?: (file: string) => string | undefined): PolicyResult {
  const result = runPolicy(objects, ctx);
  if (!read) return result;
  return { ...result, violations: refineLines(result.violations, read), exceptions: refineLines(result.exceptions, read) };
}

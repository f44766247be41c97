// The policy gate's public face: run the rules, point at lines, format the result.
export { runPolicy } from './engine.ts';
export { RULES, ruleById } from './registry.ts';
export { refineLines } from './locate.ts';
export { formatText } from './format/text.ts';
export { formatJson } from './format/json.ts';
export { formatSarif } from './format/sarif.ts';
export { rulesMarkdown, rulesTable, readmeRulesSection, withReadmeRules } from './rules-doc.ts';
export { exceptionAnnotation, EXCEPTION_PREFIX } from './exceptions.ts';
export { DEFAULT_SECRET_NAME } from './rules/secret.ts';
export type { PolicyContext, PolicyResult, Violation, ExceptedViolation, Rule, Environment } from './types.ts';

// SARIF 2.1.0, the format code-scanning tools read to show results inline: every rule with its
// metadata, every violation as an error at file:line, excepted ones as suppressed results.
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Environment } from '../../config.ts';
import type { PolicyResult, Rule, Violation } from '../types.ts';
import { RULES } from '../registry.ts';
import { pathText } from './json.ts';

export const SARIF_SCHEMA = 'https://json.schemastore.org/sarif-2.1.0.json';

function ruleDescriptor(rule: Rule) {
  const tags = [rule.entity, ...(rule.security ? ['security'] : [])];
  return {
    id: rule.id,
    name: rule.id.split('/')[1]!.replace(/(^|-)([a-z])/g, (_m, _d, c: string) => c.toUpperCase()),
    shortDescription: { text: rule.title },
    fullDescription: { text: `${rule.title} Source: ${rule.source}.` },
    help: { text: rule.fix },
    defaultConfiguration: { level: 'error' },
    properties: { tags, security: rule.security, ...(rule.security ? { 'security-severity': '7.0' } : {}) },
  };
}

/** Repository-relative paths stay relative (viewers resolve them against the checkout); others become file: URIs. */
function artifactUri(file: string): string {
  return path.isAbsolute(file) ? pathToFileURL(file).href : file.split(path.sep).join('/');
}

export function formatSarif(result: PolicyResult, environment: Environment, rules: readonly Rule[] = RULES): string {
  const index = new Map(rules.map((r, i) => [r.id, i]));
  const toResult = (v: Violation, reason?: string) => {
    const field = pathText(v.path);
    return {
      ruleId: v.ruleId,
      ...(index.has(v.ruleId) ? { ruleIndex: index.get(v.ruleId) } : {}),
      level: 'error',
      message: { text: `${v.object}: ${v.message} Fix: ${v.fix}` },
      locations: [
        {
          physicalLocation: { artifactLocation: { uri: artifactUri(v.file) }, region: { startLine: v.line } },
          logicalLocations: [{ fullyQualifiedName: field ? `${v.object}#${field}` : v.object, kind: 'resource' }],
        },
      ],
      ...(reason !== undefined ? { suppressions: [{ kind: 'inSource', justification: reason }] } : {}),
    };
  };
  const log = {
    $schema: SARIF_SCHEMA,
    version: '2.1.0',
    runs: [
      {
        tool: { driver: { name: 'todo-deploy-policy', semanticVersion: '0.1.0', rules: rules.map(ruleDescriptor) } },
        automationDetails: { id: `todo-deploy-policy/${environment}/` },
        results: [...result.violations.map((v) => toResult(v)), ...result.exceptions.map((e) => toResult(e, e.reason))],
      },
    ],
  };
  return JSON.stringify(log, null, 2);
}

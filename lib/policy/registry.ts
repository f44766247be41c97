// Every rule, grouped by entity in the data model's order. Adding a rule means adding it to its
// entity module; the engine, the docs table and the SARIF rule list all read from here.
import type { Rule } from './types.ts';
import { configRules } from './rules/config.ts';
import { componentRules } from './rules/component.ts';
import { podRules } from './rules/pod.ts';
import { serviceRules } from './rules/service.ts';
import { ingressRules } from './rules/ingress.ts';
import { serviceAccountRules } from './rules/serviceaccount.ts';
import { rbacRules } from './rules/rbac.ts';
import { networkPolicyRules } from './rules/networkpolicy.ts';
import { secretRules } from './rules/secret.ts';
import { daprComponentRules } from './rules/dapr-component.ts';
import { daprConfigurationRules } from './rules/dapr-configuration.ts';
import { exceptionRules } from './exceptions.ts';

const ENTITY_RULES: Rule[] = [
  ...configRules,
  ...componentRules,
  ...podRules,
  ...serviceRules,
  ...ingressRules,
  ...serviceAccountRules,
  ...rbacRules,
  ...networkPolicyRules,
  ...secretRules,
  ...daprComponentRules,
  ...daprConfigurationRules,
];

export const RULES: readonly Rule[] = [...ENTITY_RULES, ...exceptionRules(ENTITY_RULES.filter((r) => r.exceptable !== false).map((r) => r.id))];

export function ruleById(id: string): Rule | undefined {
  return RULES.find((r) => r.id === id);
}

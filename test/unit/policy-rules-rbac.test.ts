// Rule tests for the rbac rules: each case breaks (or varies) the base fixture of
// test/fixtures/policy/base.yaml and checks the rule names the object, or stays silent.
import { suite } from '../support/suite.ts';
import { registerCases } from '../fixtures/policy/cases.ts';
import { CASES } from '../fixtures/policy/cases/index.ts';

const test = suite('policy rules: rbac');
registerCases(test, CASES['rbac']!.breaks, CASES['rbac']!.keeps);
test.run();

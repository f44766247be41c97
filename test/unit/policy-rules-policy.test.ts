// Rule tests for the exception rules: each case breaks (or varies) the base fixture of
// test/fixtures/policy/base.yaml and checks the rule names the object, or stays silent.
import { suite } from '../support/suite.ts';
import { registerCases } from '../fixtures/policy/cases.ts';
import { CASES } from '../fixtures/policy/cases/index.ts';

const test = suite('policy rules: policy');
registerCases(test, CASES['policy']!.breaks, CASES['policy']!.keeps);
test.run();

// The test command's own preparation of the machine: which Debian packages each suite needs
// and which of them are missing. (Installing and starting dockerd are exercised by every
// `npm test` on a fresh machine; here only the pure choices.)
import { suite } from '../support/suite.ts';
import * as assert from 'uvu/assert';
import { DEBIAN_PACKAGES, missingPackages } from '../system.ts';
import { SUITES, SUITES_NEEDING } from '../suites.ts';

const test = suite();

test('missing packages: only those not installed, each once, across groups', () => {
  const installed = new Set(['postgresql', 'ca-certificates']);
  const missing = missingPackages(['postgres', 'docker', 'docker'], (p) => installed.has(p));
  assert.equal(missing, ['docker.io', 'debootstrap']);
});

test('missing packages: nothing when every package is there, and unknown groups add nothing', () => {
  assert.equal(missingPackages(['postgres', 'browser', 'no-such-group'], () => true), []);
});

test('every suite named as needing packages exists, and every package group is known', () => {
  const names = new Set(SUITES.map((s) => s.name));
  for (const [group, suites] of Object.entries(SUITES_NEEDING)) {
    assert.ok(DEBIAN_PACKAGES[group], `group ${group} has packages`);
    for (const s of suites) assert.ok(names.has(s), `${s} is a suite`);
  }
});

test.run();

// NetworkPolicy enforcement, the pure parts: which clusters enforce by the DaemonSets they run,
// what `up` and `doctor` say, and kind's release check.
import { suite } from '../support/suite.ts';
import * as assert from 'uvu/assert';
import { describeEnforcement, judgeEnforcement } from '../../lib/cluster/policy-enforcement.ts';
import { atLeast, parseKindVersion } from '../../lib/cluster/kind.ts';

const test = suite('NetworkPolicy enforcement (pure)');

test('which clusters enforce: Calico, Cilium, kube-network-policies (kind >= 0.24) do; kindnet alone, flannel, nothing do not', () => {
  assert.ok(judgeEnforcement([{ namespace: 'calico-system', name: 'calico-node' }]).enforces);
  assert.ok(judgeEnforcement([{ namespace: 'kube-system', name: 'cilium' }]).enforces);
  assert.ok(judgeEnforcement([{ namespace: 'kube-system', name: 'kindnet' }, { namespace: 'kube-system', name: 'kube-network-policies' }]).enforces);
  assert.is(judgeEnforcement([{ namespace: 'kube-system', name: 'kindnet' }]).enforces, false);
  assert.is(judgeEnforcement([{ namespace: 'kube-flannel', name: 'kube-flannel-ds' }]).enforces, false);
  const none = judgeEnforcement([{ namespace: 'kube-system', name: 'kube-proxy' }]);
  assert.is(none.enforces, false);
  assert.match(describeEnforcement(none), /^NetworkPolicies are NOT enforced: no NetworkPolicy implementation runs .*redis-svc:6379 \(Redis has no password/);
});

test("kind's release: enforcing from 0.24.0", () => {
  assert.is(parseKindVersion('kind v0.30.0 go1.24.6 linux/amd64'), '0.30.0');
  assert.ok(atLeast('0.30.0', '0.24.0'));
  assert.ok(atLeast('0.24.0', '0.24.0'));
  assert.not.ok(atLeast('0.23.0', '0.24.0'));
  assert.ok(atLeast('1.0.0', '0.24.0'));
});

test.run();

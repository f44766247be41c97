// The intended network paths (lib/policy/paths.ts) and the shipped NetworkPolicies agree: every
// allowed path is open and every forbidden one closed by the API's semantics (lib/policy/flows.ts),
// nothing else is open, and the gate's networkpolicy/intended-paths rule says so; change one
// policy and the rule names what changed.
import { suite } from '../support/suite.ts';
import * as assert from 'uvu/assert';
import { runPolicy } from '../../lib/policy/index.ts';
import { comparePaths, endpointCovers, flowAllowed, inCidr, intendedPath, universe, type Peer, type StackPod } from '../../lib/policy/flows.ts';
import { ALLOWED_PATHS, COMPONENT_LABEL, FORBIDDEN_PATHS, INGRESS_CONTROLLER_PODS, type NetworkPath } from '../../lib/policy/paths.ts';
import type { KubeObject, SourcedObject } from '../../lib/types.ts';
import { shippedManifests } from '../support/shipped-manifests.ts';

const NS = 'todo';
const RULE = 'networkpolicy/intended-paths';
const test = suite('intended network paths and the shipped NetworkPolicies');

const render = shippedManifests(test, 'policy-paths-');
const gate = (objects: SourcedObject[]) => runPolicy(objects, { environment: 'dev', manifestFiles: [], secretKeys: [], namespace: NS }).violations.filter((v) => v.ruleId === RULE);
const policiesOf = (objects: SourcedObject[]): KubeObject[] => objects.filter((s) => s.object.kind === 'NetworkPolicy').map((s) => s.object);
const policy = (objects: SourcedObject[], name: string) => objects.find((s) => s.object.kind === 'NetworkPolicy' && s.object.metadata.name === name)!.object;
const stackOf = (objects: SourcedObject[]): StackPod[] =>
  objects.filter((s) => s.object.kind === 'Deployment').map((s) => ({ name: s.object.spec.template.metadata.labels[COMPONENT_LABEL], labels: s.object.spec.template.metadata.labels }));

/** The representatives a path's ends stand for; a forbidden path leaves out those an allowed path covers (the ingress controller is a pod of another namespace too). */
function pairs(p: NetworkPath, peers: Peer[]): [Peer, Peer][] {
  const froms = peers.filter((q) => endpointCovers(p.from, q, NS));
  const tos = peers.filter((q) => endpointCovers(p.to, q, NS));
  return froms.flatMap((f) => tos.filter((t) => t !== f).map((t) => [f, t] as [Peer, Peer]));
}

for (const [environment, embedded] of [['dev', true], ['dev', false], ['prod', false]] as const) {
  test(`${environment}${embedded ? ' with the embedded PostgreSQL' : ''}: the policies open exactly the intended paths`, () => {
    const objects = render(environment, embedded);
    assert.equal(comparePaths(policiesOf(objects), stackOf(objects), NS), []);
    assert.equal(gate(objects).map((v) => v.message), []);
  });
}

test('every allowed path is open and every forbidden one closed, pod by pod (the matrix the real node tries)', () => {
  const objects = render('dev', true);
  const policies = policiesOf(objects);
  const peers = universe(stackOf(objects), ALLOWED_PATHS, NS);
  const lines: string[] = [];
  for (const p of ALLOWED_PATHS) {
    const tried = pairs(p, peers);
    assert.ok(tried.length > 0, `${p.name}: the universe has both ends`);
    for (const [from, to] of tried) for (const port of p.ports) {
      const v = flowAllowed(policies, from, to, port);
      assert.ok(v.allowed, `${p.name}: ${from.label} -> ${to.label} ${port.protocol} ${port.port} is blocked`);
      lines.push(`open   ${p.name}`);
    }
  }
  for (const p of FORBIDDEN_PATHS) {
    const tried = pairs(p, peers).filter(([f, t]) => p.ports.every((port) => !intendedPath(ALLOWED_PATHS, f, t, port, NS)));
    assert.ok(tried.length > 0, `${p.name}: the universe has both ends`);
    for (const [from, to] of tried) for (const port of p.ports) {
      const v = flowAllowed(policies, from, to, port);
      assert.not.ok(v.allowed, `${p.name}: ${from.label} -> ${to.label} ${port.protocol} ${port.port} is open (by ${v.by.join(', ')})`);
      lines.push(`closed ${p.name}`);
    }
  }
  assert.ok(lines.length >= ALLOWED_PATHS.length + FORBIDDEN_PATHS.length);
});

test('the description is consistent: no forbidden path is also an allowed one', () => {
  const objects = render('dev', true);
  const peers = universe(stackOf(objects), ALLOWED_PATHS, NS);
  for (const p of FORBIDDEN_PATHS) {
    // An ingress controller's pod is also "a pod of another namespace": that overlap is meant.
    const controller = (f: Peer) => INGRESS_CONTROLLER_PODS.some((e) => endpointCovers(e, f, NS));
    const allowedToo = pairs(p, peers).filter(([f]) => p.from.kind !== 'other-namespace' || !controller(f)).filter(([f, t]) => p.ports.some((port) => intendedPath(ALLOWED_PATHS, f, t, port, NS)));
    assert.equal(allowedToo.map(([f, t]) => `${f.label} -> ${t.label}`), [], `${p.name} overlaps an allowed path`);
  }
});

test('a policy that opens more: Redis reachable from every pod of the namespace is named, with the pods it lets in', () => {
  const objects = render('dev', true);
  policy(objects, 'backend-to-redis-ingress').spec.ingress[0].from = [{ podSelector: {} }];
  // The callee side alone is not enough: the frontend's egress must be open too for the flow to pass.
  policy(objects, 'frontend-to-backend-egress').spec.egress.push({ to: [{ podSelector: { matchLabels: { [COMPONENT_LABEL]: 'redis' } } }], ports: [{ protocol: 'TCP', port: 6379 }] });
  const v = gate(objects);
  assert.ok(v.some((x) => /lets frontend reach redis on TCP 6379/.test(x.message)), v.map((x) => x.message).join('\n'));
  assert.ok(v.every((x) => x.object.startsWith('NetworkPolicy/todo/')));
});

test('a policy that opens less: without the backend\'s ingress from the frontend, the path "frontend -> backend" is named as blocked', () => {
  const objects = render('dev', true).filter((s) => !(s.object.kind === 'NetworkPolicy' && s.object.metadata.name === 'frontend-to-backend-ingress'));
  const v = gate(objects);
  assert.equal(v.map((x) => x.message), ['blocks the intended path "frontend -> backend": frontend cannot reach backend on TCP 8000.']);
  assert.is(v[0]!.object, 'NetworkPolicy/todo/default-deny-all');
});

test('every ingress controller reaches the frontend and only the frontend: ingress-nginx, and Traefik on the sandbox\'s real node', () => {
  assert.equal(INGRESS_CONTROLLER_PODS.map((e) => `${e.namespace}/${e.labels[COMPONENT_LABEL]}`), ['ingress-nginx/ingress-nginx', 'traefik/traefik']);
  const objects = render('dev', true);
  const peers = universe(stackOf(objects), ALLOWED_PATHS, NS);
  const frontend = peers.find((q) => q.namespace === NS && q.labels[COMPONENT_LABEL] === 'frontend')!;
  const backend = peers.find((q) => q.namespace === NS && q.labels[COMPONENT_LABEL] === 'backend')!;
  for (const pods of INGRESS_CONTROLLER_PODS) {
    const from = peers.find((q) => endpointCovers(pods, q, NS))!;
    assert.ok(from, `the universe has a pod of ${pods.namespace}`);
    assert.ok(flowAllowed(policiesOf(objects), from, frontend, { protocol: 'TCP', port: 3000 }).allowed, `${from.label} -> frontend`);
    assert.not.ok(flowAllowed(policiesOf(objects), from, backend, { protocol: 'TCP', port: 8000 }).allowed, `${from.label} -> backend`);
  }
  // The same labels in another namespace are nobody's controller.
  const impostor: Peer = { label: 'traefik in todo-elsewhere', namespace: 'todo-elsewhere', labels: { [COMPONENT_LABEL]: 'traefik' }, ip: '10.244.9.9' };
  assert.not.ok(flowAllowed(policiesOf(objects), impostor, frontend, { protocol: 'TCP', port: 3000 }).allowed);
});

test('a controller left out of the frontend\'s policy: the gate names its path as blocked', () => {
  const objects = render('dev', true);
  const np = policy(objects, 'ingress-controller-to-frontend-ingress');
  np.spec.ingress[0].from = np.spec.ingress[0].from.filter((peer: any) => peer.podSelector.matchLabels[COMPONENT_LABEL] !== 'traefik');
  assert.equal(gate(objects).map((x) => x.message), ['blocks the intended path "traefik -> frontend": traefik in traefik cannot reach frontend on TCP 3000.']);
});

test('a port changed: the old one is blocked and the new one opened', () => {
  const objects = render('dev', false);
  policy(objects, 'backend-to-external-egress').spec.egress[0].ports[0].port = 80;
  const messages = gate(objects).map((x) => x.message);
  assert.ok(messages.some((m) => /blocks the intended path "backend -> outside": backend cannot reach outside \(203\.0\.113\.7\) on TCP 443/.test(m)), messages.join('\n'));
  assert.ok(messages.some((m) => /lets backend reach outside \(203\.0\.113\.7\) on TCP 80,/.test(m)), messages.join('\n'));
});

test('without a default deny the rule is silent (networkpolicy/default-deny reports it); another stack is not compared', () => {
  const objects = render('dev', true).filter((s) => !(s.object.kind === 'NetworkPolicy' && s.object.metadata.name === 'default-deny-all'));
  assert.equal(gate(objects), []);
  const others = render('dev', true).filter((s) => !(s.object.kind === 'Deployment' && s.object.metadata.name === 'redis'));
  assert.equal(gate(others), []);
});

test('inCidr', () => {
  assert.ok(inCidr('10.244.1.2', '10.244.0.0/16'));
  assert.not.ok(inCidr('10.245.0.1', '10.244.0.0/16'));
  assert.ok(inCidr('203.0.113.7', '0.0.0.0/0'));
  assert.ok(inCidr('10.0.0.1', '10.0.0.1/32'));
  assert.not.ok(inCidr('bogus', '0.0.0.0/0'));
});

test.run();

// The real-node traffic matrix's plan (test/real-node/support/traffic.ts), the pure part: every
// path of lib/policy/paths.ts becomes at least one connection attempt, so a path added there is
// tried by traffic too, and a path the matrix has no end for stops it instead of being skipped.
import * as assert from 'uvu/assert';
import { suite } from '../support/suite.ts';
import { ALLOWED_PATHS, FORBIDDEN_PATHS, INGRESS_CONTROLLER_PODS, type NetworkPath } from '../../lib/policy/paths.ts';
import { attempts, formatMatrix, type Outcome, type SourcePod, type World } from '../real-node/support/traffic.ts';

const test = suite('real-node traffic matrix: the attempts paths.ts asks for');

const pod = (label: string, namespace = 'todo'): SourcePod => ({ label, namespace, name: `${label}-pod`, container: 'app' });
const world: World = {
  components: Object.fromEntries(['frontend', 'backend', 'mcp-server', 'redis', 'postgres'].map((c) => [c, pod(c)])),
  unlabeled: pod('unlabeled'),
  otherNamespace: pod('elsewhere', 'netpol-elsewhere'),
  namedPods: Object.fromEntries(INGRESS_CONTROLLER_PODS.map((c) => [c.namespace, pod(`${c.namespace}-stand-in`, c.namespace)])),
  services: { 'frontend-svc': '10.96.0.20', 'backend-svc': '10.96.0.21', 'redis-svc': '10.96.0.22', 'postgres-svc': '10.96.0.23', 'mcp-server-svc': '10.96.0.24' },
  dnsService: '10.96.0.10',
  listeners: { 'dapr-system': '10.244.0.40' },
  outside: '10.250.0.1',
};

test('every allowed and every forbidden path is tried, each port from each source', () => {
  const list = attempts(ALLOWED_PATHS, FORBIDDEN_PATHS, world);
  for (const [paths, expect] of [[ALLOWED_PATHS, 'open'], [FORBIDDEN_PATHS, 'closed']] as const) {
    for (const p of paths) {
      const tried = list.filter((a) => a.path === p);
      assert.ok(tried.length >= p.ports.length, `${p.name}: ${tried.length} attempts for ${p.ports.length} port(s)`);
      assert.ok(tried.every((a) => a.expect === expect), `${p.name} expected ${expect}`);
    }
  }
  // every pod -> DNS: each component and the unlabeled pod, over UDP (a query) and TCP.
  const dns = list.filter((a) => a.path.name === 'every pod -> DNS');
  assert.is(dns.length, (Object.keys(world.components).length + 1) * 2);
  assert.ok(dns.some((a) => a.to.kind === 'dns' && a.to.host === '10.96.0.10' && a.to.port === 53));
  // A component target is its Service's address; the ingress controllers' sources are their stand-ins.
  const traefik = list.find((a) => a.path.name === 'traefik -> frontend')!;
  assert.equal([traefik.from.namespace, traefik.to.host, traefik.to.port], ['traefik', '10.96.0.20', 3000]);
});

test('a path whose end the matrix has no pod or address for stops the plan, naming it', () => {
  const odd: NetworkPath = { name: 'frontend -> a new component', from: { kind: 'component', name: 'frontend' }, to: { kind: 'component', name: 'search' }, ports: [{ protocol: 'TCP', port: 9200 }], service: 'search-svc', why: 'x' };
  assert.throws(() => attempts([odd], [], world), /cannot try "frontend -> a new component" \(frontend -> search\)/);
  assert.throws(() => attempts(ALLOWED_PATHS, [], { ...world, namedPods: {} }), /cannot try "ingress-nginx -> frontend"/);
});

test('the printed matrix marks each row by whether it went as the paths say', () => {
  const [open, closed] = [ALLOWED_PATHS[1]!, FORBIDDEN_PATHS[1]!];
  const row = (path: NetworkPath, expect: 'open' | 'closed', result: string): Outcome => ({ path, expect, from: pod('a'), to: { kind: 'tcp', host: '10.96.0.1', port: 1, label: 'x:1' }, port: path.ports[0]!, result });
  const text = formatMatrix('title', [row(open, 'open', 'connected'), row(closed, 'closed', 'ECONNREFUSED'), row(closed, 'closed', 'connected')]);
  const lines = text.split('\n');
  assert.is(lines[0], 'title');
  assert.match(lines[1]!, /^ {2}✓ allowed/);
  assert.match(lines[2]!, /^ {2}✓ forbidden .* not connected \(ECONNREFUSED\)$/);
  assert.match(lines[3]!, /^ {2}✗ forbidden .* connected$/);
  // The control run expects every path open: a refused one is the wrong outcome there, a
  // forbidden one that connects the right one; the row still says what paths.ts calls it.
  const off = formatMatrix('off', [row(closed, 'closed', 'ECONNREFUSED'), row(closed, 'closed', 'connected')], () => 'open').split('\n');
  assert.match(off[1]!, /^ {2}✗ forbidden .* not connected/);
  assert.match(off[2]!, /^ {2}✓ forbidden .* connected$/);
});

test.run();

// The test command's lanes (test/suites.ts) and the prefixed output of suites running at once
// (test/lane-output.ts).
import { suite } from '../support/suite.ts';
import * as assert from 'uvu/assert';
import { LANES, lanesFor, SUITES, SUITES_NEEDING } from '../suites.ts';
import { needsFor } from '../prepare.ts';
import { LaneOutput, prefixLines } from '../lane-output.ts';

const test = suite();

const ALL = SUITES.map((s) => s.name);

test('every suite is in exactly one lane', () => {
  assert.equal(LANES.flat().slice().sort(), [...ALL].sort());
});

test('the suites that use Docker or the real node share a lane, images before real-node', () => {
  const laneOf = (name: string) => LANES.findIndex((l) => l.includes(name));
  const docker = new Set([...SUITES_NEEDING.docker!, ...SUITES_NEEDING.node!].map(laneOf));
  assert.is(docker.size, 1);
  const lane = LANES[laneOf('real-node')]!;
  assert.ok(lane.indexOf('images') < lane.indexOf('real-node'));
});

test('a plain npm test runs prod-path after real-node in one lane (one real node per machine: never both at once) and builds the registry for it', () => {
  const lanes = lanesFor(ALL, false);
  const withNode = lanes.filter((l) => l.some((n) => SUITES_NEEDING.node!.includes(n)));
  assert.is(withNode.length, 1, `the suites that start a real node share one lane: ${JSON.stringify(lanes)}`);
  const lane = withNode[0]!;
  assert.ok(lane.includes('prod-path') && lane.indexOf('real-node') < lane.indexOf('prod-path'), lane.join(' '));
  assert.is(needsFor(ALL).registry, true);
  assert.is(needsFor(['unit', 'real-node']).registry, false);
  assert.is(needsFor(['prod-path']).controlPlane, true);
  // The real node's up installs the Dapr built here with the real helm; nothing else needs Dapr.
  assert.is(needsFor(['real-node']).dapr, true);
  assert.is(needsFor(['real-node']).helm, true);
  assert.is(needsFor(['unit', 'integration', 'prod-path']).dapr, false);
});

test('lanesFor keeps the chosen suites in SUITES order, drops empty lanes, and --serial makes one lane', () => {
  assert.equal(lanesFor(['real-node', 'integration', 'unit'], false), [['integration'], ['unit', 'real-node']]);
  assert.equal(lanesFor(['unit', 'providers'], false), [['unit', 'providers']]);
  assert.equal(lanesFor(['real-node', 'integration', 'unit'], true), [['unit', 'integration', 'real-node']]);
  assert.equal(lanesFor(ALL, true), [ALL]);
  assert.equal(lanesFor([], false), []);
});

test('prefixed output: whole lines only, each with the prefix; an unfinished line waits for its end', () => {
  assert.equal(prefixLines('unit | ', '', 'a\nb'), { lines: 'unit | a\n', unfinished: 'b' });
  assert.equal(prefixLines('unit | ', 'b', ' • •\n\nc\n'), { lines: 'unit | b • •\nunit | \nunit | c\n', unfinished: '' });
  const written: string[] = [];
  const sink = { write: (t: string) => (written.push(t), true) } as unknown as NodeJS.WritableStream;
  const out = new LaneOutput('x | ', sink);
  out.write('one\ntw');
  out.write('o');
  out.end();
  assert.equal(written, ['x | one\n', 'x | two\n']);
  const plain: string[] = [];
  const through = new LaneOutput('', { write: (t: string) => (plain.push(t), true) } as unknown as NodeJS.WritableStream);
  through.write('as ');
  through.write('it comes');
  through.end();
  assert.equal(plain, ['as ', 'it comes']);
});

test.run();

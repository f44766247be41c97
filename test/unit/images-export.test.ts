// lib/images/export's pure part: which refs an archive for a node's containerd may be written
// from. The archive itself is written and read back by the images suite (real Docker).
import { suite } from '../support/suite.ts';
import * as assert from 'uvu/assert';
import { exportableRefs } from '../../lib/images/export.ts';
import { DeployError } from '../../lib/errors.ts';

const test = suite();

function refusal(refs: string[]): DeployError {
  try {
    exportableRefs(refs);
  } catch (err) {
    assert.instance(err, DeployError);
    return err as DeployError;
  }
  throw new assert.Assertion({ message: `exportableRefs accepted ${refs.join(', ')}` } as never);
}

test('exportableRefs keeps tagged refs in order, once each', () => {
  assert.equal(
    exportableRefs(['todo-backend:3f9a1c2b4d5e', 'registry.example.com:5000/todo/redis:0a1b2c3d4e5f', 'todo-backend:3f9a1c2b4d5e', ' todo-frontend:1.2.0 ']),
    ['todo-backend:3f9a1c2b4d5e', 'registry.example.com:5000/todo/redis:0a1b2c3d4e5f', 'todo-frontend:1.2.0'],
  );
});

test('exportableRefs refuses a bare repository, an id and a digest, naming each and the fix', () => {
  const err = refusal(['todo-backend:1.0.0', 'todo-frontend', 'sha256:0123abcd', 'todo-redis@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef']);
  assert.match(err.message, '"todo-frontend"');
  assert.match(err.message, '"sha256:0123abcd"');
  assert.match(err.message, '"todo-redis@sha256:');
  assert.not.match(err.message, '"todo-backend:1.0.0"');
  assert.match(err.message, 'Fix:');
});

test('exportableRefs refuses an empty set', () => {
  assert.match(refusal([]).message, 'No image refs');
});

test.run();

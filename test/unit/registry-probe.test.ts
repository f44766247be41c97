// prod with REGISTRY: before `up` starts, installs or builds anything, something must answer at
// the registry's address (lib/cluster/registry-probe.ts, lib/cluster/current.ts). REGISTRY read
// as docker reads it, the reasons in words, one probe against a real closed and a real open port
// on loopback, and the error's words. test/integration/dapr-current.test.ts runs `up` against it.
import { suite } from '../support/suite.ts';
import * as assert from 'uvu/assert';
import { createServer } from 'node:net';
import { checkRegistryAnswers } from '../../lib/cluster/current.ts';
import { describeConnectError, probeTcp, registryAddress } from '../../lib/cluster/registry-probe.ts';
import { DeployError } from '../../lib/errors.ts';
import { freePort } from '../../lib/free-port.ts';

const probe = suite('prod push: the registry answers before anything is built');

probe('REGISTRY read as docker reads it: host and port of the first component, 443 without a port', () => {
  assert.equal(registryAddress('127.0.0.1:5123'), { host: '127.0.0.1', port: 5123 });
  assert.equal(registryAddress('127.0.0.1:5123/todo'), { host: '127.0.0.1', port: 5123 });
  assert.equal(registryAddress('registry.example.com/team/todo'), { host: 'registry.example.com', port: 443 });
  assert.equal(registryAddress('registry.example.com'), { host: 'registry.example.com', port: 443 });
  assert.equal(registryAddress('[::1]:5000/todo'), { host: '::1', port: 5000 });
  assert.equal(registryAddress('https://r.example:8443/x'), { host: 'r.example', port: 8443 });
});

probe('a failed connection in words, with the system\'s code', () => {
  assert.match(describeConnectError(Object.assign(new Error('x'), { code: 'ECONNREFUSED' })), /nothing listens there \(ECONNREFUSED\)/);
  assert.match(describeConnectError(Object.assign(new Error('x'), { code: 'ENOTFOUND' })), /does not resolve/);
});

probe('a real closed port on loopback is refused; a real listener answers', async () => {
  const closed = await freePort();
  assert.match((await probeTcp('127.0.0.1', closed)) ?? '', /ECONNREFUSED/);
  const server = createServer((s) => s.end());
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  try {
    assert.is(await probeTcp('127.0.0.1', port), undefined);
  } finally {
    server.close();
  }
});

probe('prod with REGISTRY down: a DeployError naming REGISTRY, its address, the reason and the fix; nothing checked in dev or without REGISTRY', async () => {
  const refused = async () => 'connection refused: nothing listens there (ECONNREFUSED)';
  const err = await checkRegistryAnswers({ environment: 'prod', settings: { REGISTRY: '127.0.0.1:5999/todo' } }, refused).then(() => undefined, (e) => e);
  assert.instance(err, DeployError);
  assert.match(err.message, 'REGISTRY=127.0.0.1:5999/todo names a registry at 127.0.0.1:5999, and connection refused');
  assert.match(err.message, 'Nothing was built, installed or applied.');
  assert.match(err.message, /Fix: start that registry/);
  assert.is(await checkRegistryAnswers({ environment: 'prod', settings: { REGISTRY: 'r.example:5000' } }, async () => undefined), 'registry r.example:5000 answers');
  let asked = false;
  const spy = async () => ((asked = true), undefined);
  assert.is(await checkRegistryAnswers({ environment: 'dev', settings: { REGISTRY: 'r.example' } }, spy), undefined);
  assert.is(await checkRegistryAnswers({ environment: 'prod', settings: {} }, spy), undefined);
  assert.not.ok(asked, 'no probe in dev or without REGISTRY');
});

probe.run();

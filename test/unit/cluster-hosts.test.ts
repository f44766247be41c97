// Reaching the app by name: the hosts-file edit (pure), the advice after `up` with an injected
// resolver, and writing the line into a file.
import { suite } from '../support/suite.ts';
import * as assert from 'uvu/assert';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { hostsAdvice, hostsFilePath, updateHostsText, writeHostsLine, type Lookup } from '../../lib/cluster/hosts.ts';
import { DeployError } from '../../lib/errors.ts';

const edit = suite('hosts: the file edit (pure)');

edit('appends the line when the domain is not there, keeping everything else', () => {
  const before = '127.0.0.1 localhost\n# comment\n::1 localhost ip6-localhost\n';
  const { text, changed } = updateHostsText(before, '192.168.49.2', 'todo.local');
  assert.ok(changed);
  assert.is(text, `${before}192.168.49.2 todo.local\n`);
});

edit('nothing changes when the line is already there (even with other names on it)', () => {
  for (const before of ['127.0.0.1 localhost\n192.168.49.2 todo.local\n', '192.168.49.2   todo.local other.local # mine\n']) {
    const { text, changed } = updateHostsText(before, '192.168.49.2', 'todo.local');
    assert.not.ok(changed);
    assert.is(text, before);
  }
});

edit('a line mapping only the domain elsewhere is replaced; a shared line loses just the domain', () => {
  const before = '127.0.0.1 localhost\n10.0.0.9 todo.local\n10.0.0.8 api.local todo.local\n';
  const { text } = updateHostsText(before, '192.168.49.2', 'todo.local');
  assert.is(text, '127.0.0.1 localhost\n10.0.0.8 api.local\n192.168.49.2 todo.local\n');
});

edit('a name that merely contains the domain, and comments, are left alone', () => {
  const before = '10.0.0.1 my-todo.local\n# 10.0.0.9 todo.local\n';
  const { text } = updateHostsText(before, '127.0.0.1', 'todo.local');
  assert.is(text, `${before}127.0.0.1 todo.local\n`);
});

edit('the hosts file of each platform', () => {
  assert.is(hostsFilePath('linux'), '/etc/hosts');
  assert.is(hostsFilePath('darwin'), '/etc/hosts');
  assert.is(hostsFilePath('win32'), 'C:\\Windows\\System32\\drivers\\etc\\hosts');
});

edit.run();

const advice = suite('hosts: advice after up');

const resolving = (map: Record<string, string[]>): Lookup => async (host) => {
  if (!map[host]) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: 'ENOTFOUND' });
  return map[host]!;
};

advice('a domain that resolves to the ingress address needs no line', async () => {
  assert.equal(await hostsAdvice('todo.local', '192.168.49.2', resolving({ 'todo.local': ['192.168.49.2'] })), { url: 'http://todo.local/' });
});

advice('a domain that does not resolve, or resolves elsewhere, gets the exact line', async () => {
  assert.equal(await hostsAdvice('todo.local', '192.168.49.2', resolving({})), { url: 'http://todo.local/', line: '192.168.49.2 todo.local' });
  assert.equal((await hostsAdvice('todo.local', '127.0.0.1', resolving({ 'todo.local': ['10.1.1.1'] }))).line, '127.0.0.1 todo.local');
});

advice('a host-name address cannot go in a hosts file: a DNS note instead; no address: how to find it', async () => {
  const byName = await hostsAdvice('todo.example.com', 'lb-123.elb.example.com', resolving({}));
  assert.is(byName.line, undefined);
  assert.match(byName.note!, 'CNAME');
  const unknown = await hostsAdvice('todo.local', undefined, resolving({}));
  assert.is(unknown.line, undefined);
  assert.match(unknown.note!, 'kubectl get ingress');
});

advice.run();

const write = suite('hosts: writing the line');

write('adds the line once; a second write changes nothing', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'hosts-'));
  try {
    const file = path.join(dir, 'hosts');
    writeFileSync(file, '127.0.0.1 localhost\n');
    assert.ok(writeHostsLine(file, '127.0.0.1', 'todo.local'));
    assert.not.ok(writeHostsLine(file, '127.0.0.1', 'todo.local'));
    assert.is(readFileSync(file, 'utf8'), '127.0.0.1 localhost\n127.0.0.1 todo.local\n');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

write('an unwritable file is a clear error with the command to run instead', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'hosts-'));
  try {
    // A folder where the file should be: writing fails for root too (EISDIR), reading as well.
    const file = path.join(dir, 'hosts');
    writeFileSync(file, '127.0.0.1 localhost\n');
    chmodSync(file, 0o444);
    const readOnlyForUs = process.getuid?.() !== 0;
    let err: unknown;
    try {
      writeHostsLine(readOnlyForUs ? file : dir, '127.0.0.1', 'todo.local');
    } catch (e) {
      err = e;
    }
    assert.instance(err, DeployError);
    assert.match((err as Error).message, readOnlyForUs ? 'sudo tee -a' : 'Could not read');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

write.run();

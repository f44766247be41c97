// The one certificate pair a real node needs beyond tokens: the API server talks to the
// kubelet (pod logs, exec, port-forward) with a client certificate the kubelet trusts. A
// client CA is made for it with openssl (Node's crypto makes keys but not certificates);
// the kubelet's own serving certificate is the one it generates itself.

import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { NodeLayout } from './layout.ts';

/** Subject of the API server's client certificate; system:masters lets the kubelet's webhook authorizer allow it. */
export const APISERVER_KUBELET_CLIENT_SUBJECT = '/O=system:masters/CN=kube-apiserver-kubelet-client';

/** The openssl invocations, in order. Pure. */
export function pkiCommands(l: NodeLayout): string[][] {
  const csr = join(l.pkiDir, 'apiserver-kubelet-client.csr');
  const ext = join(l.pkiDir, 'client.ext');
  return [
    ['openssl', 'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-sha256', '-days', '3650', '-subj', '/CN=todo-deploy-sandbox-client-ca', '-keyout', l.clientCaKey, '-out', l.clientCaCert],
    ['openssl', 'req', '-new', '-newkey', 'rsa:2048', '-nodes', '-sha256', '-subj', APISERVER_KUBELET_CLIENT_SUBJECT, '-keyout', l.apiserverKubeletClientKey, '-out', csr],
    ['openssl', 'x509', '-req', '-sha256', '-days', '3650', '-in', csr, '-CA', l.clientCaCert, '-CAkey', l.clientCaKey, '-CAcreateserial', '-extfile', ext, '-out', l.apiserverKubeletClientCert],
  ];
}

export function writePki(l: NodeLayout): void {
  mkdirSync(l.pkiDir, { recursive: true, mode: 0o700 });
  writeFileSync(join(l.pkiDir, 'client.ext'), 'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=clientAuth\n');
  for (const argv of pkiCommands(l)) {
    const r = spawnSync(argv[0], argv.slice(1), { encoding: 'utf8' });
    if (r.status !== 0) {
      throw new Error(`Making the real node's client certificate failed at \`${argv.slice(0, 3).join(' ')}\`: ${(r.stderr || r.error?.message || '').trim()}`);
    }
  }
}

// The sandbox's ingress controller as `up` applies it on a real node (lib/cluster/sandbox-ingress.yaml):
// Traefik running the image built here, serving the IngressClass the manifests' Ingress names,
// publishing the address of the Service in front of it, with the permissions its provider needs.
import { suite } from '../support/suite.ts';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { TRAEFIK } from '../../lib/cluster/ingress.ts';
import { traefikObjects } from '../../lib/cluster/sandbox-ingress.ts';
import { imageRefs, readVersions } from '../../lib/controlplane/versions.ts';
import { endpointCovers } from '../../lib/policy/flows.ts';
import { INGRESS_CONTROLLER_PODS } from '../../lib/policy/paths.ts';
import { REPO_ROOT } from '../../lib/repo-root.ts';
import type { KubeObject } from '../../lib/types.ts';

const test = suite("the sandbox's ingress controller (lib/cluster/sandbox-ingress.yaml)");

const image = imageRefs(readVersions()).traefik;
const objects = traefikObjects(image);
const find = (kind: string) => {
  const found = objects.find((o) => o.kind === kind);
  if (!found) throw new Error(`no ${kind} in ${objects.map((o) => o.kind).join(', ')}`);
  return found as KubeObject & Record<string, any>;
};
const container = () => find('Deployment').spec.template.spec.containers[0];
const arg = (name: string) => (container().args as string[]).find((a) => a.startsWith(`--${name}=`))?.split('=')[1];

test('the Namespace and what runs in it come first, in the order they are applied', () => {
  assert.equal(objects.map((o) => o.kind), ['Namespace', 'ServiceAccount', 'ClusterRole', 'ClusterRoleBinding', 'IngressClass', 'Deployment', 'Service']);
  for (const o of objects.filter((o) => !['Namespace', 'ClusterRole', 'ClusterRoleBinding', 'IngressClass'].includes(o.kind))) assert.is(o.metadata.namespace, TRAEFIK.namespace, o.kind);
});

test('it runs the image built here (never pulled) under the names the wait and the doctor look for', () => {
  assert.is(image, `docker.io/library/traefik:v${readVersions().traefik}`);
  assert.is(container().image, image);
  assert.is(container().imagePullPolicy, 'Never');
  assert.is(find('Deployment').metadata.name, TRAEFIK.deployment);
  assert.is(find('Service').metadata.name, TRAEFIK.service);
  assert.not.ok(JSON.stringify(objects).includes('${'), 'every placeholder is filled');
});

test('it serves IngressClass nginx as ingress-nginx would, the class of the manifests\' Ingress', () => {
  const ingress = parseAllDocuments(readFileSync(join(REPO_ROOT, 'manifests', '90-ingress.yaml'), 'utf8'))[0]!.toJS();
  const cls = find('IngressClass');
  assert.is(cls.metadata.name, ingress.spec.ingressClassName);
  assert.is(cls.spec.controller, 'k8s.io/ingress-nginx');
  assert.is(arg('providers.kubernetesingressnginx'), 'true');
  assert.is(arg('providers.kubernetesingressnginx.ingressclass'), cls.metadata.name);
  assert.is(arg('providers.kubernetesingressnginx.controllerclass'), cls.spec.controller);
});

test('it publishes its own Service, whose port 80 reaches the web entry point', () => {
  assert.is(arg('providers.kubernetesingressnginx.publishservice'), `${TRAEFIK.namespace}/${TRAEFIK.service}`);
  const svc = find('Service');
  assert.equal(svc.spec.selector, find('Deployment').spec.template.metadata.labels);
  const web = svc.spec.ports.find((p: any) => p.port === 80);
  const port = container().ports.find((p: any) => p.name === web.targetPort);
  assert.is(`:${port.containerPort}`, arg('entryPoints.web.address'));
  // Not root (the image's user): it listens above 1024.
  assert.ok(port.containerPort > 1024);
});

test('its pods are an ingress controller of lib/policy/paths.ts, so the frontend\'s NetworkPolicy admits them', () => {
  const pod = { label: 'traefik', namespace: find('Deployment').metadata.namespace, labels: find('Deployment').spec.template.metadata.labels, ip: '10.244.0.9' };
  assert.is(pod.namespace, find('Namespace').metadata.name);
  assert.ok(INGRESS_CONTROLLER_PODS.some((e) => endpointCovers(e, pod, 'todo')), JSON.stringify(pod));
});

test('its ServiceAccount may read what the provider watches and write Ingress status', () => {
  const binding = find('ClusterRoleBinding');
  assert.equal(binding.subjects, [{ kind: 'ServiceAccount', name: find('ServiceAccount').metadata.name, namespace: TRAEFIK.namespace }]);
  assert.is(binding.roleRef.name, find('ClusterRole').metadata.name);
  const may = (group: string, resource: string, verb: string) =>
    find('ClusterRole').rules.some((r: any) => r.apiGroups.includes(group) && r.resources.includes(resource) && r.verbs.includes(verb));
  for (const [group, resource] of [['', 'services'], ['', 'secrets'], ['discovery.k8s.io', 'endpointslices'], ['networking.k8s.io', 'ingresses'], ['networking.k8s.io', 'ingressclasses']]) {
    assert.ok(may(group!, resource!, 'list') && may(group!, resource!, 'watch'), `${resource}: list, watch`);
  }
  assert.ok(may('networking.k8s.io', 'ingresses/status', 'update'));
});

test.run();

// Dapr on the sandbox's real node, the pure parts: which Dapr runs there, the chart values that
// point Dapr's chart at the images built here and never pull, the helm command, and which
// images still need importing. (The install itself runs in the real-node suite.)
import { suite } from '../support/suite.ts';
import * as assert from 'uvu/assert';
import { UsageError } from '../../lib/errors.ts';
import { DAPR_UID, daprChartValues, daprHelmArgs, daprOnRealNode, helmPathFromBenchOutput, missingDaprImages, SCHEDULER_REPLICAS, SCHEDULER_STORAGE_CLASS, schedulerVolumes } from '../../lib/cluster/dapr-real-node.ts';
import { daprArtifacts, readVersions } from '../../lib/controlplane/versions.ts';

const test = suite('Dapr on the real node: which Dapr, chart values, helm, images, scheduler volumes');

const artifacts = daprArtifacts(readVersions(), { XDG_CACHE_HOME: '/c' });

test('SANDBOX_DAPR: Dapr built here by default, the stand-in when asked; anything else is a usage error naming the setting', () => {
  assert.is(daprOnRealNode(undefined), 'real');
  assert.is(daprOnRealNode(' '), 'real');
  assert.is(daprOnRealNode('real'), 'real');
  assert.is(daprOnRealNode('stand-in'), 'stand-in');
  try {
    daprOnRealNode('fake');
    assert.unreachable('accepted SANDBOX_DAPR=fake');
  } catch (err) {
    assert.instance(err, UsageError);
    assert.match((err as Error).message, /SANDBOX_DAPR is "fake".*Fix: set SANDBOX_DAPR=real/);
  }
});

test('chart values: the local images by registry and tag, never pulled (control plane and sidecar), the sidecar as Dapr\'s user 65532:65532, one replica, the scheduler\'s claims of a class of their own', () => {
  const values = Object.fromEntries(daprChartValues(artifacts));
  assert.equal(values, {
    'global.registry': 'todo-deploy.local/dapr',
    'global.tag': readVersions().dapr,
    'global.imagePullPolicy': 'Never',
    'dapr_sidecar_injector.sidecarImagePullPolicy': 'Never',
    'dapr_sidecar_injector.sidecarRunAsUser': '65532',
    'dapr_sidecar_injector.sidecarRunAsGroup': '65532',
    'global.ha.enabled': 'false',
    'dapr_scheduler.cluster.storageClassName': SCHEDULER_STORAGE_CLASS,
  });
  // Every image the chart composes (<registry>/<program>:<tag>) is one build.sh writes.
  for (const image of Object.values(artifacts.images)) assert.ok(image.ref.startsWith(`${values['global.registry']}/`) && image.ref.endsWith(`:${values['global.tag']}`), image.ref);
});

test('helm: upgrade --install of the chart folder into dapr-system, waiting, with the sandbox kubeconfig and every value', () => {
  const args = daprHelmArgs(artifacts, '/plane/kubeconfig');
  assert.equal(args.slice(0, 11), ['upgrade', '--install', 'dapr', '/c/todo-deploy/controlplane/dapr-1.16.0/chart/dapr', '--namespace', 'dapr-system', '--create-namespace', '--wait', '--timeout', '10m', '--kubeconfig']);
  assert.is(args[11], '/plane/kubeconfig');
  assert.equal(args.slice(12).filter((_, i) => i % 2 === 0), Array(8).fill('--set'));
  assert.ok(args.includes('dapr_scheduler.cluster.storageClassName=todo-deploy-dapr-scheduler'));
  // Another release moves the chart folder and the tag together.
  const next = daprArtifacts({ ...readVersions(), dapr: '1.16.2' }, { XDG_CACHE_HOME: '/c' });
  const nextArgs = daprHelmArgs(next, '/k');
  assert.ok(nextArgs.includes('/c/todo-deploy/controlplane/dapr-1.16.2/chart/dapr'));
  assert.ok(nextArgs.includes('global.tag=1.16.2'));
});

test('images to import: those the node does not hold, by reference', () => {
  const all = Object.values(artifacts.images);
  assert.equal(missingDaprImages(artifacts, []), all);
  assert.equal(missingDaprImages(artifacts, ['registry.k8s.io/pause:3.10.1', ...all.map((i) => i.ref)]), []);
  assert.equal(missingDaprImages(artifacts, all.filter((i) => !i.ref.includes('/daprd:')).map((i) => i.ref)), [artifacts.images.daprd]);
});

test('scheduler volumes: one per replica, a node folder bound ahead to the claim the StatefulSet makes for that ordinal, in the claims\' class', () => {
  const pvs = schedulerVolumes(['/n/volumes/dapr-scheduler-0', '/n/volumes/dapr-scheduler-1', '/n/volumes/dapr-scheduler-2']);
  assert.is(pvs.length, SCHEDULER_REPLICAS);
  assert.equal(
    pvs.map((pv) => [pv.metadata.name, pv.spec.claimRef.namespace, pv.spec.claimRef.name, pv.spec.hostPath.path, pv.spec.storageClassName]),
    [0, 1, 2].map((i) => [`todo-deploy-dapr-scheduler-${i}`, 'dapr-system', `dapr-scheduler-data-dir-dapr-scheduler-server-${i}`, `/n/volumes/dapr-scheduler-${i}`, SCHEDULER_STORAGE_CLASS]),
  );
  // The chart's claim asks for 1Gi, ReadWriteOnce: each volume must satisfy it.
  for (const pv of pvs) {
    assert.equal(pv.spec.accessModes, ['ReadWriteOnce']);
    assert.is(pv.spec.capacity.storage, '1Gi');
  }
  assert.is(DAPR_UID, 65532);
});

test('the helm bench/ builds: its path read from bench/tools.ts --only helm', () => {
  assert.is(helmPathFromBenchOutput('[bench tools] building helm: go install ...\n[bench tools] helm: /c/todo-deploy/bench-tools/kubectl-1.34.4_helm-4.3.1_kapp-0.66.0/bin/helm — v4.3.1 (build 61 s)\n'), '/c/todo-deploy/bench-tools/kubectl-1.34.4_helm-4.3.1_kapp-0.66.0/bin/helm');
  assert.is(helmPathFromBenchOutput('bench tools: building helm failed'), undefined);
});

test.run();

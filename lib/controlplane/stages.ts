// What kwok does in place of a kubelet, as kwok Stage objects (kwok.x-k8s.io/v1alpha1),
// and the Node objects it manages. Pure data: the helper writes them to kwok's config file
// and creates the Nodes through the API.
//
// Pod lifecycle on a kwok node (what the integration suite relies on):
//   Pending (scheduled) --pod-running--> Running, containers started but not ready
//                       --pod-ready-->   Ready, after the longest readinessProbe
//                                        initialDelaySeconds of its containers (0 if none)
//   deletionTimestamp set --pod-delete--> gone (as a kubelet does once containers stop)
//   a Job's pod, Ready    --pod-complete--> Succeeded
//
// Failure convention: a pod annotated `todo-deploy.test/fail-as: <state>` shows the state a
// kubelet would report for a container that cannot run, with its warning event:
//   ImagePullBackOff  stays Pending, each container waiting ImagePullBackOff (image not found)
//   CrashLoopBackOff  turns Running, each container waiting CrashLoopBackOff after exiting 1
//   OOMKilled         turns Running, each container waiting CrashLoopBackOff, last terminated
//                     OOMKilled (exit 137), restarted twice
//
// Readiness convention: a pod annotated `todo-deploy.test/never-ready: "true"` stays
// Running with Ready=False (reason ContainersNotReady) for ever, like a container whose
// readiness probe never passes. The other way to get a never-ready deployment is an
// unsatisfiable nodeSelector: its pods stay Pending with PodScheduled=False (Unschedulable).

import type { KubeObject } from '../types.ts';

/** Nodes carrying this annotation are the ones kwok manages (its --manage-nodes-with-annotation-selector). */
export const KWOK_NODE_ANNOTATION = 'kwok.x-k8s.io/node';
export const KWOK_NODE_ANNOTATION_VALUE = 'fake';
/** Pod annotation that keeps every container of the pod unready. */
export const NEVER_READY_ANNOTATION = 'todo-deploy.test/never-ready';
/** Pod annotation naming a failure its containers show (see FAILURES). */
export const FAIL_AS_ANNOTATION = 'todo-deploy.test/fail-as';
export const FAILURES = ['ImagePullBackOff', 'CrashLoopBackOff', 'OOMKilled'] as const;

export interface NodeSpec {
  name: string;
  /** Allocatable = capacity, as quantities: cpu "8", memory "32Gi", pods "110". */
  cpu: string;
  memory: string;
  pods: string;
}

export const DEFAULT_NODES: NodeSpec[] = [{ name: 'kwok-node-0', cpu: '8', memory: '32Gi', pods: '110' }];

/** A Node as a kubelet would register it, marked for kwok. Created with its status (capacity). */
export function kwokNode(spec: NodeSpec): KubeObject {
  const resources = { cpu: spec.cpu, memory: spec.memory, pods: spec.pods };
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name: spec.name,
      annotations: {
        [KWOK_NODE_ANNOTATION]: KWOK_NODE_ANNOTATION_VALUE,
        'node.alpha.kubernetes.io/ttl': '0',
      },
      labels: {
        'kubernetes.io/hostname': spec.name,
        'kubernetes.io/os': 'linux',
        'kubernetes.io/arch': 'amd64',
        'node-role.kubernetes.io/agent': '',
        type: 'kwok',
      },
    },
    spec: {},
    status: { capacity: resources, allocatable: resources },
  };
}

const notDeleted = { key: '.metadata.deletionTimestamp', operator: 'DoesNotExist' };
const readyCondition = '.status.conditions.[] | select( .type == "Ready" ) | .status';

// Status templates are Go templates (with sprig) rendered against the object; kwok sends
// the result as a strategic-merge patch of the status subresource, so conditions merge by
// type (the scheduler's PodScheduled stays) and containerStatuses are replaced whole.

const podAddresses = `
{{ with NodeIPsWith .spec.nodeName }}
hostIP: {{ index . 0 | Quote }}
hostIPs:
{{ range . }}
- ip: {{ . | Quote }}
{{ end }}
{{ end }}
{{ with PodIPsWith .spec.nodeName ( or .spec.hostNetwork false ) ( or .metadata.uid "" ) ( or .metadata.name "" ) ( or .metadata.namespace "" ) }}
podIP: {{ index . 0 | Quote }}
podIPs:
{{ range . }}
- ip: {{ . | Quote }}
{{ end }}
{{ end }}`;

// Init containers have run to completion by the time the app containers start; sidecar
// init containers (restartPolicy Always) keep running.
const initContainerStatuses = (ready: boolean) => `
initContainerStatuses:
{{ range .spec.initContainers }}
- name: {{ .name | Quote }}
  image: {{ .image | Quote }}
  restartCount: 0
  {{ if eq ( or .restartPolicy "" ) "Always" }}
  ready: ${ready}
  started: true
  state:
    running:
      startedAt: {{ $started | Quote }}
  {{ else }}
  ready: true
  started: false
  state:
    terminated:
      exitCode: 0
      reason: Completed
      startedAt: {{ $started | Quote }}
      finishedAt: {{ $started | Quote }}
  {{ end }}
{{ end }}`;

const containerStatuses = (ready: boolean) => `
containerStatuses:
{{ range .spec.containers }}
- name: {{ .name | Quote }}
  image: {{ .image | Quote }}
  ready: ${ready}
  started: true
  restartCount: 0
  state:
    running:
      startedAt: {{ $started | Quote }}
{{ end }}`;

const podRunningTemplate = `
{{ $now := Now }}
{{ $started := $now }}
{{ $names := list }}
{{ range .spec.containers }}{{ $names = append $names .name }}{{ end }}
{{ $unready := printf "containers with unready status: [%s]" ( join " " $names ) }}
phase: Running
startTime: {{ $now | Quote }}
conditions:
- type: PodReadyToStartContainers
  status: "True"
  lastTransitionTime: {{ $now | Quote }}
- type: Initialized
  status: "True"
  lastTransitionTime: {{ $now | Quote }}
- type: ContainersReady
  status: "False"
  reason: ContainersNotReady
  message: {{ $unready | Quote }}
  lastTransitionTime: {{ $now | Quote }}
- type: Ready
  status: "False"
  reason: ContainersNotReady
  message: {{ $unready | Quote }}
  lastTransitionTime: {{ $now | Quote }}
${containerStatuses(false)}
${initContainerStatuses(false)}
${podAddresses}
`;

const podReadyTemplate = `
{{ $now := Now }}
{{ $started := or .status.startTime $now }}
conditions:
- type: ContainersReady
  status: "True"
  reason: null
  message: null
  lastTransitionTime: {{ $now | Quote }}
- type: Ready
  status: "True"
  reason: null
  message: null
  lastTransitionTime: {{ $now | Quote }}
${containerStatuses(true)}
${initContainerStatuses(true)}
`;

const podCompleteTemplate = `
{{ $now := Now }}
{{ $started := or .status.startTime $now }}
phase: Succeeded
conditions:
- type: ContainersReady
  status: "False"
  reason: PodCompleted
  lastTransitionTime: {{ $now | Quote }}
- type: Ready
  status: "False"
  reason: PodCompleted
  lastTransitionTime: {{ $now | Quote }}
containerStatuses:
{{ range .spec.containers }}
- name: {{ .name | Quote }}
  image: {{ .image | Quote }}
  ready: false
  started: false
  restartCount: 0
  state:
    terminated:
      exitCode: 0
      reason: Completed
      startedAt: {{ $started | Quote }}
      finishedAt: {{ $now | Quote }}
{{ end }}
`;

const nodeStatusTemplate = `
{{ $now := Now }}
{{ $since := or .metadata.creationTimestamp $now }}
phase: Running
conditions:
{{ range NodeConditions }}
- type: {{ .type | Quote }}
  status: {{ .status | Quote }}
  reason: {{ .reason | Quote }}
  message: {{ .message | Quote }}
  lastHeartbeatTime: {{ $now | Quote }}
  lastTransitionTime: {{ $since | Quote }}
{{ end }}
addresses:
- type: InternalIP
  address: {{ NodeIP | Quote }}
- type: Hostname
  address: {{ .metadata.name | Quote }}
{{ with NodePort }}
daemonEndpoints:
  kubeletEndpoint:
    Port: {{ . }}
{{ end }}
nodeInfo:
  architecture: amd64
  operatingSystem: linux
  kubeletVersion: {{ printf "kwok-%s" Version | Quote }}
  kubeProxyVersion: ""
  containerRuntimeVersion: {{ printf "kwok-%s" Version | Quote }}
  kernelVersion: {{ printf "kwok-%s" Version | Quote }}
  osImage: kwok
  machineID: ""
  systemUUID: ""
  bootID: ""
`;

const failAs = `.metadata.annotations["${FAIL_AS_ANNOTATION}"]`;
const waitingReason = '.status.containerStatuses.[].state.waiting.reason';

const unreadyConditions = `
- type: ContainersReady
  status: "False"
  reason: ContainersNotReady
  message: {{ $unready | Quote }}
  lastTransitionTime: {{ $now | Quote }}
- type: Ready
  status: "False"
  reason: ContainersNotReady
  message: {{ $unready | Quote }}
  lastTransitionTime: {{ $now | Quote }}`;

const namesAndNow = `
{{ $now := Now }}
{{ $names := list }}
{{ range .spec.containers }}{{ $names = append $names .name }}{{ end }}
{{ $unready := printf "containers with unready status: [%s]" ( join " " $names ) }}`;

// What a kubelet reports when an image cannot be pulled: the pod stays Pending.
const podImagePullBackOffTemplate = `${namesAndNow}
phase: Pending
conditions:
${unreadyConditions}
containerStatuses:
{{ range .spec.containers }}
- name: {{ .name | Quote }}
  image: {{ .image | Quote }}
  ready: false
  started: false
  restartCount: 0
  state:
    waiting:
      reason: ImagePullBackOff
      message: {{ printf "Back-off pulling image %q: ErrImagePull: %s: not found" .image .image | Quote }}
{{ end }}
`;

// What a kubelet reports for a container that keeps exiting: waiting in CrashLoopBackOff, last
// terminated with its exit code (OOMKilled: 137 after the memory limit).
const podCrashLoopTemplate = (reason: 'Error' | 'OOMKilled', exitCode: number, restarts: number) => `${namesAndNow}
{{ $started := or .status.startTime $now }}
phase: Running
conditions:
${unreadyConditions}
containerStatuses:
{{ range .spec.containers }}
- name: {{ .name | Quote }}
  image: {{ .image | Quote }}
  ready: false
  started: false
  restartCount: ${restarts}
  state:
    waiting:
      reason: CrashLoopBackOff
      message: {{ printf "back-off 20s restarting failed container=%s" .name | Quote }}
  lastState:
    terminated:
      exitCode: ${exitCode}
      reason: ${reason}
      startedAt: {{ $started | Quote }}
      finishedAt: {{ $now | Quote }}
{{ end }}
`;

function stage(name: string, kind: 'Pod' | 'Node', spec: Record<string, unknown>): KubeObject {
  return {
    apiVersion: 'kwok.x-k8s.io/v1alpha1',
    kind: 'Stage',
    metadata: { name },
    spec: { resourceRef: { apiGroup: 'v1', kind }, ...spec },
  };
}

/** Every Stage kwok runs in the test control plane. */
export function kwokStages(): KubeObject[] {
  return [
    stage('node-initialize', 'Node', {
      selector: { matchExpressions: [{ key: readyCondition, operator: 'NotIn', values: ['True'] }] },
      next: { statusTemplate: nodeStatusTemplate },
    }),
    // Conditions are refreshed now and then as a kubelet does; liveness itself comes from
    // the node Lease that kwok renews (--node-lease-duration-seconds).
    stage('node-heartbeat', 'Node', {
      selector: {
        matchExpressions: [
          { key: '.status.phase', operator: 'In', values: ['Running'] },
          { key: readyCondition, operator: 'In', values: ['True'] },
        ],
      },
      delay: { durationMilliseconds: 60_000, jitterDurationMilliseconds: 90_000 },
      next: { statusTemplate: nodeStatusTemplate },
    }),
    stage('pod-running', 'Pod', {
      selector: {
        matchExpressions: [
          notDeleted,
          { key: '.spec.nodeName', operator: 'Exists' },
          { key: '.status.phase', operator: 'In', values: ['Pending'] },
          { key: failAs, operator: 'NotIn', values: ['ImagePullBackOff'] },
        ],
      },
      next: { statusTemplate: podRunningTemplate },
    }),
    stage('pod-image-pull-backoff', 'Pod', {
      selector: {
        matchExpressions: [
          notDeleted,
          { key: '.spec.nodeName', operator: 'Exists' },
          { key: '.status.phase', operator: 'In', values: ['Pending'] },
          { key: failAs, operator: 'In', values: ['ImagePullBackOff'] },
          { key: waitingReason, operator: 'NotIn', values: ['ImagePullBackOff'] },
        ],
      },
      next: { statusTemplate: podImagePullBackOffTemplate, event: { type: 'Warning', reason: 'Failed', message: 'Error: ImagePullBackOff (simulated by kwok: the image is not there)' } },
    }),
    stage('pod-crash-loop', 'Pod', {
      selector: {
        matchExpressions: [
          notDeleted,
          { key: '.status.phase', operator: 'In', values: ['Running'] },
          { key: failAs, operator: 'In', values: ['CrashLoopBackOff'] },
          { key: waitingReason, operator: 'NotIn', values: ['CrashLoopBackOff'] },
        ],
      },
      next: { statusTemplate: podCrashLoopTemplate('Error', 1, 3), event: { type: 'Warning', reason: 'BackOff', message: 'Back-off restarting failed container (simulated by kwok: it exits with 1)' } },
    }),
    stage('pod-oom-killed', 'Pod', {
      selector: {
        matchExpressions: [
          notDeleted,
          { key: '.status.phase', operator: 'In', values: ['Running'] },
          { key: failAs, operator: 'In', values: ['OOMKilled'] },
          { key: waitingReason, operator: 'NotIn', values: ['CrashLoopBackOff'] },
        ],
      },
      next: { statusTemplate: podCrashLoopTemplate('OOMKilled', 137, 2), event: { type: 'Warning', reason: 'BackOff', message: 'Back-off restarting failed container (simulated by kwok: OOMKilled)' } },
    }),
    stage('pod-ready', 'Pod', {
      selector: {
        matchExpressions: [
          notDeleted,
          { key: '.status.phase', operator: 'In', values: ['Running'] },
          { key: readyCondition, operator: 'NotIn', values: ['True'] },
          { key: `.metadata.annotations["${NEVER_READY_ANNOTATION}"]`, operator: 'NotIn', values: ['true'] },
          { key: failAs, operator: 'NotIn', values: [...FAILURES] },
        ],
      },
      // A kubelet runs the first readiness probe after initialDelaySeconds; kwok cannot
      // probe, so the pod turns ready once the longest of those delays has passed.
      delay: {
        durationMilliseconds: 0,
        durationFrom: {
          jq: { expression: '( [ .spec.containers[] | .readinessProbe.initialDelaySeconds // 0 ] | max | tostring ) + "s"' },
        },
      },
      next: { statusTemplate: podReadyTemplate },
    }),
    stage('pod-complete', 'Pod', {
      selector: {
        matchExpressions: [
          notDeleted,
          { key: '.status.phase', operator: 'In', values: ['Running'] },
          { key: readyCondition, operator: 'In', values: ['True'] },
          { key: '.metadata.ownerReferences.[].kind', operator: 'In', values: ['Job'] },
        ],
      },
      next: { statusTemplate: podCompleteTemplate },
    }),
    // A kubelet removes a terminating pod once its containers stopped; kwok has none to stop.
    stage('pod-delete', 'Pod', {
      selector: { matchExpressions: [{ key: '.metadata.deletionTimestamp', operator: 'Exists' }] },
      next: { delete: true },
    }),
  ];
}

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

// Pieces of the pod status templates. Each status entry is written inside a {{ range }} over
// containers: its name and image, then the fields of its state.
const statusEntry = (fields: string) => `
- name: {{ .name | Quote }}
  image: {{ .image | Quote }}${fields}`;

/** The entry of every app container, from a {{ range }} over them. */
const appContainerStatuses = (fields: string) => `
containerStatuses:
{{ range .spec.containers }}${statusEntry(fields)}
{{ end }}`;

const runningState = `
  state:
    running:
      startedAt: {{ $started | Quote }}`;

const terminatedState = (key: 'state' | 'lastState', exitCode: number, reason: string, finishedAt: '$started' | '$now') => `
  ${key}:
    terminated:
      exitCode: ${exitCode}
      reason: ${reason}
      startedAt: {{ $started | Quote }}
      finishedAt: {{ ${finishedAt} | Quote }}`;

const waitingState = (reason: string, message: string) => `
  state:
    waiting:
      reason: ${reason}
      message: ${message}`;

/** A container that is not running (not ready, not started), restarted `restarts` times. */
const notRunning = (restarts: number) => `
  ready: false
  started: false
  restartCount: ${restarts}`;

// Init containers have run to completion by the time the app containers start; sidecar
// init containers (restartPolicy Always) keep running.
const initContainerStatuses = (ready: boolean) => `
initContainerStatuses:
{{ range .spec.initContainers }}${statusEntry(`
  restartCount: 0
  {{ if eq ( or .restartPolicy "" ) "Always" }}
  ready: ${ready}
  started: true${runningState}
  {{ else }}
  ready: true
  started: false${terminatedState('state', 0, 'Completed', '$started')}
  {{ end }}`)}
{{ end }}`;

const runningContainerStatuses = (ready: boolean) => appContainerStatuses(`
  ready: ${ready}
  started: true
  restartCount: 0${runningState}`);

/** ContainersReady and Ready, the two conditions that always change together, with the same fields. */
const readiness = (fields: string) => `
- type: ContainersReady${fields}
  lastTransitionTime: {{ $now | Quote }}
- type: Ready${fields}
  lastTransitionTime: {{ $now | Quote }}`;

const unreadyConditions = readiness(`
  status: "False"
  reason: ContainersNotReady
  message: {{ $unready | Quote }}`);

const namesAndNow = `
{{ $now := Now }}
{{ $names := list }}
{{ range .spec.containers }}{{ $names = append $names .name }}{{ end }}
{{ $unready := printf "containers with unready status: [%s]" ( join " " $names ) }}`;

const podRunningTemplate = `${namesAndNow}
{{ $started := $now }}
phase: Running
startTime: {{ $now | Quote }}
conditions:
- type: PodReadyToStartContainers
  status: "True"
  lastTransitionTime: {{ $now | Quote }}
- type: Initialized
  status: "True"
  lastTransitionTime: {{ $now | Quote }}${unreadyConditions}
${runningContainerStatuses(false)}
${initContainerStatuses(false)}
${podAddresses}
`;

const podReadyTemplate = `
{{ $now := Now }}
{{ $started := or .status.startTime $now }}
conditions:${readiness(`
  status: "True"
  reason: null
  message: null`)}
${runningContainerStatuses(true)}
${initContainerStatuses(true)}
`;

const podCompleteTemplate = `
{{ $now := Now }}
{{ $started := or .status.startTime $now }}
phase: Succeeded
conditions:${readiness(`
  status: "False"
  reason: PodCompleted`)}${appContainerStatuses(`${notRunning(0)}${terminatedState('state', 0, 'Completed', '$now')}`)}
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

// What a kubelet reports when an image cannot be pulled: the pod stays Pending.
const podImagePullBackOffTemplate = `${namesAndNow}
phase: Pending
conditions:${unreadyConditions}${appContainerStatuses(`${notRunning(0)}${waitingState('ImagePullBackOff', '{{ printf "Back-off pulling image %q: ErrImagePull: %s: not found" .image .image | Quote }}')}`)}
`;

// What a kubelet reports for a container that keeps exiting: waiting in CrashLoopBackOff, last
// terminated with its exit code (OOMKilled: 137 after the memory limit).
const podCrashLoopTemplate = (reason: 'Error' | 'OOMKilled', exitCode: number, restarts: number) => `${namesAndNow}
{{ $started := or .status.startTime $now }}
phase: Running
conditions:${unreadyConditions}${appContainerStatuses(`${notRunning(restarts)}${waitingState('CrashLoopBackOff', '{{ printf "back-off 20s restarting failed container=%s" .name | Quote }}')}${terminatedState('lastState', exitCode, reason, '$now')}`)}
`;

type Expression = { key: string; operator: string; values?: string[] };

/**
 * A kwok Stage: for objects of `kind` matching every expression, kwok applies `next` (after
 * `delay`, when given).
 */
function stage(name: string, kind: 'Pod' | 'Node', matchExpressions: Expression[], next: Record<string, unknown>, delay?: Record<string, unknown>): KubeObject {
  return {
    apiVersion: 'kwok.x-k8s.io/v1alpha1',
    kind: 'Stage',
    metadata: { name },
    spec: { resourceRef: { apiGroup: 'v1', kind }, selector: { matchExpressions }, ...(delay ? { delay } : {}), next },
  };
}

const notDeleted: Expression = { key: '.metadata.deletionTimestamp', operator: 'DoesNotExist' };
/** A pod kwok is to start: scheduled on a node, still Pending, not being deleted. */
const scheduledPending: Expression[] = [notDeleted, { key: '.spec.nodeName', operator: 'Exists' }, { key: '.status.phase', operator: 'In', values: ['Pending'] }];
/** A pod whose containers kwok has started, not being deleted. */
const running: Expression[] = [notDeleted, { key: '.status.phase', operator: 'In', values: ['Running'] }];
const failAs = `.metadata.annotations["${FAIL_AS_ANNOTATION}"]`;
const waitingReason = '.status.containerStatuses.[].state.waiting.reason';
const readyCondition = '.status.conditions.[] | select( .type == "Ready" ) | .status';

/**
 * The stage of a pod annotated fail-as `failure` whose containers keep exiting: Running, each
 * container waiting in CrashLoopBackOff, last terminated with `reason` and `exitCode`. The two
 * such failures differ only in those values, so they are written once.
 */
function crashLoopStage(name: string, failure: 'CrashLoopBackOff' | 'OOMKilled', reason: 'Error' | 'OOMKilled', exitCode: number, restarts: number, why: string): KubeObject {
  return stage(
    name,
    'Pod',
    [...running, { key: failAs, operator: 'In', values: [failure] }, { key: waitingReason, operator: 'NotIn', values: ['CrashLoopBackOff'] }],
    { statusTemplate: podCrashLoopTemplate(reason, exitCode, restarts), event: { type: 'Warning', reason: 'BackOff', message: `Back-off restarting failed container (simulated by kwok: ${why})` } },
  );
}

/** Every Stage kwok runs in the test control plane. */
export function kwokStages(): KubeObject[] {
  return [
    stage('node-initialize', 'Node', [{ key: readyCondition, operator: 'NotIn', values: ['True'] }], { statusTemplate: nodeStatusTemplate }),
    // Conditions are refreshed now and then as a kubelet does; liveness itself comes from
    // the node Lease that kwok renews (--node-lease-duration-seconds).
    stage(
      'node-heartbeat',
      'Node',
      [{ key: '.status.phase', operator: 'In', values: ['Running'] }, { key: readyCondition, operator: 'In', values: ['True'] }],
      { statusTemplate: nodeStatusTemplate },
      { durationMilliseconds: 60_000, jitterDurationMilliseconds: 90_000 },
    ),
    stage('pod-running', 'Pod', [...scheduledPending, { key: failAs, operator: 'NotIn', values: ['ImagePullBackOff'] }], { statusTemplate: podRunningTemplate }),
    stage(
      'pod-image-pull-backoff',
      'Pod',
      [...scheduledPending, { key: failAs, operator: 'In', values: ['ImagePullBackOff'] }, { key: waitingReason, operator: 'NotIn', values: ['ImagePullBackOff'] }],
      { statusTemplate: podImagePullBackOffTemplate, event: { type: 'Warning', reason: 'Failed', message: 'Error: ImagePullBackOff (simulated by kwok: the image is not there)' } },
    ),
    crashLoopStage('pod-crash-loop', 'CrashLoopBackOff', 'Error', 1, 3, 'it exits with 1'),
    crashLoopStage('pod-oom-killed', 'OOMKilled', 'OOMKilled', 137, 2, 'OOMKilled'),
    stage(
      'pod-ready',
      'Pod',
      [
        ...running,
        { key: readyCondition, operator: 'NotIn', values: ['True'] },
        { key: `.metadata.annotations["${NEVER_READY_ANNOTATION}"]`, operator: 'NotIn', values: ['true'] },
        { key: failAs, operator: 'NotIn', values: [...FAILURES] },
      ],
      { statusTemplate: podReadyTemplate },
      // A kubelet runs the first readiness probe after initialDelaySeconds; kwok cannot
      // probe, so the pod turns ready once the longest of those delays has passed.
      {
        durationMilliseconds: 0,
        durationFrom: { jq: { expression: '( [ .spec.containers[] | .readinessProbe.initialDelaySeconds // 0 ] | max | tostring ) + "s"' } },
      },
    ),
    stage(
      'pod-complete',
      'Pod',
      [...running, { key: readyCondition, operator: 'In', values: ['True'] }, { key: '.metadata.ownerReferences.[].kind', operator: 'In', values: ['Job'] }],
      { statusTemplate: podCompleteTemplate },
    ),
    // A kubelet removes a terminating pod once its containers stopped; kwok has none to stop.
    stage('pod-delete', 'Pod', [{ key: '.metadata.deletionTimestamp', operator: 'Exists' }], { delete: true }),
  ];
}

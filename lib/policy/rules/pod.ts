// Kubernetes Pod (data model §3): the security context every container runs with, and its
// resources. Checked on pod templates, with the container's settings overriding the pod's.
import type { Finding, Rule } from '../types.ts';
import { containersOf, podTemplates, type ContainerAt, type PodTemplate } from '../objects.ts';

/** The value a container runs with: its own securityContext first, then the pod's. */
function effective(t: PodTemplate, c: ContainerAt, key: string): unknown {
  const own = c.container.securityContext?.[key];
  return own !== undefined ? own : t.spec?.securityContext?.[key];
}

/** Where the effective value is set: the container's field, else the pod's, else the container's securityContext. */
function sourcePath(t: PodTemplate, c: ContainerAt, key: string): (string | number)[] {
  if (c.container.securityContext?.[key] !== undefined) return [...c.path, 'securityContext', key];
  if (t.spec?.securityContext?.[key] !== undefined) return [...t.path, 'spec', 'securityContext', key];
  return [...c.path, 'securityContext'];
}

/** The container's own securityContext field when it is written, else its securityContext. */
function containerField(c: ContainerAt, key: string): (string | number)[] {
  return c.container.securityContext?.[key] !== undefined ? [...c.path, 'securityContext', key] : [...c.path, 'securityContext'];
}

function eachContainer(objects: Parameters<Rule['check']>[0]['objects'], fn: (t: PodTemplate, c: ContainerAt) => Finding | Finding[] | undefined): Finding[] {
  const out: Finding[] = [];
  for (const t of podTemplates(objects)) {
    for (const c of containersOf(t)) {
      const r = fn(t, c);
      if (Array.isArray(r)) out.push(...r);
      else if (r) out.push(r);
    }
  }
  return out;
}

const runAsNonRoot: Rule = {
  id: 'pod/run-as-non-root',
  entity: 'pod',
  title: 'Containers run as a non-root user: runAsNonRoot true and an explicit runAsUser above 0.',
  fix: 'Set securityContext.runAsNonRoot: true and runAsUser: 1000 (pod or container level).',
  security: true,
  source: 'Must run as non-root (UID > 0)',
  equivalents: { kubeLinter: 'run-as-non-root', polaris: 'runAsRootAllowed', kubeScore: 'container-security-context-user-group-id' },
  check: ({ objects }) =>
    eachContainer(objects, (t, c) => {
      const nonRoot = effective(t, c, 'runAsNonRoot');
      const uid = effective(t, c, 'runAsUser');
      if (nonRoot !== true) return { target: t.owner, path: sourcePath(t, c, 'runAsNonRoot'), message: `container "${c.container.name}" does not set runAsNonRoot: true, so it may run as root.` };
      if (typeof uid !== 'number' || !Number.isInteger(uid) || uid <= 0) return { target: t.owner, path: sourcePath(t, c, 'runAsUser'), message: `container "${c.container.name}" has runAsUser ${JSON.stringify(uid)}; it needs an explicit UID above 0.` };
      return undefined;
    }),
};

const noPrivilegeEscalation: Rule = {
  id: 'pod/no-privilege-escalation',
  entity: 'pod',
  title: 'Containers set allowPrivilegeEscalation: false and are not privileged.',
  fix: 'Set securityContext.allowPrivilegeEscalation: false on every container and remove privileged: true.',
  security: true,
  source: 'Privilege escalation must be false',
  equivalents: { kubeLinter: 'privilege-escalation-container, privileged-container', polaris: 'privilegeEscalationAllowed, runAsPrivileged', kubeScore: 'container-security-context-privileged' },
  check: ({ objects }) =>
    eachContainer(objects, (t, c) => {
      const sc = c.container.securityContext ?? {};
      const out: Finding[] = [];
      if (sc.privileged === true) out.push({ target: t.owner, path: [...c.path, 'securityContext', 'privileged'], message: `container "${c.container.name}" is privileged.` });
      if (sc.allowPrivilegeEscalation !== false) out.push({ target: t.owner, path: containerField(c, 'allowPrivilegeEscalation'), message: `container "${c.container.name}" does not set allowPrivilegeEscalation: false (the default allows it).` });
      return out;
    }),
};

const readOnlyRootFs: Rule = {
  id: 'pod/read-only-root-fs',
  entity: 'pod',
  title: 'Containers mount their root filesystem read-only; writable paths come from volumes.',
  fix: 'Set securityContext.readOnlyRootFilesystem: true and mount an emptyDir where the program must write (e.g. /tmp).',
  security: false,
  source: 'Read-only root filesystem enforced (except specific writable volumes)',
  equivalents: { kubeLinter: 'no-read-only-root-fs', polaris: 'notReadOnlyRootFilesystem', kubeScore: 'container-security-context-readonlyrootfilesystem' },
  check: ({ objects }) =>
    eachContainer(objects, (t, c) =>
      c.container.securityContext?.readOnlyRootFilesystem === true
        ? undefined
        : { target: t.owner, path: containerField(c, 'readOnlyRootFilesystem'), message: `container "${c.container.name}" has a writable root filesystem.` },
    ),
};

// Volume types the kubelet always mounts read-only, and pod-scoped types that may be written.
const READ_ONLY_TYPES = ['secret', 'configMap', 'projected', 'downwardAPI'];
const WRITABLE_TYPES = ['emptyDir', 'ephemeral', 'persistentVolumeClaim'];

const writableVolumes: Rule = {
  id: 'pod/writable-volumes',
  entity: 'pod',
  title: 'Writable mounts come only from pod-scoped volumes (emptyDir, ephemeral, PVC); no hostPath.',
  fix: 'Replace the hostPath (or other node-level) volume with an emptyDir mounted only where writes are needed, or mount it readOnly.',
  security: false,
  source: 'Read-only root filesystem enforced (except specific writable volumes)',
  equivalents: { kubeLinter: 'sensitive-host-mounts, writable-host-mount', polaris: 'hostPathSet' },
  check({ objects }) {
    const out: Finding[] = [];
    for (const t of podTemplates(objects)) {
      const volumes: any[] = Array.isArray(t.spec?.volumes) ? t.spec.volumes : [];
      volumes.forEach((v, i) => {
        if (v?.hostPath) out.push({ target: t.owner, path: [...t.path, 'spec', 'volumes', i], message: `volume "${v.name}" is a hostPath, which exposes the node's filesystem.` });
      });
      for (const c of containersOf(t)) {
        (Array.isArray(c.container.volumeMounts) ? c.container.volumeMounts : []).forEach((m: any, i: number) => {
          if (m?.readOnly === true) return;
          const v = volumes.find((x) => x?.name === m?.name);
          if (!v) {
            out.push({ target: t.owner, path: [...c.path, 'volumeMounts', i], message: `container "${c.container.name}" mounts "${m?.name}", which is not a volume of the pod.` });
            return;
          }
          const type = Object.keys(v).find((k) => k !== 'name');
          if (type && !READ_ONLY_TYPES.includes(type) && !WRITABLE_TYPES.includes(type) && type !== 'hostPath') {
            out.push({ target: t.owner, path: [...c.path, 'volumeMounts', i], message: `container "${c.container.name}" mounts ${type} volume "${m.name}" writable at ${m.mountPath}.` });
          }
        });
      }
    }
    return out;
  },
};

/** The one capability an unprivileged web server may need (to bind ports below 1024). */
const ALLOWED_ADDS = ['NET_BIND_SERVICE'];

const dropAllCapabilities: Rule = {
  id: 'pod/drop-capabilities',
  entity: 'pod',
  title: 'Containers drop ALL Linux capabilities and add back none except NET_BIND_SERVICE.',
  fix: 'Set securityContext.capabilities.drop: [ALL] and remove added capabilities.',
  security: true,
  source: 'All capabilities dropped except explicitly needed',
  equivalents: { kubeLinter: 'drop-net-raw-capability', polaris: 'insecureCapabilities, dangerousCapabilities' },
  check: ({ objects }) =>
    eachContainer(objects, (t, c) => {
      const caps = c.container.securityContext?.capabilities ?? {};
      const out: Finding[] = [];
      const drop = Array.isArray(caps.drop) ? caps.drop.map(String) : [];
      if (!drop.includes('ALL')) out.push({ target: t.owner, path: containerField(c, 'capabilities'), message: `container "${c.container.name}" does not drop ALL capabilities.` });
      const extra = (Array.isArray(caps.add) ? caps.add.map(String) : []).filter((x: string) => !ALLOWED_ADDS.includes(x));
      if (extra.length > 0) out.push({ target: t.owner, path: [...c.path, 'securityContext', 'capabilities', 'add'], message: `container "${c.container.name}" adds capabilities ${extra.join(', ')}.` });
      return out;
    }),
};

const seccomp: Rule = {
  id: 'pod/seccomp-runtime-default',
  entity: 'pod',
  title: 'Containers run under the RuntimeDefault (or a Localhost) seccomp profile.',
  fix: 'Set securityContext.seccompProfile.type: RuntimeDefault on the pod.',
  security: false,
  source: 'Pod securityContext hardening (data model §3 attributes; issue: seccomp RuntimeDefault)',
  equivalents: { polaris: 'linuxHardening', kubeScore: 'container-seccomp-profile' },
  check: ({ objects }) =>
    eachContainer(objects, (t, c) => {
      const type = (effective(t, c, 'seccompProfile') as any)?.type;
      return type === 'RuntimeDefault' || type === 'Localhost'
        ? undefined
        : { target: t.owner, path: sourcePath(t, c, 'seccompProfile'), message: `container "${c.container.name}" runs with seccomp profile ${type ?? 'unset (Unconfined on most runtimes)'}.` };
    }),
};

const resources: Rule = {
  id: 'pod/resources',
  entity: 'pod',
  title: 'Every container requests and limits both CPU and memory.',
  fix: 'Add resources.requests and resources.limits for cpu and memory.',
  security: false,
  source: 'Resource requests and limits defined',
  equivalents: { kubeLinter: 'unset-cpu-requirements, unset-memory-requirements', polaris: 'cpuRequestsMissing, cpuLimitsMissing, memoryRequestsMissing, memoryLimitsMissing', kubeScore: 'container-resources' },
  check: ({ objects }) =>
    eachContainer(objects, (t, c) => {
      const r = c.container.resources ?? {};
      const missing = [
        ...['cpu', 'memory'].filter((k) => r.requests?.[k] === undefined).map((k) => `requests.${k}`),
        ...['cpu', 'memory'].filter((k) => r.limits?.[k] === undefined).map((k) => `limits.${k}`),
      ];
      return missing.length > 0 ? { target: t.owner, path: [...c.path], message: `container "${c.container.name}" lacks ${missing.join(', ')}.` } : undefined;
    }),
};


/** The pod fields that put its containers in a namespace of the node, with what that exposes. */
const HOST_NAMESPACES: Record<string, string> = {
  hostNetwork: "the node's network: its interfaces, its loopback services and every port on it, past every NetworkPolicy",
  hostPID: "the node's process table: every process on the node can be seen and signalled",
  hostIPC: "the node's IPC namespace: shared memory and semaphores of every process on the node",
};

const noHostNamespaces: Rule = {
  id: 'pod/no-host-namespaces',
  entity: 'pod',
  title: "Pods keep their own network, PID and IPC namespaces: hostNetwork, hostPID and hostIPC are not set.",
  fix: 'Remove hostNetwork, hostPID and hostIPC from the pod spec (or set them to false); expose ports through a Service.',
  security: true,
  source: "Pod securityContext hardening (issue: pods must not share the host's network, PID or IPC namespaces)",
  equivalents: { kubeLinter: 'host-network, host-pid, host-ipc', polaris: 'hostNetworkSet, hostPIDSet, hostIPCSet' },
  check({ objects }) {
    const out: Finding[] = [];
    for (const t of podTemplates(objects)) {
      for (const [field, exposes] of Object.entries(HOST_NAMESPACES)) {
        if (t.spec?.[field] === true) out.push({ target: t.owner, path: [...t.path, 'spec', field], message: `the pod sets ${field}: true, so its containers share ${exposes}.` });
      }
    }
    return out;
  },
};

export const podRules: Rule[] = [runAsNonRoot, noPrivilegeEscalation, readOnlyRootFs, writableVolumes, dropAllCapabilities, seccomp, resources, noHostNamespaces];

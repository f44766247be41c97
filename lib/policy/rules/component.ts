// Application Component (data model §2): the deployable services as their Deployments and
// Services describe them: images, ports, resources, health checks and the Dapr sidecar.
import type { Finding, Rule } from '../types.ts';
import { DNS1123_LABEL, asArray, containersOf, isEmptySelector, ofKind, parseImage, parseQuantity, podTemplates, selectorMatches, type LabelSelector, type Path } from '../objects.ts';

// A version tag: semver, also MAJOR.MINOR because database images (postgres:16.6-alpine) publish
// no three-part tags; a suffix (-alpine) is semver's pre-release part. Or a commit/content SHA.
const VERSION_TAG = /^v?\d+\.\d+(\.\d+)?(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$/;
const SHA_TAG = /^[0-9a-f]{7,64}$/;
const DIGEST = /^sha256:[0-9a-f]{64}$/;

export function imageTagProblem(image: unknown): string | undefined {
  if (typeof image !== 'string' || image.trim() === '') return 'has no image';
  const ref = parseImage(image);
  if (ref.digest !== undefined) return DIGEST.test(ref.digest) ? undefined : `image "${image}" has a malformed digest`;
  if (ref.tag === undefined) return `image "${image}" has no tag, which means latest`;
  if (ref.tag === 'latest') return `image "${image}" uses the tag latest, which names no fixed image`;
  if (!VERSION_TAG.test(ref.tag) && !SHA_TAG.test(ref.tag)) return `image "${image}" has tag "${ref.tag}", which is neither a version nor a commit SHA`;
  return undefined;
}

const imageTag: Rule = {
  id: 'component/image-tag',
  entity: 'component',
  title: 'Images are pinned: a semver tag or a commit SHA (or a digest), never latest or no tag.',
  fix: 'Use a tag like 1.4.2, 16.6-alpine or a commit SHA like 3f9a1c2 (the pipeline derives one when it builds).',
  security: false,
  source: 'Image tag must be semver or commit SHA (not "latest")',
  equivalents: { kubeLinter: 'latest-tag', polaris: 'tagNotSpecified', kubeScore: 'container-image-tag' },
  check({ objects }) {
    const out: Finding[] = [];
    for (const t of podTemplates(objects)) {
      for (const c of containersOf(t)) {
        const problem = imageTagProblem(c.container.image);
        if (problem) out.push({ target: t.owner, path: [...c.path, 'image'], message: `container "${c.container.name}" ${problem}.` });
      }
    }
    return out;
  },
};

function badPort(value: unknown): boolean {
  return typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > 65535;
}

const portRange: Rule = {
  id: 'component/port-range',
  entity: 'component',
  title: 'Container and Service ports are whole numbers from 1 to 65535.',
  fix: 'Use a port number between 1 and 65535 (3000 frontend, 8000 backend, 8080 mcp-server).',
  security: false,
  source: 'Ports must be 1-65535',
  check({ objects }) {
    const out: Finding[] = [];
    for (const t of podTemplates(objects)) {
      for (const c of containersOf(t)) {
        asArray(c.container.ports).forEach((p: any, i) => {
          for (const field of ['containerPort', 'hostPort'] as const) {
            if (field === 'hostPort' && p?.hostPort === undefined) continue;
            if (badPort(p?.[field])) out.push({ target: t.owner, path: [...c.path, 'ports', i, field], message: `container "${c.container.name}" ${field} ${JSON.stringify(p?.[field])} is not in 1-65535.` });
          }
        });
      }
    }
    for (const s of ofKind(objects, 'Service')) {
      asArray(s.object.spec?.ports).forEach((p: any, i) => {
        if (badPort(p?.port)) out.push({ target: s, path: ['spec', 'ports', i, 'port'], message: `port ${JSON.stringify(p?.port)} is not in 1-65535.` });
        if (typeof p?.targetPort === 'number' && badPort(p.targetPort)) out.push({ target: s, path: ['spec', 'ports', i, 'targetPort'], message: `targetPort ${p.targetPort} is not in 1-65535.` });
      });
    }
    return out;
  },
};

const requestsWithinLimits: Rule = {
  id: 'component/requests-within-limits',
  entity: 'component',
  title: 'Resource requests are valid quantities and never exceed the limits.',
  fix: 'Lower the request or raise the limit so that requests <= limits (e.g. cpu 100m/500m, memory 128Mi/256Mi).',
  security: false,
  source: 'Resources: requests <= limits',
  check({ objects }) {
    const out: Finding[] = [];
    for (const t of podTemplates(objects)) {
      for (const c of containersOf(t)) {
        const req = c.container.resources?.requests ?? {};
        const lim = c.container.resources?.limits ?? {};
        for (const [section, values] of [['requests', req], ['limits', lim]] as const) {
          for (const [res, q] of Object.entries(values)) {
            if (parseQuantity(q) === undefined) out.push({ target: t.owner, path: [...c.path, 'resources', section, res], message: `container "${c.container.name}" ${section}.${res} "${q}" is not a quantity.` });
          }
        }
        for (const res of Object.keys(req)) {
          const r = parseQuantity(req[res]);
          const l = parseQuantity(lim[res]);
          if (r !== undefined && l !== undefined && r > l) {
            out.push({ target: t.owner, path: [...c.path, 'resources', 'requests', res], message: `container "${c.container.name}" requests ${res} ${req[res]}, more than its limit ${lim[res]}.` });
          }
        }
      }
    }
    return out;
  },
};

const PROBES = ['livenessProbe', 'readinessProbe', 'startupProbe'] as const;

const probePath: Rule = {
  id: 'component/probe-path',
  entity: 'component',
  title: 'HTTP health-check paths start with "/".',
  fix: 'Write the probe path as an absolute path, e.g. /healthz.',
  security: false,
  source: 'Health check paths must start with /',
  check({ objects }) {
    const out: Finding[] = [];
    for (const t of podTemplates(objects)) {
      for (const c of containersOf(t)) {
        for (const probe of PROBES) {
          const path = c.container[probe]?.httpGet?.path;
          if (path !== undefined && !(typeof path === 'string' && path.startsWith('/'))) {
            out.push({ target: t.owner, path: [...c.path, probe, 'httpGet', 'path'], message: `container "${c.container.name}" ${probe} path ${JSON.stringify(path)} does not start with "/".` });
          }
        }
      }
    }
    return out;
  },
};

const probesDefined: Rule = {
  id: 'component/probes',
  entity: 'component',
  title: 'Every long-running container has a liveness and a readiness probe.',
  fix: 'Add livenessProbe (e.g. httpGet /healthz) and readinessProbe (e.g. httpGet /readyz) to the container.',
  security: false,
  source: 'healthCheck.livenessProbe / readinessProbe (Application Component attributes)',
  equivalents: { kubeLinter: 'no-liveness-probe, no-readiness-probe', polaris: 'livenessProbeMissing, readinessProbeMissing', kubeScore: 'pod-probes' },
  check({ objects }) {
    const out: Finding[] = [];
    for (const t of podTemplates(objects)) {
      if (['Job', 'CronJob'].includes(t.owner.object.kind)) continue;
      for (const c of containersOf(t)) {
        if (c.init) continue;
        const missing = ['livenessProbe', 'readinessProbe'].filter((p) => !c.container[p]);
        if (missing.length > 0) out.push({ target: t.owner, path: c.path, message: `container "${c.container.name}" has no ${missing.join(' and no ')}.` });
      }
    }
    return out;
  },
};

const daprAnnotations: Rule = {
  id: 'component/dapr-annotations',
  entity: 'component',
  title: 'A Dapr-enabled pod names its app id, an app port its container listens on, and its Dapr Configuration.',
  fix: 'Annotate the pod template with dapr.io/enabled "true", dapr.io/app-id, dapr.io/app-port (a containerPort) and dapr.io/config, all as quoted strings.',
  security: false,
  source: 'Has one (optional): Dapr Sidecar; issue: dapr.io/enabled, app-id, app-port, config on the backend',
  check({ objects }) {
    const out: Finding[] = [];
    for (const t of podTemplates(objects)) {
      const a = t.annotations;
      const base: Path = [...t.path, 'metadata', 'annotations'];
      const daprKeys = Object.keys(a).filter((k) => k.startsWith('dapr.io/'));
      for (const k of daprKeys) {
        if (typeof a[k] !== 'string') out.push({ target: t.owner, path: [...base, k], message: `annotation ${k} is ${JSON.stringify(a[k])}, not a string; the API server refuses it.`, fix: `Quote the value, e.g. ${k}: "${a[k]}".` });
      }
      if (a['dapr.io/enabled'] !== 'true') continue;
      const appId = a['dapr.io/app-id'];
      if (typeof appId !== 'string' || !DNS1123_LABEL.test(appId)) out.push({ target: t.owner, path: base, message: `dapr.io/app-id ${JSON.stringify(appId)} is missing or not a DNS label.` });
      const ports = containersOf(t).flatMap((c) => asArray(c.container.ports).map((p: any) => p?.containerPort));
      const appPort = a['dapr.io/app-port'];
      if (appPort === undefined || !ports.includes(Number(appPort))) out.push({ target: t.owner, path: base, message: `dapr.io/app-port ${JSON.stringify(appPort)} is not a containerPort of the pod (${ports.join(', ') || 'none'}).` });
      if (typeof a['dapr.io/config'] !== 'string' || a['dapr.io/config'] === '') out.push({ target: t.owner, path: base, message: 'dapr.io/config is missing, so the sidecar would run without the namespace Dapr Configuration.' });
    }
    return out;
  },
};

// Workloads whose spec.selector must select their own pod template. A Job's selector is usually
// generated by the API server, so it is checked only when the manifest writes one.
const SELECTOR_REQUIRED = ['Deployment', 'StatefulSet', 'DaemonSet', 'ReplicaSet'];

const selectorMatchesTemplate: Rule = {
  id: 'component/selector-matches-template',
  entity: 'component',
  title: "A workload's spec.selector is set and matches its pod template's labels.",
  fix: 'Make spec.selector.matchLabels a subset of spec.template.metadata.labels, e.g. app.kubernetes.io/name: <component> in both.',
  security: false,
  source: 'Issue: a workload whose selector does not match its pod template is refused (the API server rejects it only at apply time)',
  equivalents: { kubeLinter: 'mismatching-selector', kubeScore: 'deployment-pod-selector-labels-match-template-metadata-labels, statefulset-pod-selector-labels-match-template-metadata-labels' },
  check({ objects }) {
    const out: Finding[] = [];
    for (const t of podTemplates(objects)) {
      const kind = t.owner.object.kind;
      const selector = t.owner.object.spec?.selector as LabelSelector | undefined;
      if (kind === 'Pod' || kind === 'CronJob' || (kind === 'Job' && selector === undefined)) continue;
      if (isEmptySelector(selector)) {
        if (SELECTOR_REQUIRED.includes(kind)) out.push({ target: t.owner, path: ['spec', ...(selector === undefined ? [] : ['selector'])], message: `${kind} has no spec.selector (or an empty one), which apps/v1 refuses.` });
        continue;
      }
      if (!selectorMatches(selector, t.labels)) {
        const shown = JSON.stringify(selector?.matchLabels ?? selector?.matchExpressions ?? {});
        out.push({ target: t.owner, path: ['spec', 'selector'], message: `spec.selector ${shown} does not select the pod template's labels ${JSON.stringify(t.labels)}, so the ${kind} would own none of its own pods.` });
      }
    }
    return out;
  },
};

export const componentRules: Rule[] = [imageTag, portRange, requestsWithinLimits, probePath, probesDefined, daprAnnotations, selectorMatchesTemplate];

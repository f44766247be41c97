// Dapr Configuration (data model §11): mTLS on, a certificate lifetime that rotates neither too
// often nor too rarely, clock skew that tolerates a laptop VM's drift, and sidecars that use it.
import type { Finding, Rule, RuleInput } from '../types.ts';
import { findByName, namespaceOf, ofKind, parseDuration, podTemplates } from '../objects.ts';

const HOUR = 3_600_000;
const MINUTE = 60_000;
/** Shorter than an hour, rotations pile up and a sidecar that misses one loses its identity. */
export const MIN_CERT_TTL = HOUR;
/** Longer than 30 days, a leaked workload certificate stays valid too long. */
export const MAX_CERT_TTL = 720 * HOUR;
/** A suspended laptop VM drifts by minutes; below 5m, fresh certificates look not-yet-valid. */
export const MIN_CLOCK_SKEW = 5 * MINUTE;

const configurations = (objects: RuleInput['objects']) => ofKind(objects, 'Configuration').filter((s) => String(s.object.apiVersion).startsWith('dapr.io/'));

const mtlsEnabled: Rule = {
  id: 'dapr-configuration/mtls-enabled',
  entity: 'dapr-configuration',
  title: 'Dapr Configurations enable mTLS between sidecars.',
  fix: 'Set spec.mtls.enabled: true.',
  security: true,
  source: 'mTLS must be enabled (security requirement)',
  check: ({ objects }) =>
    configurations(objects)
      .filter((s) => s.object.spec?.mtls?.enabled !== true)
      .map((s) => ({ target: s, path: ['spec', 'mtls'], message: `mtls.enabled is ${JSON.stringify(s.object.spec?.mtls?.enabled ?? null)}, so sidecar traffic would be unencrypted and unauthenticated.` })),
};

const certTtl: Rule = {
  id: 'dapr-configuration/cert-ttl',
  entity: 'dapr-configuration',
  title: 'mtls.workloadCertTTL is set and between 1h and 720h (24h recommended).',
  fix: 'Set spec.mtls.workloadCertTTL: "24h".',
  security: false,
  source: 'Certificate TTL must be reasonable (not too short to cause rotation issues)',
  check({ objects }) {
    const out: Finding[] = [];
    for (const s of configurations(objects)) {
      const raw = s.object.spec?.mtls?.workloadCertTTL;
      const ms = parseDuration(raw);
      if (ms === undefined) out.push({ target: s, path: ['spec', 'mtls'], message: `workloadCertTTL ${JSON.stringify(raw ?? null)} is missing or not a duration like "24h".` });
      else if (ms < MIN_CERT_TTL || ms > MAX_CERT_TTL) out.push({ target: s, path: ['spec', 'mtls', 'workloadCertTTL'], message: `workloadCertTTL ${raw} is outside 1h-720h.` });
    }
    return out;
  },
};

const clockSkew: Rule = {
  id: 'dapr-configuration/clock-skew',
  entity: 'dapr-configuration',
  title: 'mtls.allowedClockSkew is at least 5m and shorter than the certificate TTL (15m recommended).',
  fix: 'Set spec.mtls.allowedClockSkew: "15m".',
  security: false,
  source: 'Clock skew must account for local environment drift',
  check({ objects }) {
    const out: Finding[] = [];
    for (const s of configurations(objects)) {
      const raw = s.object.spec?.mtls?.allowedClockSkew;
      const ms = parseDuration(raw);
      const ttl = parseDuration(s.object.spec?.mtls?.workloadCertTTL);
      if (ms === undefined) out.push({ target: s, path: ['spec', 'mtls'], message: `allowedClockSkew ${JSON.stringify(raw ?? null)} is missing or not a duration like "15m".` });
      else if (ms < MIN_CLOCK_SKEW) out.push({ target: s, path: ['spec', 'mtls', 'allowedClockSkew'], message: `allowedClockSkew ${raw} is under 5m; a drifting local VM would reject fresh certificates.` });
      else if (ttl !== undefined && ms >= ttl) out.push({ target: s, path: ['spec', 'mtls', 'allowedClockSkew'], message: `allowedClockSkew ${raw} is not shorter than workloadCertTTL ${s.object.spec.mtls.workloadCertTTL}.` });
    }
    return out;
  },
};

const referenced: Rule = {
  id: 'dapr-configuration/referenced',
  entity: 'dapr-configuration',
  title: "A pod's dapr.io/config names a Dapr Configuration declared in its namespace.",
  fix: 'Set dapr.io/config: dapr-config and keep 30-dapr-config.yaml in the manifests.',
  security: false,
  source: 'Applied to: all Dapr sidecars in namespace',
  check({ objects }) {
    const out: Finding[] = [];
    for (const t of podTemplates(objects)) {
      const name = t.annotations['dapr.io/config'];
      if (t.annotations['dapr.io/enabled'] !== 'true' || typeof name !== 'string' || name === '') continue;
      if (!findByName(objects, 'Configuration', name, namespaceOf(t.owner))) {
        out.push({ target: t.owner, path: [...t.path, 'metadata', 'annotations'], message: `dapr.io/config names "${name}", which is not a Dapr Configuration in namespace ${namespaceOf(t.owner) ?? '(none)'}.` } as Finding);
      }
    }
    return out;
  },
};

export const daprConfigurationRules: Rule[] = [mtlsEnabled, certTtl, clockSkew, referenced];

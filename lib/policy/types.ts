// The policy gate's vocabulary. Rules are pure functions over the rendered objects plus a small
// context; the engine turns their findings into violations, applies exceptions and formats.
import type { Environment } from '../config.ts';
import type { SourcedObject } from '../types.ts';

/** The data-model entities a rule belongs to (Helm Release is out of scope: there is no Helm). */
export const ENTITIES = [
  'config',
  'component',
  'pod',
  'service',
  'ingress',
  'serviceaccount',
  'rbac',
  'networkpolicy',
  'secret',
  'dapr-component',
  'dapr-configuration',
  'policy',
  'server',
] as const;
export type Entity = (typeof ENTITIES)[number];

export interface PolicyContext {
  environment: Environment;
  /**
   * Every file of the manifest folder(s) as labelled in SourcedObject.file. A Secret whose file is
   * one of them is committed to the repository; the Secret the pipeline builds from .env is not.
   */
  manifestFiles: readonly string[];
  /** The keys todo-secrets carries; secretKeyRefs to it must name one of them. */
  secretKeys: readonly string[];
  /** Name of the Secret the pipeline creates outside the manifests. Default todo-secrets. */
  secretName?: string;
  /** The configured namespace (NAMESPACE): the one Namespace the stack creates and every object lives in. */
  namespace: string;
}

/** What a rule's check sees: the whole object set (cross-object rules need it) and the context. */
export interface RuleInput extends PolicyContext {
  objects: readonly SourcedObject[];
}

/** A rule's raw result: the object at fault, what is wrong, optionally where inside it. */
export interface Finding {
  target: SourcedObject;
  message: string;
  /** Path inside the object (keys and array indexes), used to point at the exact line. */
  path?: readonly (string | number)[];
  /** Overrides the rule's generic fix when the finding knows better. */
  fix?: string;
}

export interface Equivalents {
  kubeLinter?: string;
  polaris?: string;
  kubeScore?: string;
}

export interface Rule {
  /** entity/short-name, e.g. pod/run-as-non-root. */
  id: string;
  entity: Entity;
  /** One line: what the rule requires. */
  title: string;
  /** One line: how to comply. */
  fix: string;
  /** Security rules cannot be excepted in prod. */
  security: boolean;
  /**
   * False for rules no exception may lift in any environment: those that keep `down` able to
   * remove everything `up` made (an object outside the configured namespace would outlive it).
   */
  exceptable?: false;
  /** The data-model validation rule (or issue requirement) this enforces, quoted loosely. */
  source: string;
  /** Matching checks of widely used linters, where one exists. */
  equivalents?: Equivalents;
  check(input: RuleInput): Finding[];
}

export interface Violation {
  ruleId: string;
  /** kind/namespace/name, or kind/name for cluster-scoped objects. */
  object: string;
  file: string;
  line: number;
  message: string;
  fix: string;
  security: boolean;
  path?: readonly (string | number)[];
}

/** A violation that an annotated exception on its object allowed. */
export interface ExceptedViolation extends Violation {
  reason: string;
}

export interface PolicyResult {
  violations: Violation[];
  exceptions: ExceptedViolation[];
  /** How many rules ran and how many objects they saw, for the summary line. */
  rulesChecked: number;
  objectsChecked: number;
}

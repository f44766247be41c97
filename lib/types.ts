// Shapes shared by every part of the pipeline. Kept free of runtime code so that
// pure modules (order, policy, readiness) can import them without pulling in I/O.

/** A Kubernetes object as parsed from YAML or read from the API: only the envelope is typed. */
export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    resourceVersion?: string;
    generation?: number;
    uid?: string;
    [key: string]: unknown;
  };
  spec?: any;
  status?: any;
  [key: string]: any;
}

/** An object rendered from a manifest file, with where it came from (for errors and reports). */
export interface SourcedObject {
  object: KubeObject;
  /** Path relative to the repository root (or to the folder given by --manifests). */
  file: string;
  /** 1-based line of the document's first line in that file. */
  line: number;
}

/** The three workloads, by the key Config.images, image refs and lib/images' COMPONENTS use. */
export type ComponentKey = 'frontend' | 'backend' | 'mcpServer';

/** The in-cluster stores (PostgreSQL, Redis), built by the pipeline too: nothing is pulled. */
export type StoreKey = 'postgres' | 'redis';

/** Every image the build step makes: the workloads and the stores (lib/images' IMAGES). */
export type ImageKey = ComponentKey | StoreKey;

/** Full image references (repository:tag) of every image: what the manifests are rendered with. */
export type ImageRefs = Record<ImageKey, string>;

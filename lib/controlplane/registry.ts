// The sandbox's image registry: the CNCF Distribution registry (cmd/registry, built by
// build/build.sh as the `registry` group), so the prod path can run here as on a real cluster:
// images built, pushed with `docker push`, pulled by the nodes' containerd.
//
// Two processes serve one store (<plane>/registry/storage), because the two clients reach the
// host differently and both must use plain HTTP:
//
//   push   127.0.0.1:<port>, read-write: Docker pushes there. Docker talks plain HTTP only to a
//          registry on a loopback address (or one listed in the engine's insecure-registries,
//          which a shared engine cannot be asked to change), so REGISTRY is 127.0.0.1:<port>.
//   nodes  <host end of the nodes' veths>:<port>, read-only: the nodes' containerd pulls there.
//          A node's 127.0.0.1 is its own, so its containerd maps the registry's name
//          127.0.0.1:<port> to this address (hosts.toml for that name only, plain HTTP).
//
// Image references therefore name one registry, 127.0.0.1:<port>, on both sides, and the digest
// a node pulls is the one Docker pushed. Nothing listens on another address.
//
// Pure values and renderings here; index.ts starts the processes with the plane's.

import { join } from 'node:path';
import { stringify } from 'yaml';

export interface RegistryLayout {
  /** <plane>/registry: removed with the plane's folder. */
  dir: string;
  /** The store both processes serve (the filesystem driver's root). */
  storage: string;
  pushConfig: string;
  nodesConfig: string;
}

/**
 * True for a registry process of a plane (`registry serve <plane>/registry/<name>.yml`): it holds
 * no node, so a plane whose other programs are gone is abandoned all the same, and its sweep
 * ends the registry with the rest. Pure.
 */
export function isPlaneRegistry(cmdline: string): boolean {
  const [program, verb, config] = cmdline.trim().split(' ');
  return /(^|\/)registry$/.test(program ?? '') && verb === 'serve' && /\/registry\/[^/]+\.yml$/.test(config ?? '');
}

export function registryLayoutFor(planeDir: string): RegistryLayout {
  const dir = join(planeDir, 'registry');
  return { dir, storage: join(dir, 'storage'), pushConfig: join(dir, 'push.yml'), nodesConfig: join(dir, 'nodes.yml') };
}

/** Where the registry answers: `host:port` for Docker (push) and for the nodes (pull). */
export interface RegistryEndpoints {
  /** 127.0.0.1:<port>: the registry's name in every image reference (REGISTRY). */
  push: string;
  /** <host address>:<port>, read-only, where the nodes' containerd is sent for that name; absent without real nodes. */
  nodes?: string;
}

export function registryEndpoints(port: number, hostAddress?: string): RegistryEndpoints {
  return { push: `127.0.0.1:${port}`, ...(hostAddress ? { nodes: `${hostAddress}:${port}` } : {}) };
}

export interface RegistryConfigInput {
  /** host:port to listen on. */
  addr: string;
  storage: string;
  /** The nodes' endpoint refuses writes: only Docker pushes, through the other one. */
  readOnly: boolean;
  /** Signs upload state (random per plane; only the push endpoint takes uploads). */
  secret: string;
}

/** A registry configuration file (Distribution's YAML, version 0.1). Pure. */
export function registryConfig(input: RegistryConfigInput): string {
  return stringify({
    version: 0.1,
    // Requests are not logged (every layer of every push would be a line); problems are.
    log: { level: 'warn', formatter: 'text', accesslog: { disabled: true } },
    storage: {
      filesystem: { rootdirectory: input.storage },
      // Two processes share the store: no in-memory cache that one of them could hold stale,
      // no purge of uploads by the endpoint that takes none, no deletes (tags are immutable here).
      delete: { enabled: false },
      maintenance: { uploadpurging: { enabled: false }, readonly: { enabled: input.readOnly } },
    },
    http: { addr: input.addr, secret: input.secret, headers: { 'X-Content-Type-Options': ['nosniff'] } },
    health: { storagedriver: { enabled: false } },
  });
}

/**
 * The environment the registry runs with: its OpenTelemetry exporter would otherwise send
 * traces to localhost:4318 and log each failure. Pure.
 */
export function registryEnv(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return { ...env, OTEL_TRACES_EXPORTER: 'none', OTEL_METRICS_EXPORTER: 'none', OTEL_LOGS_EXPORTER: 'none' };
}

/** containerd's hosts.toml folder name for a registry `host:port` (containerd's config_path layout). Pure. */
export function hostsDirName(registry: string): string {
  return registry;
}

/**
 * hosts.toml for the registry's name, on the nodes: the nodes' endpoint is its server, over
 * plain HTTP (no mirror section: a mirror would fall back to https://127.0.0.1:<port>, which
 * inside a node is nothing, and its error would hide the real one). Only this name gets a
 * file; every other registry keeps containerd's defaults. Pure.
 */
export function containerdHostsToml(endpoints: Required<RegistryEndpoints>): string {
  return `# The sandbox's registry (written by lib/controlplane/registry.ts): images named
# ${endpoints.push}/... are pulled from ${endpoints.nodes}, plain HTTP (read-only there).
server = "http://${endpoints.nodes}"
`;
}

/** The registry API's base check (`GET /v2/` answers 200 on an open registry). Pure. */
export function registryApiUrl(endpoint: string): string {
  return `http://${endpoint}/v2/`;
}

// The test command's suites, cheapest first, and what each needs of the machine. A module of
// its own so tests can read the list without running the command.

export interface Suite {
  name: string;
  dir: string;
  /** uvu file pattern, relative to dir. */
  pattern?: string;
}

/** The Debian package groups of test/system.ts each suite needs (docker: also a running engine). */
export const SUITES_NEEDING: Record<string, readonly string[]> = {
  postgres: ['backend', 'mcp-server', 'frontend', 'browser', 'prod-path'],
  browser: ['browser'],
  docker: ['images', 'real-node', 'prod-path'],
  // The suites whose preparation runs the sandbox build (test/run.ts, controlPlane).
  sandbox: ['unit', 'integration', 'real-node', 'prod-path'],
  // The real node's host tools (network namespace, veth, routes; its client certificate).
  node: ['real-node', 'prod-path'],
  // up and down on a real terminal (test/integration/terminal.test.ts).
  terminal: ['integration'],
};

/** Every suite, cheapest first. A suite whose folder does not exist yet is reported, not hidden. */
export const SUITES: Suite[] = [
  { name: 'unit', dir: 'test/unit' },
  { name: 'providers', dir: 'test/providers' },
  { name: 'bench', dir: 'bench/test' },
  { name: 'chart', dir: 'test/chart' },
  { name: 'backend', dir: 'apps/backend/test' },
  { name: 'mcp-server', dir: 'apps/mcp-server/test' },
  { name: 'frontend', dir: 'apps/frontend/test' },
  { name: 'browser', dir: 'test/browser' },
  { name: 'integration', dir: 'test/integration' },
  { name: 'images', dir: 'test/images' },
  // A real kubelet and containerd on this machine (Linux, root): after images, whose offline
  // base it reuses.
  { name: 'real-node', dir: 'test/real-node' },
  // Two real nodes and the sandbox's image registry: `up --env prod --cluster current` pushes,
  // the nodes pull. After real-node, in its lane (LANES): one real node per machine, so the two
  // never run at once; it pushes the images real-node built (built once, then skipped).
  { name: 'prod-path', dir: 'test/prod-path' },
];

/**
 * The suites in lanes: the lanes run at once, each running its suites in turn. Most suites
 * mostly wait (the integration suite on its control planes' start and on kwok's readiness
 * delays, real-node on its containers and probes), a quarter of 2 cores each: one after
 * another, the suites took 14 of a warm CI run's 20 minutes. Integration, the longest, has a
 * lane of its own; everything that uses Docker or the real node is in the other lane, in
 * order (real-node reuses the offline base the images suite builds). Integration shares
 * nothing with it that a suite needs alone: its control planes have free ports and their own
 * folders, its sandboxes their own state files and simulated pods (no real node), and the
 * real node's host checks leave other suites' processes and Docker's containers out.
 */
export const LANES: readonly (readonly string[])[] = [
  ['integration'],
  ['unit', 'providers', 'bench', 'chart', 'backend', 'mcp-server', 'frontend', 'browser', 'images', 'real-node', 'prod-path'],
];

/**
 * The lanes for a run of these suites, each in SUITES order, empty lanes left out; one lane
 * with every suite when `serial` (one suite at a time, as before lanes: for timing one suite
 * or reading one suite's output undisturbed). Pure.
 */
export function lanesFor(names: readonly string[], serial: boolean): string[][] {
  const ordered = SUITES.map((s) => s.name).filter((n) => names.includes(n));
  if (serial) return ordered.length ? [ordered] : [];
  return LANES.map((lane) => ordered.filter((n) => lane.includes(n))).filter((lane) => lane.length > 0);
}

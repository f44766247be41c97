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
  postgres: ['backend', 'mcp-server', 'frontend', 'browser'],
  browser: ['browser'],
  docker: ['images', 'real-node'],
  // The suites whose preparation runs the sandbox build (test/run.ts, controlPlane).
  sandbox: ['unit', 'integration', 'real-node'],
  // The real node's host tools (network namespace, veth, routes; its client certificate).
  node: ['real-node'],
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
];


// Installs the recording stand-ins (test/fakes/fake-*) under the real tools' names in a
// temporary bin folder and reads back what they were asked. The bin folder holds only the
// chosen fakes plus `node` (their interpreter) and `bash` (zx's shell), so a tool left out is
// really missing, whatever the machine has installed.
//
//   const bin = fakeBin(['minikube', 'docker']);
//   bin.setState({ minikube: { todo: 'Running' } });
//   process.env.PATH = bin.path;            // or bin.env() for a child process
//   ...
//   bin.calls('minikube')                   // [['status', '-p', 'todo', '-o', 'json'], ...]
//   bin.cleanup();
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { execFileSync } from 'node:child_process';
// zx finds bash on PATH once, when it is first loaded, and keeps that path for every later
// command. The product loads zx lazily, so without this the first suite to put its fakes on
// PATH would fix zx's shell to that suite's bin folder, and every command of the suites after
// it fails to start (exit -2) once the folder is removed. Loading zx here, with the real PATH,
// keeps its shell the machine's bash (the same one the bin folders link to).
import 'zx';

const here = path.dirname(fileURLToPath(import.meta.url));

export type FakeTool = 'minikube' | 'kind' | 'helm' | 'dapr' | 'docker';

export interface Call {
  tool: FakeTool;
  argv: string[];
  KUBECONFIG?: string;
  /** The current context of KUBECONFIG when the tool ran. */
  context?: string;
  /** fake-kind: the content of the --config file. */
  config?: string;
  /** fake-docker, fake-helm: the pid of a call that hangs (state.hang). */
  pid?: number;
}

export interface FakeBin {
  dir: string;
  stateDir: string;
  /** PATH holding only the fakes, node and bash. */
  path: string;
  /** Environment variables a process needs to use the fakes (PATH, FAKE_STATE_DIR). */
  env(): Record<string, string>;
  calls(tool?: FakeTool): Call[];
  /** The calls of one tool as command lines ("status -p todo -o json"). */
  lines(tool: FakeTool): string[];
  state(): Record<string, any>;
  setState(state: Record<string, any>): void;
  /** Forgets the recorded calls. */
  clearCalls(): void;
  /** Takes a tool off PATH (it becomes "not installed") or puts it back. */
  remove(tool: FakeTool): void;
  add(tool: FakeTool): void;
  cleanup(): void;
}

function whichSystem(name: string): string {
  return execFileSync('/bin/sh', ['-c', `command -v ${name}`], { encoding: 'utf8' }).trim();
}

/**
 * `system` names real programs to link in as well (npm and sh, for a test that runs
 * `npm run ...` on this PATH).
 */
export function fakeBin(tools: FakeTool[], options: { system?: string[] } = {}): FakeBin {
  const root = mkdtempSync(path.join(tmpdir(), 'todo-deploy-fakes-'));
  const dir = path.join(root, 'bin');
  const stateDir = path.join(root, 'state');
  mkdirSync(dir);
  mkdirSync(stateDir);
  for (const tool of tools) symlinkSync(path.join(here, `fake-${tool}`), path.join(dir, tool));
  symlinkSync(process.execPath, path.join(dir, 'node'));
  for (const program of new Set(['bash', ...(options.system ?? [])])) symlinkSync(whichSystem(program), path.join(dir, program));
  const callsFile = path.join(stateDir, 'calls.jsonl');
  const stateFile = path.join(stateDir, 'state.json');
  const calls = (tool?: FakeTool): Call[] => {
    if (!existsSync(callsFile)) return [];
    const all = readFileSync(callsFile, 'utf8').trimEnd().split('\n').filter(Boolean).map((l) => JSON.parse(l) as Call);
    return tool ? all.filter((c) => c.tool === tool) : all;
  };
  return {
    dir,
    stateDir,
    path: dir,
    env: () => ({ PATH: dir, FAKE_STATE_DIR: stateDir }),
    calls,
    lines: (tool) => calls(tool).map((c) => c.argv.join(' ')),
    state: () => (existsSync(stateFile) ? JSON.parse(readFileSync(stateFile, 'utf8')) : {}),
    setState: (state) => writeFileSync(stateFile, JSON.stringify(state, null, 2)),
    clearCalls: () => rmSync(callsFile, { force: true }),
    remove: (tool) => rmSync(path.join(dir, tool), { force: true }),
    add: (tool) => {
      if (!existsSync(path.join(dir, tool))) symlinkSync(path.join(here, `fake-${tool}`), path.join(dir, tool));
    },
    cleanup: () => rmSync(root, { recursive: true, force: true }),
  };
}

/**
 * Puts the fakes on this process's PATH (and FAKE_STATE_DIR) until the returned function is
 * called, for tests that run provider code in-process.
 */
export function useFakes(bin: FakeBin, extra: Record<string, string | undefined> = {}): () => void {
  const saved: Record<string, string | undefined> = {};
  const vars = { ...bin.env(), ...extra };
  for (const [key, value] of Object.entries(vars)) {
    saved[key] = process.env[key];
    if (value === undefined) delete process.env[key];
    else process.env[key] = value;
  }
  return () => {
    for (const [key, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
  };
}

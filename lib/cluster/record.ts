// Which clusters `up` created, so that `down --purge` deletes only those: a minikube profile
// or kind cluster that existed before todo-deploy touched it is the user's, and is kept.
// One small JSON file in the user's cache folder (TODO_DEPLOY_STATE_DIR overrides it).
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';
import type { ClusterContext } from './provider.ts';

type Settings = ClusterContext['settings'];

export function stateDir(settings: Settings): string {
  if (settings.TODO_DEPLOY_STATE_DIR) return settings.TODO_DEPLOY_STATE_DIR;
  const cache = settings.XDG_CACHE_HOME || path.join(settings.HOME || homedir(), '.cache');
  return path.join(cache, 'todo-deploy');
}

function recordFile(settings: Settings): string {
  return path.join(stateDir(settings), 'created-clusters.json');
}

function readRecord(settings: Settings): Record<string, string> {
  const file = recordFile(settings);
  if (!existsSync(file)) return {};
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as Record<string, string>;
  } catch {
    return {};
  }
}

/** Key for a cluster: "minikube:todo", "kind:todo". */
export type ClusterKey = `${'minikube' | 'kind'}:${string}`;

export function recordCreated(settings: Settings, key: ClusterKey): void {
  const record = readRecord(settings);
  record[key] = new Date().toISOString();
  mkdirSync(stateDir(settings), { recursive: true });
  writeFileSync(recordFile(settings), JSON.stringify(record, null, 2));
}

export function wasCreated(settings: Settings, key: ClusterKey): boolean {
  return key in readRecord(settings);
}

export function forgetCreated(settings: Settings, key: ClusterKey): void {
  const record = readRecord(settings);
  if (!(key in record)) return;
  delete record[key];
  writeFileSync(recordFile(settings), JSON.stringify(record, null, 2));
}

// Manifest folders for the scenarios beyond the plain stack, written into the benchmark's
// private temporary folder and rendered by the pipeline like manifests/ itself:
//   - changed: the stack with the backend's image tag moved on by one patch release (what a
//     release of one component looks like);
//   - scale N: the stack plus N generated components, each a copy of the frontend's
//     ServiceAccount, Role, RoleBinding, Service and Deployment under the name gen-<i>, so
//     they pass the same policy gate as the stack;
//   - crashing: the stack with the backend's pods annotated so that the control plane's kwok
//     shows them as a kubelet shows a container that keeps exiting (CrashLoopBackOff).
// Pure text work on the files (no YAML rewriting: comments and placeholders stay as written).
import { copyFileSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { FAIL_AS_ANNOTATION } from '../lib/controlplane/stages.ts';

/** The documents of a multi-document YAML file, comment-only lines dropped. Pure. */
export function documents(text: string): string[] {
  return text
    .split(/^---\s*$/m)
    .map((d) => d.split('\n').filter((l) => !/^\s*#/.test(l)).join('\n').trim())
    .filter((d) => d.length > 0);
}

/** The frontend's own documents (ServiceAccount, Role, RoleBinding, Service, Deployment), by file. Pure. */
export function frontendDocuments(files: Map<string, string>): string[] {
  const out: string[] = [];
  for (const [, text] of [...files.entries()].sort(([a], [b]) => a.localeCompare(b))) {
    for (const doc of documents(text)) {
      if (!/^kind: (ServiceAccount|Role|RoleBinding|Service|Deployment)$/m.test(doc)) continue;
      if (/^ {2}name: frontend(-sa|-role|-rolebinding|-svc)?$/m.test(doc)) out.push(doc);
    }
  }
  return out;
}

/** N copies of the frontend's documents, renamed gen-1 ... gen-N. Pure. */
export function generatedComponents(frontendDocs: string[], n: number): string {
  const docs: string[] = [];
  for (let i = 1; i <= n; i++) {
    for (const doc of frontendDocs) docs.push(doc.replace(/\bfrontend\b/g, `gen-${i}`));
  }
  return docs.map((d) => `${d}\n`).join('---\n');
}

/** The file's text with the backend Deployment's image set to `image`. Pure. */
export function withBackendImage(deploymentsText: string, image: string): string {
  if (!deploymentsText.includes('image: ${BACKEND_IMAGE}')) throw new Error('bench: 80-deployments.yaml no longer sets the backend image as ${BACKEND_IMAGE}; update bench/variants.ts');
  return deploymentsText.replace('image: ${BACKEND_IMAGE}', `image: ${image}`);
}

/** The file's text with the backend's pod template annotated to crash (kwok: CrashLoopBackOff). Pure. */
export function withCrashingBackend(deploymentsText: string): string {
  const anchor = '        dapr.io/app-id: backend\n';
  if (!deploymentsText.includes(anchor)) throw new Error('bench: 80-deployments.yaml no longer annotates the backend pods with dapr.io/app-id: backend; update bench/variants.ts');
  return deploymentsText.replace(anchor, `${anchor}        ${FAIL_AS_ANNOTATION}: CrashLoopBackOff\n`);
}

function readManifests(manifestsDir: string): Map<string, string> {
  const files = new Map<string, string>();
  for (const name of readdirSync(manifestsDir).filter((f) => f.endsWith('.yaml') || f.endsWith('.yml'))) files.set(name, readFileSync(path.join(manifestsDir, name), 'utf8'));
  return files;
}

function copyManifests(manifestsDir: string, dir: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  for (const name of readdirSync(manifestsDir).filter((f) => f.endsWith('.yaml') || f.endsWith('.yml'))) copyFileSync(path.join(manifestsDir, name), path.join(dir, name));
}

/** manifests/ with the backend image replaced; returns the folder. */
export function writeChangedManifests(manifestsDir: string, dir: string, backendImage: string): string {
  copyManifests(manifestsDir, dir);
  const file = path.join(dir, '80-deployments.yaml');
  writeFileSync(file, withBackendImage(readFileSync(file, 'utf8'), backendImage));
  return dir;
}

/** manifests/ with the backend's pods crashing; returns the folder. */
export function writeCrashingManifests(manifestsDir: string, dir: string): string {
  copyManifests(manifestsDir, dir);
  const file = path.join(dir, '80-deployments.yaml');
  writeFileSync(file, withCrashingBackend(readFileSync(file, 'utf8')));
  return dir;
}

/** manifests/ plus 95-generated.yaml with n components; returns the folder. */
export function writeScaledManifests(manifestsDir: string, dir: string, n: number): string {
  copyManifests(manifestsDir, dir);
  writeFileSync(path.join(dir, '95-generated.yaml'), generatedComponents(frontendDocuments(readManifests(manifestsDir)), n));
  return dir;
}

/** "0.1.0" -> "0.1.1"; anything else gets "-next". Pure. */
export function nextTag(tag: string): string {
  const m = /^(\d+)\.(\d+)\.(\d+)$/.exec(tag);
  return m ? `${m[1]}.${m[2]}.${Number(m[3]) + 1}` : `${tag}-next`;
}

// The policy gate over a rendered manifest folder, as `up` and `validate` both run it: every
// rule, exceptions applied, and each violation pointed at the exact line of its field.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { SourcedObject } from '../types.ts';
import { checkPolicy } from './index.ts';
import type { Environment } from '../config.ts';
import type { PolicyResult } from './types.ts';
import { SECRET_KEYS, SECRET_NAME } from '../secrets.ts';

export interface GateInput {
  /** Rendered objects, files labelled relative to `root` (or absolute outside it). */
  objects: readonly SourcedObject[];
  /** The manifest files of the folder, labelled like the objects' files. */
  files: readonly string[];
  environment: Environment;
  /** The configured namespace: every object must live in it, and it is the only Namespace. */
  namespace: string;
  root: string;
}

/** The gate with the pipeline's own Secret as context, reading files relative to `root`. */
export function policyGate(input: GateInput): PolicyResult {
  const read = (file: string) => {
    try {
      return readFileSync(path.resolve(input.root, file), 'utf8');
    } catch {
      return undefined;
    }
  };
  return checkPolicy(input.objects, { environment: input.environment, manifestFiles: input.files, secretKeys: SECRET_KEYS, secretName: SECRET_NAME, namespace: input.namespace }, read);
}

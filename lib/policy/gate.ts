// The policy gate over a rendered manifest folder, as `up` and `validate` both run it: every
// rule, exceptions applied, and each violation pointed at the exact line of its field.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { SourcedObject } from '../types.ts';
import { runPolicy } from './engine.ts';
import { refineLines } from './locate.ts';
import type { Environment, PolicyResult } from './types.ts';
import { SECRET_KEYS, SECRET_NAME } from '../secrets.ts';

export interface GateInput {
  /** Rendered objects, files labelled relative to `root` (or absolute outside it). */
  objects: readonly SourcedObject[];
  /** The manifest files of the folder, labelled like the objects' files. */
  files: readonly string[];
  environment: Environment;
  root: string;
}

export function policyGate(input: GateInput): PolicyResult {
  const result = runPolicy(input.objects, { environment: input.environment, manifestFiles: input.files, secretKeys: SECRET_KEYS, secretName: SECRET_NAME });
  const read = (file: string) => {
    try {
      return readFileSync(path.resolve(input.root, file), 'utf8');
    } catch {
      return undefined;
    }
  };
  return { ...result, violations: refineLines(result.violations, read), exceptions: refineLines(result.exceptions, read) };
}

// The shipped manifests rendered the way `up` renders them, from the shipped env/<env>.env files
// only (never a developer's .env): the shipped defaults are what the policy tests judge.
import type { Test } from 'uvu';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadConfig, type Environment } from '../../lib/config.ts';
import { renderManifests } from '../../lib/manifests.ts';
import { defaultImageRefs, manifestVars } from '../../lib/plan.ts';
import { REPO_ROOT } from '../../lib/repo-root.ts';
import type { SourcedObject } from '../../lib/types.ts';

export type RenderShipped = (environment: Environment, embeddedPostgres: boolean) => SourcedObject[];

/** Hooks a settings folder holding only env/dev.env and env/prod.env into the suite; returns the renderer. */
export function shippedManifests(test: Test, prefix: string): RenderShipped {
  let settingsRoot = '';
  test.before(() => {
    settingsRoot = mkdtempSync(path.join(tmpdir(), prefix));
    mkdirSync(path.join(settingsRoot, 'env'));
    for (const env of ['dev', 'prod']) copyFileSync(path.join(REPO_ROOT, 'env', `${env}.env`), path.join(settingsRoot, 'env', `${env}.env`));
  });
  test.after(() => rmSync(settingsRoot, { recursive: true, force: true }));
  return (environment, embeddedPostgres) => {
    const config = loadConfig({ env: environment, repoRoot: settingsRoot });
    return renderManifests(path.join(REPO_ROOT, 'manifests'), manifestVars(config, defaultImageRefs(config), embeddedPostgres), REPO_ROOT);
  };
}

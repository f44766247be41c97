// The real build script, run the way `up --cluster sandbox` runs it (lib/controlplane/build-binaries.ts):
// a current group is skipped with one line, a failing build names its group and its build.log,
// and the progress lines reach the caller without their prefix. Nothing is compiled: the
// failure is a version check (its first line says what the build took last time, or typically),
// the skip reads stamps in a temporary cache.
import { suite } from '../support/suite.ts';
import * as assert from 'uvu/assert';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { buildGroups } from '../../lib/controlplane/build-binaries.ts';
import { buildScript, groupDir, GROUPS, readVersions, stampLines, versionsFile } from '../../lib/controlplane/versions.ts';

const test = suite();

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'todo-deploy-build-'));
}

test('a group built for its pinned versions is skipped, and the lines arrive without the prefix', async () => {
  const cache = tempDir();
  try {
    const env = { ...process.env, XDG_CACHE_HOME: cache };
    const v = readVersions();
    const dir = groupDir(v, 'cni-plugins', env);
    mkdirSync(join(dir, 'bin'), { recursive: true });
    for (const b of GROUPS['cni-plugins'].binaries) writeFileSync(join(dir, 'bin', b), '');
    // build.sh's stamp: its recipe number, then the inputs (the recipe is the script's own).
    const recipe = /\[cni-plugins\]=(\d+)/.exec(readFileSync(buildScript, 'utf8'))![1];
    writeFileSync(join(dir, 'complete'), [`RECIPE=${recipe}`, ...stampLines(v, 'cni-plugins')].join('\n') + '\n');
    const lines: string[] = [];
    const result = await buildGroups(['cni-plugins'], (l) => lines.push(l), env);
    assert.equal(result, { ok: true });
    assert.ok(lines.some((l) => /^already built, nothing to do: cni-plugins/.test(l)), lines.join('\n'));
    assert.not.ok(lines.some((l) => l.startsWith('[controlplane build]')));
  } finally {
    rmSync(cache, { recursive: true, force: true });
  }
});

for (const lastTime of [undefined, 125]) {
  test(`a failed build names the group and its log, whose last lines say why; its first line says ${lastTime ? 'what it took last time' : 'what a first build typically takes'}`, async () => {
    // A copy of the build folder whose PAUSE_VERSION disagrees with the pinned Kubernetes module.
    const work = tempDir();
    const cache = join(work, 'cache');
    try {
      const build = join(work, 'build');
      cpSync(dirname(buildScript), build, { recursive: true });
      if (lastTime) {
        // What build.sh records after a successful build of the group (seconds).
        mkdirSync(join(cache, 'todo-deploy', 'controlplane', 'build-times'), { recursive: true });
        writeFileSync(join(cache, 'todo-deploy', 'controlplane', 'build-times', 'pause'), `${lastTime}\n`);
      }
      writeFileSync(join(build, 'versions.env'), readFileSync(versionsFile, 'utf8').replace(/^PAUSE_VERSION=.*$/m, 'PAUSE_VERSION=3.9'));
      const lines: string[] = [];
      const result = await buildGroups(['pause'], (l) => lines.push(l), { ...process.env, XDG_CACHE_HOME: cache }, join(build, 'build.sh'));
      const log = join(cache, 'todo-deploy', 'controlplane', 'pause-3.9', 'build.log');
      assert.is(result.ok, false);
      assert.match(result.error!, /building pause 3\.9 \(pause, pause\.oci\.tar\) failed after/);
      assert.ok(result.error!.includes(`the full output is in ${log}`), result.error);
      assert.match(result.error!, /ships pause 3\.10\.1 \(build\/pause\/Makefile\), but versions\.env says PAUSE_VERSION=3\.9/);
      assert.ok(existsSync(log));
      const hint = lastTime ? /: last time 2m05s; a first build with empty Go caches: about \S+;/ : /: a first build with empty Go caches takes about \S+ on 2 idle cores/;
      assert.ok(lines.some((l) => l.startsWith('building pause 3.9 (pause, pause.oci.tar)') && hint.test(l)), lines.join('\n'));
      assert.not.ok(existsSync(join(dirname(log), 'complete')), 'no stamp after a failure');
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  });
}

test.run();

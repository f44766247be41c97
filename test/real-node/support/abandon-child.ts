// The starter of a node that support/abandon.ts kills: starts a plane with real pods, prints
// `READY <folder>`, and waits to be killed. (No top-level await: uvu loads every file of the
// suite's folder as CommonJS.)
import { startControlPlane } from '../../../lib/controlplane/index.ts';

if (process.env.TODO_DEPLOY_ABANDON_CHILD === '1') {
  void startControlPlane({ pods: 'real', log: (l) => console.log(l) }).then(
    (plane) => {
      console.log(`READY ${plane.dir}`);
      setInterval(() => {}, 60_000);
    },
    (err) => {
      console.error(err);
      process.exit(1);
    },
  );
}

// The starter of a node that support/abandon.ts kills: starts a plane with real pods, prints
// `READY <folder>`, and waits to be killed.
import { startControlPlane } from '../../../lib/controlplane/index.ts';

const plane = await startControlPlane({ pods: 'real', log: (l) => console.log(l) });
console.log(`READY ${plane.dir}`);
setInterval(() => {}, 60_000);

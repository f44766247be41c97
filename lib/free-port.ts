// A free TCP port on 127.0.0.1: bind port 0, read what the kernel chose, release it. Used by the
// control plane for its components and by the tests for their servers (and as a closed port).
import { createServer } from 'node:net';

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      if (address === null || typeof address === 'string') {
        server.close();
        return reject(new Error('could not read the port of a loopback listener'));
      }
      const { port } = address;
      server.close(() => resolve(port));
    });
  });
}

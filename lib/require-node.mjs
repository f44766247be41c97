// @ts-check
// Imported first by the launcher (scripts/bundle/todo-deploy.mjs) and by every script: a clear
// sentence instead of a crash deep inside a dependency when it is started with an older Node
// than the project's (npm run brings Node 22). Plain JavaScript, so that Node 20 can parse it.
const major = Number(process.versions.node.split('.')[0]);
if (major < 22) {
  process.stderr.write(
    `todo-deploy needs Node.js 22 or newer, and this is Node.js ${process.versions.node}. ` +
      'Fix: run it through npm (`npm run up`, `npm run down`, ...), which uses the Node 22 that `npm ci` installs, or install Node 22.\n',
  );
  process.exit(2);
}
export {};

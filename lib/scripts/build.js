// Builds the package as it ships: one CommonJS bundle per entry (`.` and `./ace`), so a vendor's
// node_modules holds two scripts rather than ninety modules; tsc then writes the declarations.
// The ./ace bundle requires the root bundle (`..`) rather than carrying a copy of it, so both
// entries share one copy of every class (`instanceof` holds across them).
'use strict';
const { buildSync } = require('esbuild');
const { rmSync } = require('node:fs');
const { join } = require('node:path');
const pkg = require('../package.json');

const root = join(__dirname, '..');
const external = [...Object.keys(pkg.dependencies), ...Object.keys(pkg.peerDependencies ?? {})];
const common = {
  absWorkingDir: root,
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  // Error classes name themselves after their class (`new.target.name`): keep the names.
  keepNames: true,
  // Minified to keep the tarball under 100 kB; with keepNames, stack traces still name every
  // function and class. The readable sources are the repository's, the API docs the .d.ts files'.
  minify: true,
  logLevel: 'warning',
};

// A clean slate: a module deleted from src/ must not leave its old output behind to be packed.
rmSync(join(root, 'dist'), { recursive: true, force: true });

buildSync({ ...common, entryPoints: ['src/index.ts'], outfile: 'dist/index.js', external });
buildSync({
  ...common,
  entryPoints: ['src/ace/index.ts'],
  outfile: 'dist/ace/index.js',
  external: [...external, '..'],
});

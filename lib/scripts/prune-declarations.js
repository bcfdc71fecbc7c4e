// Removes the declaration files no public entry reaches. tsc writes one .d.ts per source module;
// a vendor's compiler only ever opens those that `dist/index.d.ts` and `dist/ace/index.d.ts` import,
// directly or not, so the rest (the protocol's internals) would only weigh on the tarball.
'use strict';
const { existsSync, readFileSync, readdirSync, rmSync } = require('node:fs');
const { dirname, join, resolve } = require('node:path');

const dist = resolve(__dirname, '..', 'dist');
const entries = [join(dist, 'index.d.ts'), join(dist, 'ace', 'index.d.ts')];
// Relative specifiers in `import … from`, `export … from` and `import('…')` types.
const SPECIFIER = /(?:\bfrom\s*|\bimport\s*\(\s*)["'](\.{1,2}\/[^"']+)["']/g;

const reached = new Set();
const pending = [...entries];
while (pending.length > 0) {
  const file = pending.pop();
  if (reached.has(file)) continue;
  reached.add(file);
  for (const [, specifier] of readFileSync(file, 'utf8').matchAll(SPECIFIER)) {
    const base = resolve(dirname(file), specifier.replace(/\.js$/, ''));
    const target = [`${base}.d.ts`, join(base, 'index.d.ts')].find((candidate) => existsSync(candidate));
    if (!target) throw new Error(`${file} imports ${specifier}, which has no declaration file`);
    pending.push(target);
  }
}

function declarations(directory) {
  return readdirSync(directory, { withFileTypes: true }).flatMap((entry) => {
    const path = join(directory, entry.name);
    if (entry.isDirectory()) return declarations(path);
    return path.endsWith('.d.ts') ? [path] : [];
  });
}

for (const file of declarations(dist)) if (!reached.has(file)) rmSync(file);

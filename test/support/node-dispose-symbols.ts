// Jest 29 runs each test file in a vm context, which lacks the `Symbol.dispose` and
// `Symbol.asyncDispose` that Node 20 adds to its own realm only (jestjs/jest#14874, fixed in Jest 30;
// nodejs/node#50745). Bundled code that defines `[Symbol.dispose]()` then gets a method named
// "undefined", while its `using` helper looks up `Symbol.for('Symbol.dispose')`, and throws "Object
// not disposable". In playwright-core that happens when it locates an element inside a
// cross-origin iframe, so no click there ever lands. Node's own symbols, given to the test realm,
// make both sides agree again.

import { runInThisContext } from 'node:vm';

for (const name of ['dispose', 'asyncDispose'] as const) {
  const nodeSymbol = runInThisContext(`Symbol.${name}`) as symbol | undefined;
  if (Symbol[name] === undefined && nodeSymbol !== undefined) {
    Object.defineProperty(Symbol, name, { value: nodeSymbol });
  }
}

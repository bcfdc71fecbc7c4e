// The package README's Options tables are the vendor's reference: they name every option of
// TokenManagerOptions, nothing else, each with the default createTokenManager really applies.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULTS } from 'jira-token-rotation';

const LIB = join(__dirname, '../../lib');

/** The `| \`name\` | default |` rows of the README's "## Options" section. */
function documentedOptions(): Map<string, string> {
  const readme = readFileSync(join(LIB, 'README.md'), 'utf8');
  const section = /^## Options$([\s\S]*?)^## /m.exec(readme)?.[1] ?? '';
  const rows = new Map<string, string>();
  for (const [, name, cell] of section.matchAll(/^\| `(\w+)` +\| ([^|]+?) +\|/gm)) {
    rows.set(name, cell.replace(/[`']/g, ''));
  }
  return rows;
}

/** The members of the TokenManagerOptions interface, read from its source. */
function declaredOptions(): string[] {
  const source = readFileSync(join(LIB, 'src/manager/options.ts'), 'utf8');
  const body = /export interface TokenManagerOptions \{([\s\S]*?)\n\}/.exec(source)?.[1] ?? '';
  return [...body.matchAll(/^ {2}(\w+)\??:/gm)].map(([, name]) => name);
}

describe('the package README', () => {
  it('documents every option of TokenManagerOptions and nothing else', () => {
    const declared = declaredOptions();
    expect(declared).toEqual(expect.arrayContaining(['clientId', 'redis', 'keyPrefix', 'now']));
    expect([...documentedOptions().keys()].sort()).toEqual(declared.sort());
  });

  it.each(Object.entries(DEFAULTS))('gives %s its real default, %p', (name, value) => {
    expect(documentedOptions().get(name)).toBe(String(value));
  });
});

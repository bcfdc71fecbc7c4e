// Where the app's files are at run time: views, public and the descriptor are read from the project
// root, whether the code runs from the sources (jest) or from dist/ (npm start).

import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** The nearest folder above this file that holds a package.json: the project root. */
function findProjectRoot(start: string): string {
  for (let dir = start; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    if (dirname(dir) === dir) throw new Error(`No package.json above ${start}`);
  }
}

/** The project root, e.g. `/srv/app`, never `dist/`. */
export const PROJECT_ROOT = findProjectRoot(__dirname);

/** Absolute paths of the files and folders the app reads at run time. */
export const PATHS = Object.freeze({
  views: join(PROJECT_ROOT, 'views'),
  public: join(PROJECT_ROOT, 'public'),
  descriptor: join(PROJECT_ROOT, 'atlassian-connect.json'),
  aceConfig: join(PROJECT_ROOT, 'config.json'),
});

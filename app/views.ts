// The view engine: Handlebars (which HTML-escapes every `{{value}}`), each view wrapped in
// views/layout.hbs unless it sets `layout: false`. Views are read from the project root.

import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import Handlebars from 'handlebars';

type Render = (path: string, options: object, callback: (err: Error | null, html?: string) => void) => void;

/** An Express view engine for `.hbs` files under `viewsDir`, with `layout.hbs` around each view. */
export function handlebarsEngine(viewsDir: string): Render {
  // Our own environment: no helper or partial registered elsewhere can reach these templates.
  const hbs = Handlebars.create();
  const cache = new Map<string, Promise<Handlebars.TemplateDelegate>>();
  const template = (path: string, useCache: boolean): Promise<Handlebars.TemplateDelegate> => {
    let compiled = useCache ? cache.get(path) : undefined;
    if (!compiled) {
      compiled = readFile(path, 'utf8').then((source) => hbs.compile(source, { strict: false }));
      if (useCache) cache.set(path, compiled);
      // A failed read is not cached: the next render tries again.
      compiled.catch(() => cache.delete(path));
    }
    return compiled;
  };
  return (path, options, callback) => {
    const locals = options as Record<string, unknown> & { cache?: boolean; layout?: unknown };
    const useCache = locals.cache === true;
    const layoutPath = join(viewsDir, 'layout.hbs');
    Promise.all([template(path, useCache), locals.layout === false ? null : template(layoutPath, useCache)])
      .then(([view, layout]) => {
        const body = view(locals);
        // The doctype is written here: Prettier's Handlebars printer drops it from layout.hbs.
        callback(null, layout ? `<!doctype html>\n${layout({ ...locals, body })}` : body);
      })
      .catch((error: Error) => callback(error));
  };
}

// The popup's form posts, parsed by the router itself: the app may have mounted no parser (or
// express 5's, which leaves `req.body` undefined for other types). Capped at a size measured after
// decompression, so a small gzip bomb is refused as a large body.

import type { IncomingMessage } from 'node:http';
import type { Transform } from 'node:stream';
import { createBrotliDecompress, createGunzip, createInflate } from 'node:zlib';

/** The cap of a form body, inflated: the popup posts a launch token or a cloudId. */
export const FORM_LIMIT_BYTES = 16 * 1024;

/** The single string value of each field; a repeated or missing field has none. */
export interface FormFields {
  get(name: string): string | undefined;
}

/** A parsed body, or the status that refuses it (413 too large, 415 unsupported, 400 malformed). */
export type FormBody = { ok: true; fields: FormFields } | { ok: false; status: 400 | 413 | 415 };

const EMPTY: FormFields = { get: () => undefined };

/**
 * The request's form fields. A body an earlier parser already read is taken from `req.body`;
 * a body that is not `application/x-www-form-urlencoded` has no fields.
 */
export function readFormBody(req: IncomingMessage, limit = FORM_LIMIT_BYTES): Promise<FormBody> {
  const parsed = req as IncomingMessage & { body?: unknown; _body?: unknown };
  if (parsed._body === true || req.readableEnded) {
    const body = (parsed.body ?? {}) as Record<string, unknown>;
    return Promise.resolve({
      ok: true,
      fields: { get: (name) => (typeof body[name] === 'string' ? (body[name] as string) : undefined) },
    });
  }
  const [type, ...parameters] = (req.headers['content-type'] ?? '')
    .split(';')
    .map((p) => p.trim().toLowerCase());
  if (type !== 'application/x-www-form-urlencoded') return Promise.resolve({ ok: true, fields: EMPTY });
  const charset = parameters
    .find((p) => p.startsWith('charset='))
    ?.slice('charset='.length)
    .replace(/"/g, '');
  if (charset !== undefined && charset !== 'utf-8' && charset !== 'utf8') return refused(415);
  const decoder = decoderOf(req.headers['content-encoding']);
  if (decoder === null) return refused(415);
  const declared = Number(req.headers['content-length']);
  if (!decoder && Number.isFinite(declared) && declared > limit) return refused(413);
  return collect(req, decoder, limit);
}

function refused(status: 400 | 413 | 415): Promise<FormBody> {
  return Promise.resolve({ ok: false, status });
}

/** `undefined` for identity, `null` for an encoding we do not inflate. */
function decoderOf(header: string | undefined): Transform | undefined | null {
  switch ((header ?? 'identity').trim().toLowerCase()) {
    case 'identity':
    case '':
      return undefined;
    case 'gzip':
    case 'x-gzip':
      return createGunzip();
    case 'deflate':
      return createInflate();
    case 'br':
      return createBrotliDecompress();
    default:
      return null;
  }
}

function collect(req: IncomingMessage, decoder: Transform | undefined, limit: number): Promise<FormBody> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let raw = 0;
    let size = 0;
    let settled = false;
    const output = decoder ?? req;
    const finish = (body: FormBody): void => {
      if (settled) return;
      settled = true;
      req.off('data', onRaw);
      req.off('error', onError);
      req.off('aborted', onError);
      output.off('data', onData);
      output.off('end', onEnd);
      if (decoder) {
        req.unpipe(decoder);
        decoder.destroy();
      }
      // Whatever is left of a refused body is read and dropped, so the answer still reaches the client.
      if (!body.ok) req.resume();
      resolve(body);
    };
    const onRaw = (chunk: Buffer): void => {
      raw += chunk.length;
      if (raw > limit) finish({ ok: false, status: 413 });
    };
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > limit) return finish({ ok: false, status: 413 });
      chunks.push(chunk);
    };
    const onEnd = (): void => {
      const params = new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
      finish({ ok: true, fields: singleValues(params) });
    };
    const onError = (): void => finish({ ok: false, status: 400 });
    req.on('error', onError);
    req.on('aborted', onError);
    if (decoder) {
      req.on('data', onRaw);
      decoder.on('error', onError);
      req.pipe(decoder);
    }
    output.on('data', onData);
    output.on('end', onEnd);
  });
}

/** Fields of a query string or form: a value only when the name appears exactly once. */
export function singleValues(params: URLSearchParams): FormFields {
  return {
    get: (name) => {
      const values = params.getAll(name);
      return values.length === 1 ? values[0] : undefined;
    },
  };
}

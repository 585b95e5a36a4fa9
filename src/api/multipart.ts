/**
 * The one field of a `multipart/form-data` body (RFC 7578) that a route reads, from the body
 * already in memory: the parts between `--boundary` lines, each with its headers, the field named
 * by Content-Disposition's `name`. Enough for the file uploads Anchore's API takes (`archive_file`).
 */
import { ApiError } from './errors.js';

/** The boundary of a multipart content type. */
function boundaryOf(contentType: string): string {
  const m = /;\s*boundary=(?:"([^"]+)"|([^;\s]+))/i.exec(contentType);
  const b = m?.[1] ?? m?.[2];
  if (!b || b.length > 200) throw new ApiError(400, 'invalid request: multipart/form-data without a boundary');
  return b;
}

/** The value of the field `name`, or undefined when the form has no such field. */
export function formField(contentType: string, body: Buffer, name: string): Buffer | undefined {
  const delimiter = Buffer.from(`--${boundaryOf(contentType)}`);
  let at = body.indexOf(delimiter);
  if (at < 0) throw new ApiError(400, 'invalid request: the multipart body has no part (its boundary does not occur)');
  for (;;) {
    const start = at + delimiter.length;
    if (body.subarray(start, start + 2).toString('latin1') === '--') return undefined; // the closing delimiter
    const headersEnd = body.indexOf('\r\n\r\n', start);
    if (headersEnd < 0) throw new ApiError(400, 'invalid request: a multipart part has no end of headers');
    const headers = body.subarray(start, headersEnd).toString('utf8');
    const next = body.indexOf(Buffer.concat([Buffer.from('\r\n'), delimiter]), headersEnd + 4);
    if (next < 0) throw new ApiError(400, 'invalid request: the multipart body is cut short (no closing boundary)');
    const disposition = /^content-disposition:(.*)$/im.exec(headers)?.[1] ?? '';
    const field = /;\s*name="([^"]*)"/i.exec(disposition)?.[1] ?? /;\s*name=([^;\s]+)/i.exec(disposition)?.[1];
    if (field === name) return body.subarray(headersEnd + 4, next);
    at = next + 2;
  }
}

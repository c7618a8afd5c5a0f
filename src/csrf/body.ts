/**
 * Reads the CSRF form field from a clone of the request, within a byte budget, so the app can
 * still read the body afterwards and an oversized or endless body cannot exhaust memory.
 *
 * @module
 */

/** The outcome of looking for the token in a form body. */
export type FormTokenResult =
  | { readonly kind: 'found'; readonly token: string }
  | { readonly kind: 'absent' }
  | { readonly kind: 'too-large' };

/**
 * The media type of a `Content-Type` value: lower-cased, parameters dropped.
 *
 * @example
 * ```ts
 * mediaTypeOf('Multipart/Form-Data; boundary=x'); // 'multipart/form-data'
 * ```
 */
export function mediaTypeOf(contentType: string | null): string {
  if (contentType === null) return '';
  const semicolon = contentType.indexOf(';');
  return (semicolon === -1 ? contentType : contentType.slice(0, semicolon)).trim().toLowerCase();
}

/**
 * True for the content types an HTML form can send with a hidden field (and that are searched
 * for the token field). `text/plain` forms are deliberately not among them.
 *
 * @example
 * ```ts
 * isFormMediaType(mediaTypeOf(request.headers.get('content-type'))); // true for urlencoded / multipart
 * ```
 */
export function isFormMediaType(
  mediaType: string,
): mediaType is 'application/x-www-form-urlencoded' | 'multipart/form-data' {
  return mediaType === 'application/x-www-form-urlencoded' || mediaType === 'multipart/form-data';
}

async function readBounded(request: Request, limit: number): Promise<Uint8Array | 'too-large' | undefined> {
  const declared = request.headers.get('content-length');
  if (declared !== null && /^\d+$/.test(declared.trim()) && Number(declared.trim()) > limit) return 'too-large';
  if (request.body === null) return new Uint8Array(0);
  if (request.bodyUsed) return undefined;
  const reader = request.clone().body?.getReader();
  if (reader === undefined) return new Uint8Array(0);
  const chunks: Uint8Array[] = [];
  let total = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      total += value.byteLength;
      if (total > limit) {
        // Not awaited: cancelling one branch of a tee settles only once the other branch (the
        // app's body) is cancelled or read too.
        reader.cancel().catch(() => undefined);
        return 'too-large';
      }
      chunks.push(value);
    }
  } catch {
    return undefined;
  }
  const bytes = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return bytes;
}

/**
 * Finds the form field `fieldName` in a clone of `request`, reading at most `limit` bytes.
 * Never throws: unreadable or malformed bodies come back as `absent`.
 *
 * @example
 * ```ts
 * const result = await readFormToken(request, 'multipart/form-data', 'csrf_token', 10 * 1024 * 1024);
 * if (result.kind === 'found') await codec.verify(result.token, session.id);
 * ```
 */
export async function readFormToken(
  request: Request,
  mediaType: 'application/x-www-form-urlencoded' | 'multipart/form-data',
  fieldName: string,
  limit: number,
): Promise<FormTokenResult> {
  let bytes: Uint8Array | 'too-large' | undefined;
  try {
    bytes = await readBounded(request, limit);
  } catch {
    return { kind: 'absent' };
  }
  if (bytes === 'too-large') return { kind: 'too-large' };
  if (bytes === undefined || bytes.length === 0) return { kind: 'absent' };
  try {
    let value: FormDataEntryValue | null;
    if (mediaType === 'application/x-www-form-urlencoded') {
      value = new URLSearchParams(new TextDecoder().decode(bytes)).get(fieldName);
    } else {
      const contentType = request.headers.get('content-type') ?? '';
      const form = await new Response(bytes as Uint8Array<ArrayBuffer>, {
        headers: { 'content-type': contentType },
      }).formData();
      value = form.get(fieldName);
    }
    return typeof value === 'string' && value.length > 0 ? { kind: 'found', token: value } : { kind: 'absent' };
  } catch {
    return { kind: 'absent' };
  }
}

// Request bodies must be UTF-8 (RFC 8259 section 8.1). The JSON parser would decode broken bytes as U+FFFD and go
// on, so a body is checked first and refused with 400 naming the first bad byte.
import { isUtf8 } from 'node:buffer';

/** Raised by the body parser's verify step; middlewareErrorToHttp turns it into a 400. */
export const INVALID_UTF8 = 'body.utf8.invalid';

/**
 * The offset of the first byte that is not part of a well-formed UTF-8 sequence (Unicode Table 3-7: no overlong
 * forms, no surrogates, nothing above U+10FFFF), or -1 when every byte is.
 */
export function firstInvalidUtf8(bytes: Uint8Array): number {
  let i = 0;
  while (i < bytes.length) {
    const b = bytes[i]!;
    if (b < 0x80) {
      i++;
      continue;
    }
    let n: number;
    let lo = 0x80;
    let hi = 0xbf;
    if (b >= 0xc2 && b <= 0xdf) n = 1;
    else if (b >= 0xe0 && b <= 0xef) {
      n = 2;
      if (b === 0xe0) lo = 0xa0;
      if (b === 0xed) hi = 0x9f;
    } else if (b >= 0xf0 && b <= 0xf4) {
      n = 3;
      if (b === 0xf0) lo = 0x90;
      if (b === 0xf4) hi = 0x8f;
    } else return i;
    for (let k = 1; k <= n; k++) {
      const c = bytes[i + k];
      if (c === undefined || c < (k === 1 ? lo : 0x80) || c > (k === 1 ? hi : 0xbf)) return i;
    }
    i += n + 1;
  }
  return -1;
}

/** body-parser's `verify` hook: throws when the (decompressed) body is not UTF-8. */
export function verifyUtf8Body(_req: unknown, _res: unknown, body: Buffer): void {
  if (isUtf8(body)) return;
  const at = firstInvalidUtf8(body);
  const shown = Array.from(body.subarray(at, at + 4), (b) => b.toString(16).padStart(2, '0')).join(' ');
  throw Object.assign(
    new Error(`the body is not valid UTF-8: byte ${at} starts a malformed sequence (${shown}); send JSON as UTF-8`),
    { type: INVALID_UTF8 },
  );
}

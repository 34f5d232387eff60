import * as z from 'zod';

/*
 * Tags are addressed in paths by name (`/v1/tags/{key}`, `/v1/contacts/{id}/tags/{tag}`), but a
 * deployed HTTP API percent-decodes the path before it routes it and cuts it at a decoded `?` or `#`
 * (so `Region%2FEMEA` is two segments there, and `Why%3F` reaches the function as `Why`). A name with
 * such a character is addressed by its path reference instead: `~` and the base64url of the name
 * (UTF-8), which no decoding changes. Any spelling's reference works, as names do.
 */

/** Characters a path segment cannot carry through API Gateway's decoding, and dot segments. */
const unsafeInPath = /[/?#%\\]/u;
const refPrefix = '~';

const needsRef = (name: string) => unsafeInPath.test(name) || name.startsWith(refPrefix) || name === '.' || name === '..';

/** The path-safe form of a tag name or key: itself when it survives routing, else its `~` reference. */
export const tagPathRef = (name: string): string =>
  needsRef(name) ? `${refPrefix}${Buffer.from(name, 'utf8').toString('base64url')}` : name;

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** The name a path segment stands for: a `~` reference decoded, anything else as it came. */
export const tagPathParam = z
  .string()
  .trim()
  .min(1)
  .max(300)
  .transform((segment, context) => {
    if (!segment.startsWith(refPrefix)) return segment;
    const encoded = segment.slice(refPrefix.length);
    try {
      const bytes = Buffer.from(encoded, 'base64url');
      // Only the canonical encoding: anything else is not a reference this API gave out.
      if (encoded === '' || bytes.toString('base64url') !== encoded) throw new Error('not canonical');
      return utf8.decode(bytes);
    } catch {
      context.addIssue({ code: 'custom', message: 'Not a tag reference: `~` and the base64url of the tag name (see `ref`)' });
      return z.NEVER;
    }
  });

import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import {
  parsePhoneNumberWithError as parseWithMetadata,
  type CountryCode,
  type MetadataJson,
  type PhoneNumber,
} from 'libphonenumber-js/core';

export type { CountryCode, PhoneNumber };

/**
 * The metadata file: libphonenumber's `max` set, so validity is checked against each country's real
 * number ranges ("+1 555 555 5555" or a Brazilian landline starting with 1 is refused; `min` only checks
 * lengths and would accept them).
 *
 * It is read on the first number parsed, not bundled: as code it is ~145 KB that every cold start of the
 * nine functions that can normalise a channel parses, most of which never see a phone number. Deployed,
 * it ships beside the bundle (infra/constructs/first-use-modules.ts, `firstUseFiles`); locally it is the
 * installed package's file. Either way Node resolves it from here.
 */
export const phoneMetadataFile = 'libphonenumber-js/metadata.max.json';

let metadata: MetadataJson | undefined;

const phoneMetadata = (): MetadataJson => {
  // A require made here, not the bundle's own `require`, so esbuild leaves the file out of the bundle.
  const resolveBeside = createRequire(import.meta.url).resolve;
  metadata ??= JSON.parse(readFileSync(resolveBeside(phoneMetadataFile), 'utf8')) as MetadataJson;
  return metadata;
};

/**
 * Parses a phone number as `libphonenumber-js/max` does; throws libphonenumber's ParseError for text
 * that is not a number. Without a leading `+`, `defaultCountry` says whose national format it is.
 */
export const parsePhoneNumber = (text: string, defaultCountry?: CountryCode): PhoneNumber =>
  parseWithMetadata(text, { defaultCountry }, phoneMetadata());

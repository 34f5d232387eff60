import type { z, ZodType } from 'zod';

/**
 * The schema of an API answer, built when first asked for. Only the OpenAPI document (and the tests
 * that read it) ask: a deployed function parses its inputs, never its answers, so it never builds
 * these, and building zod schemas is most of a function's own cold start. Each is built once, so a
 * schema with a component id (`.meta({ id })`) is registered once.
 */
export type ResponseSchema<T extends ZodType = ZodType> = () => T;

export function responseSchema<T extends ZodType>(build: () => T): ResponseSchema<T> {
  let built: T | undefined;
  return () => (built ??= build());
}

/** The type of the answer a response schema describes. */
export type ResponseOf<S extends ResponseSchema> = z.output<ReturnType<S>>;

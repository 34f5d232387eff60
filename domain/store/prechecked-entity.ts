import { Entity, type Schema } from 'electrodb';

/**
 * ElectroDB checks every model against its JSON schema (the jsonschema package) in `new Entity`:
 * ~2 ms an entity, ~100 ms of every cold start for ours.
 * Our models are constants, so that check runs once, in test/unit/entity-models.test.ts
 * (`createDb(..., { checkModels: true })`), not in every function; the bundles carry a stand-in for
 * jsonschema (infra/bundling/jsonschema-unused.cjs). The override names an ElectroDB
 * internal; the same test fails if it stops skipping the check.
 */
export class PrecheckedEntity<
  A extends string,
  F extends string,
  C extends string,
  S extends Schema<A, F, C>,
> extends Entity<A, F, C, S> {
  _validateModel(): void {}
}

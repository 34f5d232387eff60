// Stands in for the jsonschema package in deployed bundles. ElectroDB loads it only to check entity
// models in `new Entity`, and no deployed function runs that check (domain/store/prechecked-entity.ts,
// PrecheckedEntity: the models are checked once, in test/unit/entity-models.test.ts). ElectroDB's
// module sets custom formats and adds its schemas when it loads, so that much is here; a check that
// did run would throw rather than pass unchecked.
class Validator {
  addSchema() {}

  validate() {
    throw new Error('ElectroDB model checks do not run in a deployed function (infra/bundling/jsonschema-unused.cjs)');
  }
}
Validator.prototype.customFormats = {};
module.exports = { Validator };

// Stands in for the electrodb package's entry in deployed bundles. The entry loads every module of the
// library; the functions use two of them (Entity and createWriteTransaction: domain/store/db.ts,
// domain/store/prechecked-entity.ts). Service (~19 KB minified) joins entities for ElectroDB's own
// checks, which run in test/unit/entity-models.test.ts, not in a function. A relative path, not the
// package name: esbuild's alias would send `electrodb/src/...` back here.
// eslint-disable-next-line @typescript-eslint/no-require-imports -- a CommonJS stand-in, bundled by esbuild
const { Entity } = require('../../node_modules/electrodb/src/entity.js');
// eslint-disable-next-line @typescript-eslint/no-require-imports -- as above
const { createWriteTransaction } = require('../../node_modules/electrodb/src/transaction.js');

module.exports = { Entity, createWriteTransaction };

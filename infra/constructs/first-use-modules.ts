import path from 'node:path';

/** `text` as one single-quoted shell word. */
export const shellQuote = (text: string) => `'${text.replace(/'/g, `'\\''`)}'`;

/**
 * Packages a function loads only on first use (a dynamic `import()`), shipped beside its bundle instead
 * of inside it: `node_modules/<name>/index.mjs` in the function's asset, an ESM bundle of the package
 * alone, which Node resolves when the `import()` runs. Inside the function's own bundle even code that
 * never runs is parsed at every cold start: exceljs and what it pulls in (~1 MB minified) made the
 * import and export functions' init about twice the others'; the markdown renderer is ~290 KB.
 *
 * Each package lists the handler entries that load it. An entry left off still works (the package is
 * then bundled inline, and parsed at init); `test/infra/bundle-contents.test.ts` fails if the list and
 * the bundles disagree.
 */
export const firstUseModules: Readonly<Record<string, readonly string[]>> = {
  // Workbooks: read by imports (.xlsx uploads), written by exports.
  exceljs: [
    'functions/http/imports.handler.ts',
    'functions/jobs/import-contacts.handler.ts',
    'functions/jobs/export-contacts.handler.ts',
  ],
  // Legacy workbooks (.xls, HTML and XML spreadsheets named .xls, .ods), read by imports through SheetJS.
  '@e965/xlsx': ['functions/http/imports.handler.ts', 'functions/jobs/import-contacts.handler.ts'],
  // Markdown rendered for notes and task descriptions (with postcss, which sanitize-html pulls in).
  'markdown-it': ['functions/http/notes.handler.ts', 'functions/http/tasks.handler.ts'],
  'sanitize-html': ['functions/http/notes.handler.ts', 'functions/http/tasks.handler.ts'],
  // Inbound mail parsed (SES): the providers' webhook function takes every other channel's hooks too.
  'postal-mime': ['functions/webhooks/channel-hooks.handler.ts'],
};

/** Entries that normalise contacts' channels, and so may parse a phone number (domain/contacts/phone-numbers.ts). */
const channelNormalisers = [
  'functions/http/inbox.handler.ts',
  'functions/http/contacts.handler.ts',
  'functions/http/companies.handler.ts',
  'functions/http/imports.handler.ts',
  'functions/jobs/import-contacts.handler.ts',
  'functions/jobs/classify-conversation.handler.ts',
  'functions/jobs/job-dead-letters.handler.ts',
  'functions/schedules/sweep-jobs.handler.ts',
  'functions/webhooks/channel-hooks.handler.ts',
];

/**
 * Data files a function reads on first use (`readFileSync` of the path Node resolves for
 * `<package>/<file>`), shipped beside its bundle in `node_modules/<package>/` with a package.json that
 * exports them, rather than compiled into it as code. Listed like {@link firstUseModules}, and checked the
 * same way by `test/infra/bundle-contents.test.ts`.
 */
export const firstUseFiles: Readonly<Record<string, readonly string[]>> = {
  // libphonenumber's full metadata (~145 KB as code): read on the first phone number parsed.
  'libphonenumber-js/metadata.max.json': channelNormalisers,
};

/** The first-use data files of a handler entry, as `<package>/<file>`. */
export const firstUseFilesOf = (entry: string): string[] =>
  Object.entries(firstUseFiles)
    .filter(([, entries]) => entries.includes(entry))
    .map(([file]) => file);

/** `<package>/<file>` -> its package and the file's path inside it (scoped packages included). */
export const splitPackagePath = (file: string): { name: string; inside: string } => {
  const parts = file.split('/');
  const nameParts = file.startsWith('@') ? 2 : 1;
  return { name: parts.slice(0, nameParts).join('/'), inside: parts.slice(nameParts).join('/') };
};

/** The package.json that lets Node resolve `<package>/<file>` for each of `files` (all of one package). */
export const firstUseFilesPackageJson = (name: string, files: readonly string[]) =>
  `${JSON.stringify({ name, private: true, exports: Object.fromEntries(files.map((inside) => [`./${inside}`, `./${inside}`])) })}\n`;

/** The first-use files grouped by package: `{ name, files: [path inside the package] }`. */
export const firstUseFilesByPackage = (files: readonly string[]) => {
  const byPackage = new Map<string, string[]>();
  for (const file of files) {
    const { name, inside } = splitPackagePath(file);
    byPackage.set(name, [...(byPackage.get(name) ?? []), inside]);
  }
  return [...byPackage].map(([name, inside]) => ({ name, files: inside }));
};

/**
 * The shell commands, run from the project root after esbuild built the function, that copy each
 * first-use file into `outputDir/node_modules/<package>/` with the package.json that exports it.
 */
export function firstUseFileCommands(files: readonly string[], outputDir: string): string[] {
  return firstUseFilesByPackage(files).flatMap(({ name, files: inside }) => {
    const dir = path.posix.join(outputDir, 'node_modules', name);
    return [
      `mkdir -p ${shellQuote(dir)}`,
      ...inside.map((file) => `cp ${shellQuote(path.posix.join('node_modules', name, file))} ${shellQuote(path.posix.join(dir, file))}`),
      `printf '%s' ${shellQuote(firstUseFilesPackageJson(name, inside))} > ${shellQuote(path.posix.join(dir, 'package.json'))}`,
    ];
  });
}

/**
 * Packages replaced in every function's bundle by a stand-in (esbuild's alias, relative to the project
 * root): code that a dependency loads but no deployed function runs. jsonschema (~28 KB) checks
 * ElectroDB's entity models, a check the functions skip (domain/store/prechecked-entity.ts); ElectroDB's
 * entry loads its Service too (~19 KB), which only that check uses.
 */
export const bundleAliases: Readonly<Record<string, string>> = {
  jsonschema: './infra/bundling/jsonschema-unused.cjs',
  electrodb: './infra/bundling/electrodb-runtime.cjs',
};

/** The first-use packages of a handler entry (relative to the repository root). */
export const firstUseModulesOf = (entry: string): string[] =>
  Object.entries(firstUseModules)
    .filter(([, entries]) => entries.includes(entry))
    .map(([name]) => name);

/**
 * What the function's own bundle is built with (infra/constructs/lambda-function.ts, mirrored by the
 * bench's `lambdaBuildOptions`), for a first-use package's bundle too: its CommonJS code calls
 * require(), which the banner provides in ESM.
 */
export const requireBanner =
  "import { createRequire as __createRequire } from 'module'; const require = __createRequire(import.meta.url);";

/** The package's module in the function's asset, relative to its root (Lambda's /var/task). */
export const firstUseModuleFile = (name: string) => path.posix.join('node_modules', name, 'index.mjs');

/** The module a first-use package's bundle is built from: its default export, as `import()` of the package gives it. */
export const firstUseModuleSource = (name: string) => `export { default } from ${JSON.stringify(name)};\n`;

/** The package.json that makes Node load `index.mjs` for `import('<name>')`. */
export const firstUseModulePackageJson = (name: string) =>
  `${JSON.stringify({ name, private: true, type: 'module', main: 'index.mjs' })}\n`;

/**
 * The shell commands, run from the project root after esbuild built the function (CDK's afterBundling
 * hook, local bundling), that bundle each first-use package into `outputDir` with the project's esbuild.
 */
export function firstUseModuleCommands(names: readonly string[], outputDir: string): string[] {
  return names.flatMap((name) => {
    const file = path.posix.join(outputDir, firstUseModuleFile(name));
    const args = [
      '--bundle',
      '--platform=node',
      '--format=esm',
      '--target=node24',
      '--minify',
      '--main-fields=module,main',
      '--external:@aws-sdk/*',
      `--banner:js=${requireBanner}`,
      `--sourcefile=first-use-${name}.mjs`,
      '--log-level=warning',
      `--outfile=${file}`,
    ];
    return [
      `printf '%s' ${shellQuote(firstUseModuleSource(name))} | node_modules/.bin/esbuild ${args.map(shellQuote).join(' ')}`,
      `printf '%s' ${shellQuote(firstUseModulePackageJson(name))} > ${shellQuote(path.posix.join(path.posix.dirname(file), 'package.json'))}`,
    ];
  });
}

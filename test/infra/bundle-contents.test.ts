import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build, type Metafile } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  firstUseFileCommands,
  firstUseFiles,
  firstUseFilesOf,
  firstUseModuleCommands,
  firstUseModuleFile,
  firstUseModules,
  firstUseModulesOf,
} from '../../infra/constructs/first-use-modules';
import { buildLambdaBundle, lambdaBuildOptions, lambdaEntries, repoRoot } from '../bench/harness';

/**
 * What no function's bundle may carry (issue 17, cold start), checked on every Lambda entry bundled
 * with the deployed esbuild settings: the whole route table or the OpenAPI generator, zod's locales,
 * or a static import of an SDK client other than DynamoDB's (each loads at cold start whether the
 * function calls it or not). Sizes and import times are the bench's (`npm run bench:bundles`).
 */
const entries = lambdaEntries();
const built = new Map<string, { entry: string; inputs: string[]; code: string }>();
let dir: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'crm-bundle-contents-'));
  symlinkSync(join(repoRoot, 'node_modules'), join(dir, 'node_modules'), 'dir');
  for (const { name, entry } of entries) {
    const outfile = join(dir, name, 'index.mjs');
    const metafile: Metafile = await buildLambdaBundle(entry, outfile);
    const output = Object.entries(metafile.outputs).find(([path]) => path.endsWith('.mjs'))![1];
    // The inputs that put code in the bundle (an index that only re-exports what is unused puts none).
    const inputs = Object.entries(output.inputs).filter(([, input]) => input.bytesInOutput > 0);
    built.set(name, { entry, inputs: inputs.map(([path]) => path), code: readFileSync(outfile, 'utf8') });
  }
}, 300_000);

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('every function bundle', () => {
  it('holds only its own route group, never the route table or the OpenAPI generator', () => {
    for (const [name, { inputs }] of built) {
      const carried = inputs.filter(
        (path) =>
          path === 'functions/http/routes.ts' ||
          /^functions\/http\/openapi(-examples|-generate)?\.(ts|json)$/.test(path) ||
          path.includes('node_modules/@asteasolutions/zod-to-openapi/'),
      );
      expect({ name, carried }).toEqual({ name, carried: [] });
    }
  });

  it('holds no zod locale but English', () => {
    for (const [name, { inputs }] of built) {
      const locales = inputs.filter((path) =>
        /node_modules\/zod\/.*\/locales\/(?!en\.js$|index\.js$)/.test(path),
      );
      expect({ name, locales }).toEqual({ name, locales: [] });
    }
  });

  it('carries no first-use package inline (the markdown renderer, exceljs, postal-mime)', () => {
    const heavy = (inputs: string[]) =>
      Object.keys(firstUseModules).filter((name) =>
        inputs.some((path) => path.includes(`node_modules/${name}/`)),
      );
    const carriers = [...built]
      .filter(([, { inputs }]) => heavy(inputs).length > 0)
      .map(([name, { inputs }]) => [name, heavy(inputs)]);
    expect(Object.fromEntries(carriers)).toEqual({});
  });

  it('loads each first-use package from beside it, exactly where the list says (workbooks, legacy ones; markdown for notes and tasks; inbound mail)', () => {
    const loaders = (code: string) => Object.keys(firstUseModules).filter((name) => code.includes(`import("${name}")`));
    const loading = [...built].filter(([, { code }]) => loaders(code).length > 0).map(([name, { code }]) => [name, loaders(code)]);
    expect(Object.fromEntries(loading)).toEqual({
      'http-notes': ['markdown-it', 'sanitize-html'],
      'http-tasks': ['markdown-it', 'sanitize-html'],
      'http-imports': ['exceljs', '@e965/xlsx'],
      'job-import_contacts': ['exceljs', '@e965/xlsx'],
      'job-export_contacts': ['exceljs'],
      'webhook-channel-hooks': ['postal-mime'],
    });
    for (const [name, { entry }] of built) {
      for (const module of firstUseModulesOf(entry)) {
        expect({ name, module, beside: existsSync(join(dir, name, firstUseModuleFile(module))) }).toEqual({ name, module, beside: true });
      }
    }
  });

  it('carries no phone metadata as code, and has the metadata file beside it exactly when it can parse a phone number', () => {
    // The code that reads the file names it; esbuild drops that code from a bundle that never parses a number.
    const parsers = [...built].filter(([, { code }]) => code.includes('"libphonenumber-js/metadata.max.json"')).map(([name]) => name);
    const listed = [...built].filter(([, { entry }]) => firstUseFilesOf(entry).includes('libphonenumber-js/metadata.max.json')).map(([name]) => name);
    expect(listed.sort()).toEqual(parsers.sort());
    expect(parsers).toContain('http-contacts');
    for (const [name, { inputs }] of built) {
      const metadata = inputs.filter((path) => /node_modules\/libphonenumber-js\/metadata\./.test(path));
      expect({ name, metadata }).toEqual({ name, metadata: [] });
    }
    for (const name of parsers) {
      const beside = join(dir, name, 'node_modules', 'libphonenumber-js', 'metadata.max.json');
      expect({ name, beside: existsSync(beside) }).toEqual({ name, beside: true });
    }
  });

  it('carries a stand-in for jsonschema, which only ElectroDB’s skipped model check would use', () => {
    for (const [name, { inputs }] of built) {
      const carried = inputs.filter((path) => path.includes('node_modules/jsonschema/'));
      expect({ name, carried }).toEqual({ name, carried: [] });
    }
  });

  it('carries ElectroDB’s entities and transactions, not its Service (only the model test joins entities)', () => {
    for (const [name, { inputs }] of built) {
      const electro = inputs.filter((path) => path.includes('node_modules/electrodb/'));
      expect({ name, entity: electro.some((path) => path.endsWith('src/entity.js')) }).toEqual({ name, entity: true });
      const carried = electro.filter((path) => /src\/(service|conversions)\.js$/.test(path));
      expect({ name, carried }).toEqual({ name, carried: [] });
    }
  });

  it('builds no answer’s schema at cold start: an HTTP function’s init registers no component that only answers use', () => {
    const answerOnly = answerOnlyComponents();
    expect(answerOnly.size).toBeGreaterThan(100);
    for (const [name] of built) {
      if (!name.startsWith('http-')) continue;
      // zod keeps one registry per process (on globalThis), the bundle's copy of zod included.
      const { ids } = inFreshNode<{ ids: string[] }>(
        join(dir, name),
        [
          `await import('./index.mjs');`,
          `process.stdout.write(JSON.stringify({ ids: [...globalThis.__zod_globalRegistry._idmap.keys()] }));`,
        ],
        lambdaInitEnv,
      );
      if (name === 'http-tags') expect(ids).toContain('CreateTagInput'); // inputs are built, and seen here
      expect({ name, answers: ids.filter((id) => answerOnly.has(id)) }).toEqual({ name, answers: [] });
    }
  });

  it('imports no SDK client at cold start but DynamoDB’s (the others on first use)', () => {
    for (const [name, { code }] of built) {
      const staticImports = [...code.matchAll(/from\s*"(@aws-sdk\/[\w-]+)"/g)].map((match) => match[1]!);
      const others = [...new Set(staticImports)].filter(
        (module) =>
          !['@aws-sdk/client-dynamodb', '@aws-sdk/lib-dynamodb', '@aws-sdk/util-dynamodb'].includes(module),
      );
      expect({ name, others }).toEqual({ name, others: [] });
    }
  });
});

/** As on Lambda, where a function builds its DynamoDB client and entities during init (functions/shared/deps.ts). */
const lambdaInitEnv = {
  PATH: process.env.PATH,
  AWS_REGION: 'us-east-1',
  AWS_LAMBDA_FUNCTION_NAME: 'crm-bundle-contents',
  TABLE_NAME: 'crm-bundle-contents',
  LOG_LEVEL: 'SILENT',
  NODE_ENV: 'production',
};

/**
 * The OpenAPI components only answers use (reached from a response, not from a parameter or a
 * request body): their schemas are built when the document asks (domain/shared/response-schema.ts).
 */
function answerOnlyComponents(): Set<string> {
  const document = JSON.parse(readFileSync(join(repoRoot, 'functions/http/openapi.json'), 'utf8')) as {
    paths: Record<string, Record<string, { parameters?: unknown; requestBody?: unknown; responses?: unknown }>>;
    components: { schemas: Record<string, unknown> };
  };
  const refsIn = (value: unknown, into = new Set<string>()): Set<string> => {
    for (const match of JSON.stringify(value ?? null).matchAll(/"#\/components\/schemas\/([^"]+)"/g)) into.add(match[1]!);
    return into;
  };
  const withTheirRefs = (names: Set<string>) => {
    const all = new Set<string>();
    const visit = (name: string) => {
      if (all.has(name)) return;
      all.add(name);
      for (const next of refsIn(document.components.schemas[name])) visit(next);
    };
    names.forEach(visit);
    return all;
  };
  const operations = Object.values(document.paths).flatMap((path) => Object.values(path));
  const inputs = withTheirRefs(refsIn(operations.map((operation) => [operation.parameters, operation.requestBody])));
  const answers = withTheirRefs(refsIn(operations.map((operation) => operation.responses)));
  return new Set([...answers].filter((name) => !inputs.has(name)));
}

/**
 * Runs `lines` as an ES module in a fresh Node process (as on Lambda) whose module scope is `moduleDir`,
 * so its `import()` of a package resolves as the function's would; returns what it wrote as JSON.
 */
function inFreshNode<T>(moduleDir: string, lines: string[], env?: NodeJS.ProcessEnv): T {
  const child = spawnSync(process.execPath, ['--input-type=module', '-e', lines.join('\n')], { cwd: moduleDir, encoding: 'utf8', timeout: 60_000, env });
  if (child.status !== 0) throw new Error(`node exited ${child.status}: ${child.stderr}`);
  return JSON.parse(child.stdout) as T;
}

/** A workbook written and read back by the exceljs that `import('exceljs')` finds from `moduleDir`: the resolved file, the sheet's name and a cell. */
function roundTripWorkbook(moduleDir: string) {
  return inFreshNode<{ resolved: string; sheet: string; cell: unknown }>(moduleDir, [
    `const resolved = import.meta.resolve('exceljs');`,
    `const ExcelJS = (await import('exceljs')).default;`,
    `const book = new ExcelJS.Workbook();`,
    `book.addWorksheet('Contacts').addRow(['Zoë Ångström', 'zoe@example.com']);`,
    `const read = new ExcelJS.Workbook();`,
    `await read.xlsx.load(await book.xlsx.writeBuffer());`,
    `const sheet = read.worksheets[0];`,
    `process.stdout.write(JSON.stringify({ resolved, sheet: sheet.name, cell: sheet.getCell('A1').value }));`,
  ]);
}

/** An Excel 97-2003 workbook written and read back by the SheetJS that `import()` finds from `moduleDir`. */
function roundTripLegacyWorkbook(moduleDir: string) {
  return inFreshNode<{ resolved: string; sheets: string[]; cell: unknown }>(moduleDir, [
    `const resolved = import.meta.resolve('@e965/xlsx');`,
    `const XLSX = (await import('@e965/xlsx')).default;`,
    `const book = XLSX.utils.book_new();`,
    `XLSX.utils.book_append_sheet(book, XLSX.utils.aoa_to_sheet([['Zoë Ångström', 'zoe@example.com']]), 'Contacts');`,
    `const read = XLSX.read(XLSX.write(book, { type: 'buffer', bookType: 'biff8' }), { type: 'buffer', dense: true });`,
    `process.stdout.write(JSON.stringify({ resolved, sheets: read.SheetNames, cell: read.Sheets.Contacts['!data'][0][0].v }));`,
  ]);
}

/** Markdown rendered by the markdown-it and sanitize-html that `import()` finds from `moduleDir`. */
function renderMarkdownIn(moduleDir: string) {
  return inFreshNode<{ resolved: string[]; html: string }>(moduleDir, [
    `const resolved = ['markdown-it', 'sanitize-html'].map((name) => import.meta.resolve(name));`,
    `const MarkdownIt = (await import('markdown-it')).default;`,
    `const sanitizeHtml = (await import('sanitize-html')).default;`,
    `const html = sanitizeHtml(new MarkdownIt().render('**Zoë** <img src=x onerror=alert(1)>'), { allowedTags: ['p', 'strong'] });`,
    `process.stdout.write(JSON.stringify({ resolved, html }));`,
  ]);
}

/** A mail parsed by the postal-mime that `import()` finds from `moduleDir`. */
function parseMailIn(moduleDir: string) {
  const mail = ['From: Zoë <zoe@example.com>', 'To: sales@acme.example', 'Subject: Price?', 'Content-Type: text/plain; charset=utf-8', '', 'How much is it?', ''].join('\r\n');
  return inFreshNode<{ resolved: string; from: string; subject: string; text: string }>(moduleDir, [
    `const resolved = import.meta.resolve('postal-mime');`,
    `const PostalMime = (await import('postal-mime')).default;`,
    `const email = await PostalMime.parse(${JSON.stringify(mail)});`,
    `process.stdout.write(JSON.stringify({ resolved, from: email.from.address, subject: email.subject, text: email.text.trim() }));`,
  ]);
}

/**
 * Channel values normalised by the phone code bundled as deployed into `outputDir` (which has no
 * node_modules above it, as on Lambda): the metadata file is found beside the bundle or not at all.
 */
async function normalisePhonesBundledIn(outputDir: string) {
  await build({
    ...lambdaBuildOptions,
    mainFields: [...lambdaBuildOptions.mainFields],
    external: [...lambdaBuildOptions.external],
    stdin: { contents: `export { normaliseChannelValue } from './domain/contacts/channels.ts';`, resolveDir: repoRoot, sourcefile: 'phones.ts', loader: 'ts' },
    absWorkingDir: repoRoot,
    outfile: join(outputDir, 'index.mjs'),
    logLevel: 'silent',
  });
  return inFreshNode<{ resolved: string; valid: string; refused: string }>(outputDir, [
    `const resolved = import.meta.resolve('libphonenumber-js/metadata.max.json');`,
    `const { normaliseChannelValue } = await import('./index.mjs');`,
    `const valid = normaliseChannelValue('phone', '020 7123 4567', { defaultCountry: 'GB' }).normalized;`,
    `let refused = 'accepted';`,
    `try { normaliseChannelValue('phone', '+1 555 555 5555'); } catch (error) { refused = error.code; }`,
    `process.stdout.write(JSON.stringify({ resolved, valid, refused }));`,
  ]);
}

describe('first-use packages as deployed', () => {
  it('the providers’ webhook function finds postal-mime beside its bundle, and parses a mail with it', () => {
    const functionDir = join(dir, 'webhook-channel-hooks');
    expect(parseMailIn(functionDir)).toEqual({
      resolved: `file://${join(functionDir, firstUseModuleFile('postal-mime'))}`,
      from: 'zoe@example.com',
      subject: 'Price?',
      text: 'How much is it?',
    });
  });

  it('the notes function finds markdown-it and sanitize-html beside its bundle, and renders with them', () => {
    const functionDir = join(dir, 'http-notes');
    expect(renderMarkdownIn(functionDir)).toEqual({
      resolved: ['markdown-it', 'sanitize-html'].map((name) => `file://${join(functionDir, firstUseModuleFile(name))}`),
      html: '<p><strong>Zoë</strong> &lt;img src=x onerror=alert(1)&gt;</p>\n',
    });
  });

  it('the import function finds exceljs beside its bundle, and it writes and reads a workbook', () => {
    const functionDir = join(dir, 'http-imports');
    expect(roundTripWorkbook(functionDir)).toEqual({
      resolved: `file://${join(functionDir, firstUseModuleFile('exceljs'))}`,
      sheet: 'Contacts',
      cell: 'Zoë Ångström',
    });
  });

  it('the import function finds SheetJS beside its bundle, and it writes and reads an .xls', () => {
    const functionDir = join(dir, 'http-imports');
    expect(roundTripLegacyWorkbook(functionDir)).toEqual({
      resolved: `file://${join(functionDir, firstUseModuleFile('@e965/xlsx'))}`,
      sheets: ['Contacts'],
      cell: 'Zoë Ångström',
    });
  });

  it('a function bundled with the CDK app’s commands reads the phone metadata from beside it, the full set', async () => {
    const outputDir = mkdtempSync(join(tmpdir(), 'crm-first-use-files-'));
    try {
      for (const command of firstUseFileCommands(Object.keys(firstUseFiles), outputDir)) {
        execFileSync('bash', ['-c', command], { cwd: repoRoot, stdio: ['ignore', 'ignore', 'pipe'] });
      }
      expect(await normalisePhonesBundledIn(outputDir)).toEqual({
        resolved: `file://${join(outputDir, 'node_modules/libphonenumber-js/metadata.max.json')}`,
        valid: '+442071234567',
        // Only the full metadata knows 555-555 is no real US number; the lengths alone would pass it.
        refused: 'validation_failed',
      });
    } finally {
      rmSync(outputDir, { recursive: true, force: true });
    }
  }, 60_000);

  it('with the jsonschema and ElectroDB stand-ins, every entity of the table builds and forms its requests and transactions as ElectroDB does', async () => {
    const outputDir = mkdtempSync(join(tmpdir(), 'crm-entities-'));
    try {
      await build({
        ...lambdaBuildOptions,
        mainFields: [...lambdaBuildOptions.mainFields],
        external: [...lambdaBuildOptions.external],
        stdin: {
          contents: [
            `export { createDb, entityNames } from './domain/store/db.ts';`,
            `export { createDocumentClient, createDynamoClient } from './domain/store/dynamo-client.ts';`,
          ].join('\n'),
          resolveDir: repoRoot,
          sourcefile: 'entities.ts',
          loader: 'ts',
        },
        absWorkingDir: repoRoot,
        outfile: join(outputDir, 'index.mjs'),
        logLevel: 'silent',
      });
      // The SDK is external, as on Lambda; the runtime's copy is the project's here.
      symlinkSync(join(repoRoot, 'node_modules'), join(outputDir, 'node_modules'), 'dir');
      const result = inFreshNode<{ built: number; key: unknown; transaction: unknown }>(outputDir, [
        `const { createDb, entityNames, createDocumentClient, createDynamoClient } = await import('./index.mjs');`,
        `const db = createDb(createDocumentClient(createDynamoClient({ region: 'us-east-1', endpoint: 'http://127.0.0.1:9' })), 'crm');`,
        `for (const name of entityNames) void db.entities[name];`,
        `const key = db.entities.contact.get({ workspaceId: 'ws_1', contactId: 'ct_1' }).params().Key;`,
        `const { TransactItems } = db.transactWrite(({ tag }) => [tag.delete({ workspaceId: 'ws_1', key: 'vip' }).commit()]).params();`,
        `process.stdout.write(JSON.stringify({ built: Object.keys(db.entities).length, key, transaction: TransactItems }));`,
      ]);
      expect(result.built).toBeGreaterThan(50);
      expect(result.key).toEqual({ pk: expect.stringContaining('ct_1'), sk: 'CONTACT' });
      expect(result.transaction).toEqual([{ Delete: expect.objectContaining({ TableName: 'crm', Key: expect.any(Object) }) }]);
    } finally {
      rmSync(outputDir, { recursive: true, force: true });
    }
  }, 60_000);

  it('the CDK app builds the same package with its afterBundling commands (run from the project root)', () => {
    const outputDir = mkdtempSync(join(tmpdir(), 'crm-first-use-'));
    try {
      for (const command of firstUseModuleCommands(Object.keys(firstUseModules), outputDir)) {
        execFileSync('bash', ['-c', command], { cwd: repoRoot, stdio: ['ignore', 'ignore', 'pipe'] });
      }
      expect(roundTripWorkbook(outputDir)).toEqual({
        resolved: `file://${join(outputDir, firstUseModuleFile('exceljs'))}`,
        sheet: 'Contacts',
        cell: 'Zoë Ångström',
      });
      expect(renderMarkdownIn(outputDir).html).toBe('<p><strong>Zoë</strong> &lt;img src=x onerror=alert(1)&gt;</p>\n');
      expect(parseMailIn(outputDir)).toMatchObject({ from: 'zoe@example.com', text: 'How much is it?' });
    } finally {
      rmSync(outputDir, { recursive: true, force: true });
    }
  }, 60_000);
});

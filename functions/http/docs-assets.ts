import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The files of the reference page at /docs: the ESM browser build of `@scalar/api-reference`, an
 * entry module (~0.8 MB) and the chunks it imports by relative URL (each under 1 MB), so every
 * response stays far below Lambda's 6 MB. Served from the npm package, never from a CDN.
 */
export const scalarBuild = {
  /** Where the build sits in the package, relative to the repository root. */
  packageDir: 'node_modules/@scalar/api-reference/dist/browser',
  entry: 'standalone.esm.js',
  chunksDir: 'chunks',
  /** The folder next to the deployed handler that the meta bundle carries them in (infra/constructs/api.ts). */
  bundleDir: 'docs-assets',
} as const;

/**
 * What the meta function's bundle carries (copied after esbuild by infra/constructs/api.ts): the
 * entry and the chunks, without their source maps (20 MB, and not served).
 */
export const docsAssetFiles = [
  { from: `${scalarBuild.packageDir}/${scalarBuild.entry}`, to: scalarBuild.bundleDir },
  {
    from: `${scalarBuild.packageDir}/${scalarBuild.chunksDir}/*.js`,
    to: `${scalarBuild.bundleDir}/${scalarBuild.chunksDir}`,
  },
] as const;

/** What the page and the asset routes need to know about the renderer files found. */
export interface DocsRenderer {
  dir: string;
  /** The start of the entry's SHA-256: the page asks for `standalone.esm.js?v=<this>`, which is then immutable. */
  version: string;
  /** The chunk file names: the only names `/docs/assets/chunks/{file}` serves. */
  chunks: ReadonlySet<string>;
  /** A file's text, read once. */
  read(relativePath: string): string;
}

/** Only plain file names of JavaScript modules, whatever the directory holds. */
const moduleName = /^\w[\w.-]*\.js$/;

/**
 * The renderer's directory: beside the bundled handler when deployed (Lambda's /var/task/docs-assets),
 * else the npm package (npm start and the tests run the handler from source).
 */
function candidateDirs(): string[] {
  return [
    fileURLToPath(new URL(`./${scalarBuild.bundleDir}`, import.meta.url)),
    fileURLToPath(new URL(`../../${scalarBuild.packageDir}`, import.meta.url)),
  ];
}

let found: DocsRenderer | null | undefined;

/** The renderer files, or undefined when they are missing (the page then falls back to plain HTML). */
export function docsRenderer(dirs: string[] = candidateDirs()): DocsRenderer | undefined {
  if (found !== undefined) return found ?? undefined;
  const dir = dirs.find((candidate) => existsSync(join(candidate, scalarBuild.entry)));
  found = dir ? openRenderer(dir) : null;
  return found ?? undefined;
}

/** Forgets what was found (tests). */
export function resetDocsRenderer() {
  found = undefined;
}

function openRenderer(dir: string): DocsRenderer {
  const texts = new Map<string, string>();
  const read = (relativePath: string) => {
    let text = texts.get(relativePath);
    if (text === undefined) {
      text = readFileSync(join(dir, relativePath), 'utf8');
      texts.set(relativePath, text);
    }
    return text;
  };
  const chunksPath = join(dir, scalarBuild.chunksDir);
  const chunks = new Set(
    existsSync(chunksPath) ? readdirSync(chunksPath).filter((name) => moduleName.test(name)) : [],
  );
  const version = createHash('sha256').update(read(scalarBuild.entry)).digest('hex').slice(0, 16);
  return { dir, version, chunks, read };
}

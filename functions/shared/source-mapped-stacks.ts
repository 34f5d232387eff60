import { existsSync, readFileSync } from 'node:fs';
import { SourceMap, type SourceMapPayload } from 'node:module';
import { fileURLToPath } from 'node:url';

/**
 * Stack traces that name the TypeScript file, line and function, read from the bundle's source map
 * only when a stack is first formatted. Node's own `--enable-source-maps` parses the whole map when the
 * bundle loads and keeps it for the life of the process (~65 MB of RSS and ~45 MB of heap per function,
 * measured in test/bench/README.md); stacks are formatted when an error is logged, which is rare, so
 * the parsed map is held through a `WeakRef` and the collector may take it back.
 *
 * Every Lambda bundle injects this file (`inject` in infra/constructs/lambda-function.ts). It does
 * nothing unless it runs from a bundle with its `.map` beside it and Node maps stacks itself no more.
 */
export function installSourceMappedStacks(bundleUrl: string): boolean {
  if (!bundleUrl.startsWith('file:')) return false;
  const bundlePath = fileURLToPath(bundleUrl);
  const mapPath = `${bundlePath}.map`;
  if (!existsSync(mapPath) || nodeMapsStacks()) return false;
  const sourceMap = lazySourceMap(bundlePath, mapPath);
  Error.prepareStackTrace = (error, callSites) => {
    const lines = [headerOf(error)];
    for (const site of callSites) lines.push(`    at ${frameText(site, bundleUrl, bundlePath, sourceMap)}`);
    return lines.join('\n');
  };
  return true;
}

function nodeMapsStacks(): boolean {
  const flags = [...process.execArgv, ...(process.env.NODE_OPTIONS ?? '').split(/\s+/)];
  return flags.includes('--enable-source-maps') || (process as { sourceMapsEnabled?: boolean }).sourceMapsEnabled === true;
}

interface ReadMap {
  map: SourceMap;
  /** The bundle's lines, to tell a function's mapped name from its parameters'. */
  generatedLines: string[];
}

function lazySourceMap(bundlePath: string, mapPath: string): () => ReadMap | undefined {
  let held: WeakRef<ReadMap> | undefined;
  let unreadable = false;
  return () => {
    if (unreadable) return undefined;
    const cached = held?.deref();
    if (cached) return cached;
    try {
      const parsed = {
        map: new SourceMap(JSON.parse(readFileSync(mapPath, 'utf8')) as SourceMapPayload),
        generatedLines: readFileSync(bundlePath, 'utf8').split('\n'),
      };
      held = new WeakRef(parsed);
      return parsed;
    } catch {
      unreadable = true;
      return undefined;
    }
  };
}

/** What V8 puts first: `Name: message`. */
function headerOf(error: Error): string {
  try {
    return Error.prototype.toString.call(error);
  } catch {
    return '<error>';
  }
}

function frameText(site: NodeJS.CallSite, bundleUrl: string, bundlePath: string, sourceMap: () => ReadMap | undefined): string {
  const fallback = () => String(site);
  try {
    const file = site.getFileName() ?? site.getScriptNameOrSourceURL();
    const line = site.getLineNumber();
    const column = site.getColumnNumber();
    if ((file !== bundleUrl && file !== bundlePath) || line === null || column === null) return fallback();
    const read = sourceMap();
    const entry = read?.map.findEntry(line - 1, column - 1);
    if (!read || !entry || !('originalSource' in entry)) return fallback();
    const location = `${readableSource(entry.originalSource)}:${entry.originalLine + 1}:${entry.originalColumn + 1}`;
    const name = enclosingName(site, read) ?? site.getFunctionName() ?? undefined;
    const async = site.isAsync?.() ? 'async ' : '';
    return name ? `${async}${name} (${location})` : `${async}${location}`;
  } catch {
    return fallback();
  }
}

/**
 * The original name of a renamed function a frame is in. V8 gives the function's (minified) name and
 * where the function starts (`function`, `async`); esbuild maps a renamed name where it is written, a
 * few columns on. (A method keeps its name: the first mapped name after it is a parameter's.)
 */
function enclosingName(site: NodeJS.CallSite, { map, generatedLines }: ReadMap): string | undefined {
  const minified = site.getFunctionName();
  if (!minified) return undefined;
  const withEnclosing = site as NodeJS.CallSite & { getEnclosingLineNumber?(): number | null; getEnclosingColumnNumber?(): number | null };
  const line = withEnclosing.getEnclosingLineNumber?.();
  const column = withEnclosing.getEnclosingColumnNumber?.();
  if (!line || !column) return undefined;
  for (let ahead = 0; ahead <= nameSearchColumns; ahead += 1) {
    const entry = map.findEntry(line - 1, column - 1 + ahead);
    if (!('generatedColumn' in entry) || entry.generatedLine !== line - 1) return undefined;
    if (ahead > 0 && entry.generatedColumn < column - 1) continue;
    if (!('name' in entry) || typeof entry.name !== 'string' || !entry.name) continue;
    return generatedLines[entry.generatedLine]?.startsWith(minified, entry.generatedColumn) ? entry.name : undefined;
  }
  return undefined;
}

/** `async function ` and a minified name fit in it. */
const nameSearchColumns = 20;

/**
 * A source as the map names it (relative to the bundle's folder at build time: `../../x/functions/a.ts`)
 * from the project's own folders or `node_modules` on.
 */
function readableSource(source: string): string {
  const fromRoot = /(?:^|\/)((?:functions|domain|events|local|infra|test|node_modules)\/.*)$/.exec(source);
  return fromRoot ? fromRoot[1]! : source.replace(/^(?:\.\.\/)+/, '');
}

installSourceMappedStacks(import.meta.url);

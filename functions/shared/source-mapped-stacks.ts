import { existsSync, readFileSync } from 'node:fs';
import { SourceMap, type SourceMapPayload } from 'node:module';
import { fileURLToPath } from 'node:url';

/**
 * Stack traces of the deployed bundle with each of its frames pointing at the TypeScript source: the
 * logger maps the stack of every error it writes (functions/shared/logger.ts).
 *
 * Node's own `--enable-source-maps` parses the bundle's whole map (2–3 MB) when the bundle loads and
 * keeps it for the life of the process: ~65 MB of RSS and ~45 MB of heap per function (measured in
 * test/bench/README.md). Here the map is read only when an error is logged, which is rare, and held
 * through a `WeakRef`, so the collector may take it back. The mapping works on the stack's text, so a
 * stack V8 formatted earlier (a library reads `.stack` at load) maps all the same.
 */
const bundleUrl = import.meta.url;
const bundlePath = bundleUrl.startsWith('file:') ? fileURLToPath(bundleUrl) : '';
const mapPath = `${bundlePath}.map`;
/** Only a bundle with its map beside it maps (not the sources run through tsx or vitest). */
const mapsStacks = bundlePath.endsWith('.mjs') && existsSync(mapPath);

let held: WeakRef<SourceMap> | undefined;
let unreadable = false;

function sourceMap(): SourceMap | undefined {
  if (!mapsStacks || unreadable) return undefined;
  const cached = held?.deref();
  if (cached) return cached;
  try {
    const parsed = new SourceMap(JSON.parse(readFileSync(mapPath, 'utf8')) as SourceMapPayload);
    held = new WeakRef(parsed);
    return parsed;
  } catch {
    unreadable = true;
    return undefined;
  }
}

const escaped = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
/** `file:///var/task/index.mjs:1:2345` or `/var/task/index.mjs:1:2345`. */
const framePattern = mapsStacks ? new RegExp(`(?:${escaped(bundleUrl)}|${escaped(bundlePath)}):(\\d+):(\\d+)`, 'g') : undefined;

/**
 * The stack text with every position in the bundle replaced by its source position
 * (`domain/contacts/contacts.service.ts:120:11`); unchanged when there is no map or a position has no mapping.
 */
export function mapStackText(stack: string): string {
  if (!framePattern || !stack.includes(bundlePath)) return stack;
  const map = sourceMap();
  if (!map) return stack;
  return stack.replace(framePattern, (whole, line: string, column: string) => {
    const entry = map.findEntry(Number(line) - 1, Number(column) - 1);
    if (!('originalSource' in entry) || !entry.originalSource) return whole;
    return `${readableSource(entry.originalSource)}:${entry.originalLine + 1}:${entry.originalColumn + 1}`;
  });
}

/**
 * A source as the map names it (relative to the bundle's folder at build time:
 * `../../build/functions/a.ts`), from the project's own folders or `node_modules` on.
 */
function readableSource(source: string): string {
  const fromRoot = /(?:^|\/)((?:functions|domain|events|local|infra|test|node_modules)\/.*)$/.exec(source);
  return fromRoot ? fromRoot[1]! : source.replace(/^(?:\.\.\/)+/, '');
}

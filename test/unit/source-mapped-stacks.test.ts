import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildLambdaBundle } from '../bench/harness';

// Frames keep the (minified) function names V8 gives; the positions are the sources'.
interface LoggedError {
  message: string;
  error: { name: string; message: string; location: string; stack: string };
}

// The deployed functions run without --enable-source-maps: the logger maps the stacks of the errors it
// writes (functions/shared/source-mapped-stacks.ts), so a logged error names the TypeScript source.
describe('logged errors of a Lambda bundle', () => {
  let dir: string;
  let bundle: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'stacks-'));
    bundle = join(dir, 'index.mjs');
    await buildLambdaBundle('test/fixtures/stack-trace-entry.ts', bundle);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const logged = (args: string[] = []): LoggedError[] =>
    // Powertools writes errors to stderr.
    spawnSync(process.execPath, [...args, bundle], { encoding: 'utf8', env: { PATH: process.env.PATH } })
      .stderr.split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as LoggedError);

  it('name the source file, line and column of each frame in the bundle, and the location', () => {
    const [lookup, serving] = logged();
    expect(lookup!.message).toBe('Lookup failed');
    const lines = lookup!.error.stack.split('\n');
    expect(lines[0]).toBe('Error: No record 42');
    expect(lines[1]).toMatch(/^ {4}at \S+ \(test\/fixtures\/stack-trace-entry\.ts:6:9\)$/);
    expect(lines[2]).toMatch(/^ {4}at \S+ \(test\/fixtures\/stack-trace-entry\.ts:10:3\)$/);
    expect(lookup!.error.location).toBe('test/fixtures/stack-trace-entry.ts:6');
    expect(lookup!.error.stack).not.toContain('index.mjs');

    const awaited = serving!.error.stack.split('\n');
    expect(awaited[0]).toBe('RangeError: Contact c1 is gone');
    expect(awaited[1]).toMatch(/^ {4}at \S+ \(test\/fixtures\/stack-trace-entry\.ts:16:11\)$/);
    expect(awaited[2]).toMatch(/^ {4}at async \S+ \(test\/fixtures\/stack-trace-entry\.ts:21:3\)$/);
  });

  it('leave the stack as it is when the map is missing', () => {
    rmSync(`${bundle}.map`);
    const [lookup] = logged();
    expect(lookup!.error.stack.split('\n')[0]).toBe('Error: No record 42');
    expect(lookup!.error.stack).toContain('index.mjs:');
    expect(lookup!.error.stack).not.toContain('stack-trace-entry.ts');
  });
});

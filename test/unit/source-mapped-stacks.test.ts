import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildLambdaBundle } from '../bench/harness';

// The deployed bundles map their stacks themselves (functions/shared/source-mapped-stacks.ts, injected
// by the bundling options): an error logged by a function names the TypeScript file and function.
describe('source-mapped stacks in a Lambda bundle', () => {
  let dir: string;
  let bundle: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'stacks-'));
    bundle = join(dir, 'index.mjs');
    await buildLambdaBundle('test/fixtures/stack-trace-entry.ts', bundle);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const stacksOf = (args: string[] = []) =>
    (JSON.parse(execFileSync(process.execPath, [...args, bundle], { encoding: 'utf8', env: { PATH: process.env.PATH } })) as { stacks: string[] }).stacks;
  const stackOf = (args: string[] = []) => stacksOf(args)[0]!;

  it('names the source file, line, column and function of each frame of the bundle', () => {
    const lines = stackOf().split('\n');
    expect(lines[0]).toBe('Error: No record 42');
    expect(lines[1]).toBe('    at findRecord (test/fixtures/stack-trace-entry.ts:4:9)');
    expect(lines[2]).toBe('    at handleRequest (test/fixtures/stack-trace-entry.ts:8:3)');
    expect(lines.join('\n')).not.toContain('index.mjs');
  });

  it('maps methods and awaited frames', () => {
    const lines = stacksOf()[1]!.split('\n');
    expect(lines[0]).toBe('RangeError: Contact c1 is gone');
    expect(lines[1]).toBe('    at load (test/fixtures/stack-trace-entry.ts:14:11)');
    expect(lines[2]).toBe('    at async serveContact (test/fixtures/stack-trace-entry.ts:19:3)');
  });

  it('leaves the stack alone when the map is missing, and to Node when it maps stacks itself', () => {
    const withNode = stackOf(['--enable-source-maps']);
    expect(withNode).toContain('stack-trace-entry.ts:4');
    rmSync(`${bundle}.map`);
    const unmapped = stackOf();
    expect(unmapped.split('\n')[0]).toBe('Error: No record 42');
    expect(unmapped).toContain('index.mjs:');
    expect(unmapped).not.toContain('stack-trace-entry.ts');
  });
});

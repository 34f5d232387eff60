import { describe, expect, it } from 'vitest';
import { eventCatalogue, eventTypes } from '../../events/catalogue';
import { builtOnFirstUse, loadedOnFirstUse } from '../../domain/shared/built-on-first-use';
import { loadExcelJs } from '../../domain/shared/exceljs';
import MarkdownIt from 'markdown-it';
import sanitizeHtml from 'sanitize-html';
import { createMarkdownRenderer } from '../../domain/shared/markdown';
import { loadMarkdownRenderer } from '../../domain/shared/markdown-on-first-use';

/** What modules build on first use instead of at import (cold start) behaves as if built at import. */
describe('built on first use (domain/shared/built-on-first-use.ts)', () => {
  it('builtOnFirstUse: lists every key without building, builds one key when it is read', () => {
    const built: string[] = [];
    const table = builtOnFirstUse({
      a: () => (built.push('a'), { name: 'a' }),
      b: () => (built.push('b'), { name: 'b' }),
    });
    expect(Object.keys(table)).toEqual(['a', 'b']);
    expect(built).toEqual([]);
    expect(table.b).toBe(table.b);
    expect(built).toEqual(['b']);
  });

  it('builtOnFirstUse with listOnlyBuilt: lists and walks only the keys built so far', () => {
    const built: string[] = [];
    const table = builtOnFirstUse(
      { a: () => (built.push('a'), 1), b: () => (built.push('b'), 2), c: () => (built.push('c'), 3) },
      { listOnlyBuilt: true },
    );
    expect(Object.keys(table)).toEqual([]);
    expect(table.c).toBe(3);
    expect(Object.values(table)).toEqual([3]);
    expect(table.a).toBe(1);
    expect(Object.keys(table)).toEqual(['a', 'c']);
    expect(built).toEqual(['c', 'a']);
  });

  it('builtOnFirstUse: a builder that throws is tried again on the next read', () => {
    let calls = 0;
    const table = builtOnFirstUse({
      flaky: () => {
        calls += 1;
        if (calls === 1) throw new Error('not yet');
        return 42;
      },
    });
    expect(() => table.flaky).toThrow('not yet');
    expect(table.flaky).toBe(42);
    expect(table.flaky).toBe(42);
    expect(calls).toBe(2);
  });

  it('loadedOnFirstUse: loads once for every caller, even callers that ask while it loads', async () => {
    let loads = 0;
    const load = loadedOnFirstUse(async () => ({ n: ++loads }));
    const [a, b] = await Promise.all([load(), load()]);
    expect(a).toBe(b);
    expect(await load()).toBe(a);
    expect(loads).toBe(1);
  });

  it('loadedOnFirstUse: a failed load is not kept, the next call loads again', async () => {
    let loads = 0;
    const load = loadedOnFirstUse(async () => {
      loads += 1;
      if (loads === 1) throw new Error('module not found');
      return 'module';
    });
    await expect(load()).rejects.toThrow('module not found');
    await expect(load()).resolves.toBe('module');
    await expect(load()).resolves.toBe('module');
    expect(loads).toBe(2);
  });

  it('exceljs loaded on first use is the library itself (its default export)', async () => {
    const excel = await loadExcelJs();
    expect(typeof excel.Workbook).toBe('function');
    expect(typeof excel.stream.xlsx.WorkbookReader).toBe('function');
    expect(await loadExcelJs()).toBe(excel);
  });

  it('the markdown renderer loaded on first use renders as one made of the packages imported at once, and is built once', async () => {
    const { renderMarkdown } = createMarkdownRenderer({ MarkdownIt, sanitizeHtml });
    const render = await loadMarkdownRenderer();
    expect(await loadMarkdownRenderer()).toBe(render);
    const source = '**hi** [x](javascript:alert(1)) <script>alert(1)</script> [ok](https://ok.example)';
    expect(render(source)).toBe(renderMarkdown(source));
    expect(render(source)).toContain('<a href="https://ok.example" rel="noopener noreferrer nofollow">ok</a>');
  });

  it('the event catalogue: every type has its schema, each built once', () => {
    expect(eventTypes).toContain('contact.created');
    for (const type of eventTypes) {
      expect(typeof eventCatalogue[type].parse, type).toBe('function');
      expect(eventCatalogue[type], type).toBe(eventCatalogue[type]);
    }
    expect(eventCatalogue['note.added'].parse({ anchor: { kind: 'contact', id: 'c1' }, excerpt: 'hi' })).toEqual({
      anchor: { kind: 'contact', id: 'c1' },
      excerpt: 'hi',
    });
    expect(() => eventCatalogue['sms.sent'].parse({ conversationId: 'c', messageId: 'm' })).toThrow();
  });
});

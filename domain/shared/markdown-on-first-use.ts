import { loadedOnFirstUse } from './built-on-first-use';
import { createMarkdownRenderer } from './markdown';

/**
 * The markdown renderer (./markdown), with markdown-it and sanitize-html (and postcss) imported on the
 * first render rather than at cold start: most calls of the functions that carry notes or tasks render
 * nothing. Deployed, both packages sit beside the function's bundle (infra/constructs/first-use-modules.ts),
 * so their code is not even parsed at init.
 */
export const loadMarkdownRenderer: () => Promise<(text: string) => string> = /* @__PURE__ */ loadedOnFirstUse(
  async () => {
    const [{ default: MarkdownIt }, { default: sanitizeHtml }] = await Promise.all([
      import('markdown-it'),
      import('sanitize-html'),
    ]);
    return createMarkdownRenderer({ MarkdownIt, sanitizeHtml }).renderMarkdown;
  },
);

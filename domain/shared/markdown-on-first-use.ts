import { loadedOnFirstUse } from './built-on-first-use';

/**
 * `renderMarkdown` (./markdown), with markdown-it, sanitize-html and postcss imported on the first
 * render rather than at cold start: evaluating them took ~20 ms of each import of the functions that
 * carry notes or tasks, and most of their calls render nothing.
 */
export const loadMarkdownRenderer: () => Promise<(text: string) => string> = /* @__PURE__ */ loadedOnFirstUse(
  async () => (await import('./markdown')).renderMarkdown,
);

import type MarkdownItPackage from 'markdown-it';
import type sanitizeHtmlPackage from 'sanitize-html';

/**
 * The two packages the renderer is made of. They are passed in rather than imported here: functions
 * import them on their first render (./markdown-on-first-use.ts), from beside their bundle.
 */
export interface MarkdownPackages {
  MarkdownIt: typeof MarkdownItPackage;
  sanitizeHtml: typeof sanitizeHtmlPackage;
}

export interface MarkdownRenderer {
  /** Renders markdown to sanitised HTML (no script, no event handlers, only http(s)/mailto links). */
  renderMarkdown: (text: string) => string;
  /** The second layer on its own: HTML cut down to the allowlist. */
  sanitizeRenderedHtml: (html: string) => string;
}

const linkSchemes = ['http', 'https', 'mailto'];
const safeLink = /^(?:https?:\/\/|mailto:)/i;

/**
 * Markdown to HTML that is safe to put in a page, in two layers:
 * 1. markdown-it with raw HTML off (`<script>` in the text comes out as text) and links limited to
 *    http(s) and mailto (anything else, `javascript:`, `data:`, `vbscript:`, relative, stays text);
 * 2. sanitize-html over its output with an allowlist of tags and attributes, the same schemes, and
 *    `rel="noopener noreferrer nofollow"` on every link, in case layer 1 ever lets something through.
 * Rendered on read, so a tightened rule applies to everything already stored.
 */
export function createMarkdownRenderer({ MarkdownIt, sanitizeHtml }: MarkdownPackages): MarkdownRenderer {
  const markdown = new MarkdownIt({ html: false, linkify: true, typographer: false });
  // markdown-it calls this with the link after entity decoding: `jav&#x61;script:` is seen as `javascript:`.
  markdown.validateLink = (url: string) => safeLink.test(url.trim());
  const sanitizeRenderedHtml = (html: string): string => sanitizeHtml(html, sanitizeOptions);
  return { sanitizeRenderedHtml, renderMarkdown: (text) => sanitizeRenderedHtml(markdown.render(text)) };
}

const sanitizeOptions: sanitizeHtmlPackage.IOptions = {
  allowedTags: [
    'p',
    'br',
    'hr',
    'h1',
    'h2',
    'h3',
    'h4',
    'h5',
    'h6',
    'blockquote',
    'ul',
    'ol',
    'li',
    'strong',
    'em',
    's',
    'code',
    'pre',
    'a',
    'img',
    'table',
    'thead',
    'tbody',
    'tr',
    'th',
    'td',
  ],
  allowedAttributes: {
    a: ['href', 'title', 'rel'],
    img: ['src', 'alt', 'title'],
    ol: ['start'],
    code: ['class'],
  },
  allowedClasses: { code: [/^language-[\w-]+$/] },
  allowedSchemes: linkSchemes,
  allowedSchemesByTag: { img: ['http', 'https'] },
  allowedSchemesAppliedToAttributes: ['href', 'src'],
  allowProtocolRelative: false,
  disallowedTagsMode: 'escape',
  transformTags: {
    a: (tagName, attribs) => ({ tagName, attribs: { ...attribs, rel: 'noopener noreferrer nofollow' } }),
  },
};

import MarkdownIt from 'markdown-it';
import sanitizeHtml from 'sanitize-html';
import { describe, expect, it } from 'vitest';
import { createMarkdownRenderer } from '../../domain/shared/markdown';

const { renderMarkdown, sanitizeRenderedHtml } = createMarkdownRenderer({ MarkdownIt, sanitizeHtml });

describe('markdown rendering', () => {
  it('renders markdown, showing raw HTML as text', () => {
    expect(renderMarkdown('**hi** <b onclick="x()">there</b>')).toBe(
      '<p><strong>hi</strong> &lt;b onclick="x()"&gt;there&lt;/b&gt;</p>\n',
    );
  });

  it.each([
    ['[a](javascript:alert(1))'],
    ['[a](java\tscript:alert(1))'],
    ['[a](&#x6A;avascript:alert(1))'],
    ['[a](data:text/html,<script>alert(1)</script>)'],
    ['[a](/relative/path)'],
    ['[a](//evil.example/x)'],
  ])('links only http(s) and mailto: %s stays text', (source) => {
    expect(renderMarkdown(source)).not.toContain('<a ');
  });

  it('cuts HTML to the allowlist as a second layer, whatever the first let through', () => {
    const dirty =
      '<p onclick="x()">a</p><script>alert(1)</script><img src="x" onerror="alert(1)"><a href="javascript:alert(1)">j</a>' +
      '<a href="https://ok.example" target="_blank" rel="opener">ok</a><iframe src="https://evil.example"></iframe><img src="data:image/png;base64,AA">';
    const clean = sanitizeRenderedHtml(dirty);
    expect(clean).not.toMatch(/onclick|onerror|<script|javascript:|<iframe|data:|target=/);
    expect(clean).toContain('<a href="https://ok.example" rel="noopener noreferrer nofollow">ok</a>');
  });
});

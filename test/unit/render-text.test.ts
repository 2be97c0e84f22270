import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { quoteText, renderText } from '../../src/forum/text.ts';

const link = (url: string, text = url) => `<a href="${url}" rel="nofollow ugc noopener">${text}</a>`;

/** Tags the renderer may produce; anything else means markup got through. */
const ALLOWED_TAGS = new Set(['p', 'br', 'a', 'strong', 'em', 's', 'code', 'pre', 'blockquote', 'ul', 'ol', 'li', 'h1', 'h2', 'h3', 'h4', 'h5', 'h6', 'hr', 'table', 'thead', 'tbody', 'tr', 'th', 'td']);
/** Attributes it may produce, and what their values may be. */
const ALLOWED_ATTRIBUTES: Record<string, RegExp> = {
  href: /^(?:https?:\/\/|mailto:|\/(?!\/)|#)/i,
  rel: /^nofollow ugc noopener$/,
  class: /^language-[^"<>]*$/,
  start: /^\d+$/,
  style: /^text-align:(?:left|right|center)$/,
};

function unsafeMarkup(html: string): string[] {
  const problems: string[] = [];
  for (const [, name, attributes] of html.matchAll(/<\/?([a-zA-Z0-9]+)([^>]*)>/g)) {
    if (!ALLOWED_TAGS.has(name!.toLowerCase())) problems.push(`tag ${name}`);
    for (const [, attr, value] of attributes!.matchAll(/([^\s=]+)="([^"]*)"/g)) {
      const rule = ALLOWED_ATTRIBUTES[attr!.toLowerCase()];
      if (!rule || !rule.test(value!)) problems.push(`${attr}="${value}"`);
    }
    // Every attribute is name="value": nothing unquoted slipped in.
    if (attributes!.replace(/\s*[^\s=]+="[^"]*"/g, '').replace(/\s*\/?$/, '').trim()) problems.push(`attributes ${attributes}`);
  }
  return problems;
}

describe('renderText (Markdown)', () => {
  it('shows raw HTML as text', () => {
    expect(renderText(`<script>alert("x")</script> & 'q'`)).toBe('<p>&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; \'q\'</p>\n');
    expect(renderText('<img src=x onerror=alert(1)>')).not.toContain('<img');
  });

  it('keeps line breaks within a paragraph', () => {
    expect(renderText('one\ntwo')).toBe('<p>one<br>\ntwo</p>\n');
  });

  it('renders emphasis, code blocks, quotes and lists', () => {
    expect(renderText('**bold** _it_ `x<y`')).toBe('<p><strong>bold</strong> <em>it</em> <code>x&lt;y</code></p>\n');
    expect(renderText('```js\nlet a = "<b>";\n```')).toBe('<pre><code class="language-js">let a = &quot;&lt;b&gt;&quot;;\n</code></pre>\n');
    expect(renderText('> quoted')).toBe('<blockquote>\n<p>quoted</p>\n</blockquote>\n');
    expect(renderText('- a\n- b')).toBe('<ul>\n<li>a</li>\n<li>b</li>\n</ul>\n');
  });

  it.each([
    ['see https://example.com.', `<p>see ${link('https://example.com')}.</p>\n`],
    ['[docs](https://socket.io/docs/)', `<p>${link('https://socket.io/docs/', 'docs')}</p>\n`],
    ['https://x.example/?a=1&b=2', `<p>${link('https://x.example/?a=1&amp;b=2')}</p>\n`],
    ['参考：https://socket.io/zh-CN/docs/v4/ 谢谢', `<p>参考：${link('https://socket.io/zh-CN/docs/v4/')} 谢谢</p>\n`],
  ])('links %j with rel="nofollow ugc noopener"', (input, html) => {
    expect(renderText(input)).toBe(html);
  });

  it.each([
    '[x](javascript:alert(1))',
    '[x](JAVASCRIPT:alert(1))',
    '[x](java\tscript:alert(1))',
    '[x](vbscript:msgbox)',
    '[x](data:text/html,<script>alert(1)</script>)',
    '[x](//evil.example/)',
    '<javascript:alert(1)>',
    'javascript:alert(1)',
    'www.example.com',
  ])('makes no link or image of %j', (input) => {
    const html = renderText(input);
    expect(html).not.toMatch(/<a |<img/);
  });

  it('shows an image as a plain link: no outside image loads (a tracking pixel, and the CSP refuses it)', () => {
    expect(renderText('![img](https://evil.example/pixel.png)')).toBe(`<p>!${link('https://evil.example/pixel.png', 'img')}</p>\n`);
  });

  it('produces only its own tags and attributes, whatever is typed', () => {
    const pieces = fc.constantFrom(
      '<', '>', '"', "'", '&', '\n', '\n\n', ' ', '`', '```', '*', '_', '[', ']', '(', ')', '!', '#', '> ', '- ', '1. ', '|', '---',
      'http://', 'https://a.b/', 'javascript:', 'data:', '<script>', 'onerror=', 'x', '字',
    );
    fc.assert(
      fc.property(fc.array(fc.oneof(pieces, fc.string()), { maxLength: 30 }), (parts) => {
        expect(unsafeMarkup(renderText(parts.join('')))).toEqual([]);
      }),
      { numRuns: 500 },
    );
  });
});

describe('quoteText', () => {
  it('quotes every line and names the author', () => {
    expect(quoteText('bob', 'one\ntwo')).toBe('**@bob:**\n> one\n> two\n\n');
  });
});

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { renderText } from '../../src/forum/text.ts';

const link = (url: string) => `<a href="${url}" rel="nofollow noopener ugc">${url}</a>`;

/** What a browser would show as text: our own tags removed, entities decoded. */
function visibleText(html: string): string {
  return html
    .replace(/<br>\n/g, '\n')
    .replace(/<a href="[^"]*" rel="nofollow noopener ugc">/g, '')
    .replace(/<\/a>/g, '')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&amp;/g, '&');
}

describe('renderText', () => {
  it('escapes markup', () => {
    expect(renderText(`<script>alert("x")</script> & 'q'`)).toBe('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;q&#39;');
  });

  it('keeps line breaks, whatever the line ending', () => {
    expect(renderText('one\ntwo\r\nthree\rfour')).toBe('one<br>\ntwo<br>\nthree<br>\nfour');
  });

  it.each([
    ['see https://example.com.', `see ${link('https://example.com')}.`],
    ['(http://example.com/a)', `(${link('http://example.com/a')})`],
    ['https://en.wikipedia.org/wiki/Foo_(bar), yes', `${link('https://en.wikipedia.org/wiki/Foo_(bar)')}, yes`],
    ['https://x.example/?a=1&b=2', link('https://x.example/?a=1&amp;b=2')],
    ['<https://x.example/p>', `&lt;${link('https://x.example/p')}&gt;`],
    ['"https://x.example/q"', `&quot;${link('https://x.example/q')}&quot;`],
    ['参考：https://socket.io/zh-CN/docs/v4/，谢谢', `参考：${link('https://socket.io/zh-CN/docs/v4/')}，谢谢`],
    ['HTTPS://EXAMPLE.COM', link('HTTPS://EXAMPLE.COM')],
  ])('links %j', (input, html) => {
    expect(renderText(input)).toBe(html);
  });

  it.each(['javascript:alert(1)', 'ftp://example.com', 'www.example.com', 'http://', 'https://.', 'xhttp://example.com', 'data:text/html,<b>x</b>'])(
    'does not link %j',
    (input) => {
      expect(renderText(input)).not.toContain('<a ');
    },
  );

  it('cannot be made to produce markup of its own, and loses no text', () => {
    const pieces = fc.constantFrom('<', '>', '"', "'", '&', '\n', '\r\n', ' ', 'http://', 'https://a.b/', 'x', '字', '(', ')', '.', ';', '#39;', 'amp;', 'lt;');
    fc.assert(
      fc.property(fc.array(fc.oneof(pieces, fc.string()), { maxLength: 30 }), (parts) => {
        const input = parts.join('');
        const html = renderText(input);
        // Only our tags: every "<" starts <br>, <a href="http…" rel=…> or </a>.
        const stripped = html.replace(/<br>|<a href="https?:\/\/[^"<>]*" rel="nofollow noopener ugc">|<\/a>/gi, '');
        expect(stripped).not.toMatch(/[<>"]/);
        expect(visibleText(html)).toBe(input.replace(/\r\n?/g, '\n'));
      }),
      { numRuns: 500 },
    );
  });
});

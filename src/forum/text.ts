// What members write (posts, replies, private messages) as HTML: Markdown through
// markdown-it, the one parser for every place text is shown. Pages render on the server;
// live messages carry the same server-rendered HTML in their event (`message.html`), so
// the browser never parses Markdown and there is one configuration to keep safe.
//
// Safe by construction rather than by cleaning afterwards:
// - `html: false`: raw HTML a member types is shown as text, never parsed as markup;
// - links only to http(s), mailto and this site (markdown-it's own check already drops
//   javascript:, vbscript:, file: and data:), each with rel="nofollow ugc noopener";
// - no images: the page's CSP allows images from this site only, and an outside image
//   is a tracking pixel.
// Tokens are rendered by markdown-it's escaping renderer, so no attribute or text can
// carry a quote or angle bracket out of place; test/unit/render-text.test.ts fuzzes it
// and test/e2e/forum-format.e2e.ts runs the payloads in a browser.
import MarkdownIt from 'markdown-it';

const LINK_REL = 'nofollow ugc noopener';
const ALLOWED_LINK = /^(?:https?:\/\/|mailto:|\/(?!\/)|#)/i;

const md = new MarkdownIt({ html: false, linkify: true, breaks: true, typographer: false });
md.disable(['image']);
// Only what is written as a URL becomes a link: "example.com" and bare e-mail addresses stay text.
md.linkify.set({ fuzzyLink: false, fuzzyEmail: false, fuzzyIP: false });

const defaultValidate = md.validateLink.bind(md);
md.validateLink = (url) => defaultValidate(url) && ALLOWED_LINK.test(url.trim());

md.renderer.rules.link_open = (tokens, idx, options, _env, self) => {
  tokens[idx]!.attrSet('rel', LINK_REL);
  return self.renderToken(tokens, idx, options);
};

/** A member's text as HTML, safe to insert unescaped. */
export function renderText(text: string): string {
  return md.render(text);
}

/** A quote of someone's text, ready to put into a reply: every line behind "> ". */
export function quoteText(author: string, text: string): string {
  const quoted = text
    .split(/\r\n?|\n/)
    .map((line) => `> ${line}`.trimEnd())
    .join('\n');
  return `**@${author}:**\n${quoted}\n\n`;
}

// Text that lies about itself: what members write may not carry characters that hide,
// reorder or corrupt what others see. One rule for every place a member writes
// (messages, posts, replies, titles, usernames), applied at the edge by the schemas:
//
// - C0 and C1 control characters (NUL included) and DEL are removed, except tab and
//   line breaks: invisible, and trouble for storage and terminals.
// - Bidirectional embeddings, overrides and isolates (U+202A–U+202E, U+2066–U+2069) are
//   removed: U+202E makes "txt.exe" read "exe.txt". Right-to-left text needs none of
//   them (the Unicode bidi algorithm orders it); the plain marks U+200E/U+200F stay.
// - A lone surrogate (half of a UTF-16 pair, not a character) becomes U+FFFD, the
//   replacement character, as a browser would show it; MongoDB cannot store it as UTF-8.
//
// Removing rather than refusing: a pasted invisible character is rarely meant, and the
// member's text is kept rather than lost.

// eslint-disable-next-line no-control-regex
const CONTROLS = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]/g;
const BIDI_CONTROLS = /[\u202A-\u202E\u2066-\u2069]/g;
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/** The text with every character above taken out (lone surrogates replaced). */
export function neutraliseText(text: string): string {
  return text.replace(LONE_SURROGATE, '\uFFFD').replace(CONTROLS, '').replace(BIDI_CONTROLS, '');
}

/** Whether `text` holds nothing `neutraliseText` would change. */
export function isSafeText(text: string): boolean {
  return neutraliseText(text) === text;
}

/**
 * Caller-supplied text on its way to the row, the audit table, a log line or a webhook:
 * control characters out, length capped. Chat text additionally has its markdown and
 * mentions escaped, so a reason cannot ping a channel or fake formatting.
 */

/** Caps for the strings a caller can send (characters, after cleaning). */
export const TEXT_LIMITS = {
  actor: 128,
  reason: 500,
  error: 1000,
  url: 2048,
} as const;

// C0 and C1 controls, DEL, and the Unicode format characters that reorder or hide text
// (bidi embeddings and isolates, zero-width joiners, BOM, line/paragraph separators).
// eslint-disable-next-line no-control-regex -- matching control characters is this pattern's purpose
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff\ufff9-\ufffb]/g;

/** Replaces every control or invisible format character by a space and collapses runs of spaces. */
export function stripControl(text: string): string {
  return text.replace(UNSAFE, " ").replace(/ {2,}/g, " ").trim();
}

/** Cuts to at most `max` characters without splitting a surrogate pair; marks the cut with "…". */
export function capText(text: string, max: number): string {
  const chars = Array.from(text);
  if (chars.length <= max) return text;
  return `${chars.slice(0, Math.max(0, max - 1)).join("")}…`;
}

/** What every caller-supplied string goes through before it is stored or logged. */
export function cleanText(text: string, max: number): string {
  return capText(stripControl(text), max);
}

/** True when the text has a character that cleanText would remove. */
export function hasControl(text: string): boolean {
  return new RegExp(UNSAFE.source).test(text);
}

/**
 * Caller-supplied text inside a Teams or Slack message: the markdown characters that format
 * or link (`\ \` * _ ~ [ ] # |`) are backslash-escaped, `<`, `>`
 * and `&` are entity-encoded (Slack's `<!channel>`, `<@U123>` and Teams' `<at>` need them),
 * and an `@` is followed by a word joiner so `@channel`, `@here` or `@everyone` is not a mention.
 */
export function escapeChatText(text: string): string {
  return stripControl(text)
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/([\\`*_~[\]#|])/g, "\\$1")
    .replace(/@/g, "@\u2060");
}

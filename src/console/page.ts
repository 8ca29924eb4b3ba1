import { createHash } from "node:crypto";
import { CONSOLE_SCRIPT } from "./script";
import { CONSOLE_STYLE } from "./style";

/**
 * The operator console: one self-contained HTML page (its script and style inline, nothing
 * fetched from elsewhere) under a strict Content-Security-Policy that allows exactly that
 * script and that style by their hashes, and requests to this app only.
 */

function sha256(text: string): string {
  return `'sha256-${createHash("sha256").update(text, "utf8").digest("base64")}'`;
}

const HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Failover console</title>
<style>${CONSOLE_STYLE}</style>
</head>
<body>
<header><h1>Failover console</h1><span class="summary" id="summary">reading…</span><span class="refreshed" id="refreshed"></span></header>
<div id="banner" role="alert"></div>
<div class="toolbar"><input id="filter" type="search" placeholder="filter groups" aria-label="filter groups"><label><input id="problems" type="checkbox"> problems only</label><span id="shown" class="meta"></span></div>
<main id="groups" aria-live="polite">
<table class="groups"><thead><tr><th>severity</th><th>group</th><th>active · traffic</th><th>active health</th><th>standby</th><th>last switch</th><th>cooldown</th><th>pause</th><th>loop</th><th>why</th></tr></thead><tbody id="rows"></tbody></table>
</main>
<dialog id="confirm">
  <form method="dialog">
    <h2 id="confirm-title"></h2>
    <p id="confirm-warning" class="warning"></p>
    <div id="confirm-expiry-row"><label for="confirm-minutes">Pause for (minutes, 0 = until resumed)</label><input id="confirm-minutes" type="number" min="0" max="10080" value="60"></div>
    <label for="confirm-reason">Reason (recorded in the audit history)</label>
    <input id="confirm-reason" type="text" maxlength="500" required>
    <div id="confirm-force-row"><label class="force"><input id="confirm-force" type="checkbox"> Break-glass: force (skips the cooldown and the standby check; recorded as forced)</label></div>
    <div class="buttons"><button value="cancel" formnovalidate>Cancel</button><button id="confirm-ok" class="danger" value="ok"></button></div>
  </form>
</dialog>
<script>${CONSOLE_SCRIPT}</script>
</body>
</html>
`;

export const CONSOLE_CSP = [
  "default-src 'none'",
  `script-src ${sha256(CONSOLE_SCRIPT)}`,
  `style-src ${sha256(CONSOLE_STYLE)}`,
  "connect-src 'self'",
  "img-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join("; ");

export interface ConsolePage {
  readonly html: string;
  readonly headers: Readonly<Record<string, string>>;
}

export function consolePage(): ConsolePage {
  return {
    html: HTML,
    headers: {
      "content-type": "text/html; charset=utf-8",
      "content-security-policy": CONSOLE_CSP,
      // The page may carry the function key in its URL (?code=): never send it on as a referrer.
      "referrer-policy": "no-referrer",
      "x-content-type-options": "nosniff",
      "cache-control": "no-store",
    },
  };
}

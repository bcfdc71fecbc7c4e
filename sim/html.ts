// HTML escaping and the page shell shared by the consent and error pages.

const ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
  '`': '&#96;',
};

/** Escapes a value for HTML text and for quoted attribute values. */
export function escapeHtml(value: string): string {
  return value.replace(/[&<>"'`]/g, (ch) => ESCAPES[ch] ?? ch);
}

/** A complete document around an already-escaped body. */
export function page(title: string, bodyHtml: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>${escapeHtml(title)}</title>
<style>
body { font-family: system-ui, sans-serif; max-width: 40rem; margin: 3rem auto; padding: 0 1rem; color: #172b4d; }
button { padding: 0.5rem 1rem; margin-right: 0.5rem; }
.error { color: #ae2a19; }
</style>
</head>
<body>
${bodyHtml}
</body>
</html>
`;
}

/** Escapes text for HTML bodies and attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

export function page(title: string, body: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)} · assetflow</title>
<style>
  body { font: 15px/1.5 system-ui, sans-serif; margin: 0 auto; max-width: 60rem; padding: 1rem 1.5rem; color: #1b1f24; }
  h1 { font-size: 1.4rem; } a { color: #0b5cad; }
  article { border: 1px solid #d0d7de; border-radius: 6px; padding: .75rem 1rem; margin: .75rem 0; }
  pre { white-space: pre-wrap; font: 13px/1.45 ui-monospace, monospace; background: #f6f8fa; padding: .5rem; }
  .meta { color: #57606a; font-size: .85rem; }
  table { border-collapse: collapse; width: 100%; } th, td { text-align: left; padding: .3rem .5rem; border-bottom: 1px solid #d0d7de; }
  label { display: block; font-weight: 600; margin: .5rem 0 .25rem; } textarea { width: 100%; font: inherit; }
  .actions { display: flex; gap: .75rem; margin: .75rem 0; }
  button { font: inherit; padding: .45rem 1.2rem; border-radius: 6px; border: 1px solid #1f7a3a; background: #1f883d; color: #fff; cursor: pointer; }
  button.reject { background: #cf222e; border-color: #a40e26; }
  .notice { padding: .6rem .9rem; border-radius: 6px; } .notice.ok { background: #dafbe1; } .notice.error { background: #ffebe9; }
</style>
</head>
<body>
${body}
</body>
</html>`;
}

/** Escapes text for HTML bodies and attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

export interface PageOptions {
  /** A site header (the web UI's navigation): the body then goes in <main>, with a skip link and a wider column. */
  header?: string;
}

export function page(title: string, body: string, options: PageOptions = {}): string {
  const content = options.header
    ? `<a class="skip" href="#main">Skip to content</a>\n<header class="site">${options.header}</header>\n<main id="main" tabindex="-1">\n${body}\n</main>`
    : body;
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
  body.app { max-width: 84rem; }
  :focus-visible { outline: 3px solid #0969da; outline-offset: 2px; }
  .skip { position: absolute; left: -999px; } .skip:focus { left: 1rem; top: .5rem; background: #fff; padding: .25rem .5rem; }
  header.site { display: flex; flex-wrap: wrap; align-items: center; gap: .5rem 1.25rem; border-bottom: 1px solid #d0d7de; padding-bottom: .5rem; }
  header.site nav ul { display: flex; flex-wrap: wrap; gap: .25rem 1rem; list-style: none; margin: 0; padding: 0; }
  header.site nav a[aria-current="page"] { font-weight: 700; text-decoration-thickness: 3px; }
  header.site .who { margin-left: auto; display: flex; align-items: center; gap: .75rem; }
  header.site .who form { margin: 0; } header.site .brand { font-weight: 700; color: #1b1f24; text-decoration: none; }
  button.secondary { background: #f6f8fa; color: #1b1f24; border-color: #8c959f; padding: .25rem .8rem; }
  thead th { background: #f6f8fa; } td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
  td.when { white-space: nowrap; } td.details { overflow-wrap: anywhere; font-size: .9rem; }
  .sr-only { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }
  caption { text-align: left; font-weight: 600; padding: .25rem 0; }
  form.filters { display: flex; flex-wrap: wrap; align-items: flex-end; gap: .25rem 1rem; margin: .5rem 0 1rem; }
  form.filters label { margin: 0 0 .15rem; font-size: .85rem; } form.filters .check label { display: inline; font-weight: 400; }
  input, select { font: inherit; padding: .3rem .4rem; border: 1px solid #8c959f; border-radius: 4px; }
  .breached { color: #a40e26; font-weight: 700; } .waiting { background: #fff8c5; border: 1px solid #d4a72c; border-radius: 6px; padding: .6rem .9rem; font-size: 1.05rem; }
  .grid2 { display: grid; grid-template-columns: repeat(auto-fit, minmax(22rem, 1fr)); gap: 0 2rem; }
  .pager { display: flex; gap: 1rem; align-items: center; margin: .75rem 0; }
  svg.chart { max-width: 100%; height: auto; } svg.chart .bar.started { fill: #0969da; } svg.chart .bar.finished { fill: #1a7f37; }
  svg.chart .grid { stroke: #d0d7de; } svg.chart .axis { stroke: #57606a; } svg.chart text { font: 12px system-ui, sans-serif; fill: #1b1f24; }
  dl.summary { display: grid; grid-template-columns: max-content 1fr; gap: .2rem 1rem; } dl.summary dt { font-weight: 600; } dl.summary dd { margin: 0; }
</style>
</head>
<body${options.header ? ' class="app"' : ''}>
${content}
</body>
</html>`;
}

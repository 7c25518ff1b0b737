/**
 * HTML that is safe by construction. Every page is built with the `html` tagged template, which
 * escapes each interpolated value unless it is already SafeHtml (an inner `html` template, or a
 * page part built with it), so text from people or the database cannot become markup. The page
 * shell accepts only SafeHtml, and `sendHtml` sends it with the security headers.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { RequestHandler, Response } from 'express';
import helmet from 'helmet';

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Escapes text for element content and (quoted) attribute values alike. Private: build with `html`. */
const escapeText = (text: string) => text.replace(/[&<>"']/g, (c) => ESCAPES[c]!);

let trust: (markup: string) => SafeHtml;

/**
 * Markup that may be sent as it is. Only `html` (which escapes every value it is given) and the
 * visible escape hatch `trustedHtml` make one: the constructor is private and the class nominal,
 * so neither a string nor a look-alike object passes for it.
 */
export class SafeHtml {
  readonly #markup: string;

  private constructor(markup: string) {
    this.#markup = markup;
  }

  static {
    trust = (markup) => new SafeHtml(markup);
  }

  toString(): string {
    return this.#markup;
  }
}

/**
 * What a template may interpolate: SafeHtml as it is; text and numbers escaped; arrays each
 * element in turn, without separator; null, undefined and false nothing (so `cond && html\`...\``
 * works). `true` and objects are refused by the type: write what should be shown.
 */
export type HtmlValue = SafeHtml | string | number | false | null | undefined | readonly HtmlValue[];

function render(value: HtmlValue): string {
  if (value instanceof SafeHtml) return value.toString();
  if (value === null || value === undefined || value === false) return '';
  if (Array.isArray(value)) return value.map(render).join('');
  return escapeText(String(value));
}

/** The one way to write HTML: `html\`<p class="${kind}">${text}</p>\`` escapes kind and text. */
export function html(strings: TemplateStringsArray, ...values: HtmlValue[]): SafeHtml {
  let markup = strings[0];
  for (let i = 0; i < values.length; i++) markup += render(values[i]) + strings[i + 1];
  return trust(markup);
}

/** Values (escaped like interpolations) with a separator between them: rows a line apart, names comma-separated. */
export function join(values: readonly HtmlValue[], separator: HtmlValue = ''): SafeHtml {
  const between = render(separator);
  return trust(values.map(render).join(between));
}

/**
 * The escape hatch: markup taken as it is, unescaped. Only for markup that is not built here and
 * is trusted as a whole (a vetted, static fragment); never for anything a person or the database
 * supplied. Nothing in assetflow needs it today; search for it when reviewing.
 */
export function trustedHtml(markup: string): SafeHtml {
  return trust(markup);
}

// ---------------------------------------------------------------------------------------------
// The page shell and sending it
// ---------------------------------------------------------------------------------------------

type CspDirectives = Record<string, string[]>;

/**
 * The pages' policy: no scripts or outside resources at all, forms post only here, no framing
 * (frame-ancestors, and X-Frame-Options for browsers that predate it).
 */
export const PAGE_CSP: CspDirectives = {
  defaultSrc: ["'none'"],
  styleSrc: ["'unsafe-inline'"],
  imgSrc: ["'self'", 'data:'],
  formAction: ["'self'"],
  frameAncestors: ["'none'"],
  baseUri: ["'none'"],
};

/** Swagger UI at /docs runs its own scripts and styles, served from /docs itself; still nothing from elsewhere and no framing. */
export const DOCS_CSP: CspDirectives = {
  defaultSrc: ["'self'"],
  scriptSrc: ["'self'"],
  styleSrc: ["'self'", "'unsafe-inline'"],
  imgSrc: ["'self'", 'data:'],
  fontSrc: ["'self'", 'data:'],
  connectSrc: ["'self'"],
  objectSrc: ["'none'"],
  formAction: ["'self'"],
  frameAncestors: ["'none'"],
  baseUri: ["'none'"],
};

/**
 * The headers every answer of the app carries: helmet's set with our policy, and no caching. Pages
 * hold CSRF tokens, approval links' tokens and personal data, so nothing is cached and no URL
 * leaves in a Referer; nothing is sniffed into another type. Helmet writes them once into a record,
 * so the middleware and sendHtml set the very same headers.
 */
function securityHeadersOf(csp: CspDirectives): Readonly<Record<string, string>> {
  const headers: Record<string, string> = { 'Cache-Control': 'no-store' };
  const collect = { setHeader: (name: string, value: string) => { headers[name] = value; }, removeHeader: () => undefined };
  helmet({
    contentSecurityPolicy: { useDefaults: false, directives: csp },
    frameguard: { action: 'deny' },
    referrerPolicy: { policy: 'no-referrer' },
  })({} as IncomingMessage, collect as unknown as ServerResponse, () => undefined);
  return headers;
}

/** What sendHtml sets on a page itself, so that a page is safe even where no middleware ran. */
export const HTML_SECURITY_HEADERS = securityHeadersOf(PAGE_CSP);

/** Sets the security headers on every answer; a CSP on JSON costs nothing and covers error answers too. */
export function securityHeaders(csp: CspDirectives = PAGE_CSP): RequestHandler {
  const headers = securityHeadersOf(csp);
  return (_req, res, next) => {
    res.set(headers);
    next();
  };
}

/** Answers with a page: the status, the security headers, and the markup. */
export function sendHtml(res: Response, status: number, document: SafeHtml): void {
  res.status(status).set(HTML_SECURITY_HEADERS).type('html').send(document.toString());
}

export interface PageOptions {
  /** A site header (the web UI's navigation), with a skip link to <main> and a wider column; <main> holds the body either way. */
  header?: SafeHtml;
}

const STYLE = html`<style>
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
  button:disabled { background: #eaeef2; color: #57606a; border: 1px dashed #8c959f; cursor: not-allowed; } select { max-width: 100%; }
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
</style>`;

/** A whole document in the shared look; the body must be SafeHtml (a plain string is a type error). */
export function page(title: string, body: SafeHtml, options: PageOptions = {}): SafeHtml {
  const content = options.header
    ? html`<a class="skip" href="#main">Skip to content</a>\n<header class="site">${options.header}</header>\n<main id="main" tabindex="-1">\n${body}\n</main>`
    : html`<main>\n${body}\n</main>`;
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title} · assetflow</title>
${STYLE}
</head>
<body${options.header ? html` class="app"` : ''}>
${content}
</body>
</html>`;
}

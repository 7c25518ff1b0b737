/** The API's start page (GET /): links to the web UI, the API documentation and the operator's pages. */
import { html, page, type SafeHtml } from './html';

export function startPage(links: [href: string, text: string][]): SafeHtml {
  return page('assetflow', html`<h1>assetflow</h1><ul>${links.map(([href, text]) => html`<li><a href="${href}">${text}</a></li>`)}</ul>`);
}

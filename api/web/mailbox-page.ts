/** The local SMTP sink's messages as a page (/dev/mail), for a newcomer running the embedded demo. */
import type { SunkMessage } from '../../platform/mail-sink';
import { FALLBACK_TIME_ZONE } from '../../domain/time-zones';
import { html, join, page, type SafeHtml } from './html';
import { time } from './views';

/** Ends a link before whitespace, markup characters and quotes, as mail text writes them around a URL. */
const URL_IN_TEXT = /https?:\/\/[^\s<>"']+/g;

/** A message's text with its web addresses as links (the approval links among them). */
export function linkify(text: string): SafeHtml {
  const parts: SafeHtml[] = [];
  let from = 0;
  for (const match of text.matchAll(URL_IN_TEXT)) {
    const url = match[0];
    parts.push(html`${text.slice(from, match.index)}<a href="${url}">${url}</a>`);
    from = match.index + url.length;
  }
  parts.push(html`${text.slice(from)}`);
  return join(parts);
}

/** `timeZone`: the reader's, in which the messages' times are shown. */
export function mailboxPage(messages: SunkMessage[], timeZone: string = FALLBACK_TIME_ZONE): SafeHtml {
  const body = messages.length
    ? join(
        messages.map(
          (m) => html`<article>
  <h2>${m.subject}</h2>
  <div class="meta">To ${m.to.join(', ')} · from ${m.from} · ${time(m.receivedAt, timeZone)}</div>
  <pre>${linkify(m.text)}</pre>
</article>`,
        ),
        '\n',
      )
    : html`<p>No mail yet. Emails that assetflow sends (approval tasks, reminders, notices) appear here.</p>`;
  return page('Mail', html`<h1>Mail caught by the local SMTP sink</h1>\n${body}`);
}

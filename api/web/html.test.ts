import type { Response } from 'express';
import { HTML_SECURITY_HEADERS, SafeHtml, html, join, page, sendHtml, trustedHtml } from './html';

const text = (value: SafeHtml) => value.toString();

describe('html template', () => {
  it('escapes interpolated text in element content', () => {
    expect(text(html`<p>${'<script>alert(1)</script>'}</p>`)).toBe('<p>&lt;script&gt;alert(1)&lt;/script&gt;</p>');
    expect(text(html`<p>${'Ruth & Co'}</p>`)).toBe('<p>Ruth &amp; Co</p>');
  });

  it('escapes both quotes, so a value cannot leave its attribute', () => {
    expect(text(html`<input value="${'"><img src=x onerror=alert(1)>'}">`)).toBe('<input value="&quot;&gt;&lt;img src=x onerror=alert(1)&gt;">');
    expect(text(html`<a title='${"O'Brien"}'>x</a>`)).toBe("<a title='O&#39;Brien'>x</a>");
  });

  it('keeps the template itself as it is written', () => {
    expect(text(html`<p class="a">&lt;first&gt; & more</p>`)).toBe('<p class="a">&lt;first&gt; & more</p>');
    expect(text(html``)).toBe('');
  });

  it('writes numbers as text', () => {
    expect(text(html`<td>${3}</td><td>${0}</td><td>${1.5}</td>`)).toBe('<td>3</td><td>0</td><td>1.5</td>');
  });

  it('does not escape a nested template again', () => {
    const inner = html`<strong>${'a < b'}</strong>`;
    expect(text(html`<p>${inner}</p>`)).toBe('<p><strong>a &lt; b</strong></p>');
    expect(text(html`<div>${html`<p>${inner}</p>`}</div>`)).toBe('<div><p><strong>a &lt; b</strong></p></div>');
  });

  it('writes arrays element by element, escaping text and keeping SafeHtml', () => {
    expect(text(html`<ul>${['<a>', html`<li>${'&'}</li>`, 7]}</ul>`)).toBe('<ul>&lt;a&gt;<li>&amp;</li>7</ul>');
    expect(text(html`<ul>${['x', ['y', html`<br>`]]}</ul>`)).toBe('<ul>xy<br></ul>');
    expect(text(html`<ul>${[]}</ul>`)).toBe('<ul></ul>');
  });

  it('writes nothing for null, undefined and false, so conditions read naturally', () => {
    expect(text(html`<p>${null}${undefined}${false}</p>`)).toBe('<p></p>');
    const paragraph = (marked: boolean, note: string | null) => html`<p${marked && html` class="x"`}>${note && html`<b>${note}</b>`}</p>`;
    expect(text(paragraph(false, null))).toBe('<p></p>');
    expect(text(paragraph(false, ''))).toBe('<p></p>');
    expect(text(paragraph(true, '<n>'))).toBe('<p class="x"><b>&lt;n&gt;</b></p>');
  });

  it('refuses, by type, values without an obvious text (write what should be shown)', () => {
    // @ts-expect-error true is not text: use cond && html`...` or write the word.
    expect(text(html`${true}`)).toBe('true');
    // @ts-expect-error an object must be turned into text first.
    expect(text(html`${{ a: 1 }}`)).toBe('[object Object]');
  });

  it('joins values with a separator, escaped like any value', () => {
    expect(text(join([html`<li>a</li>`, '<b>'], '\n'))).toBe('<li>a</li>\n&lt;b&gt;');
    expect(text(join(['a', 'b'], html`<br>`))).toBe('a<br>b');
    expect(text(join(['a', 'b'], ' & '))).toBe('a &amp; b');
    expect(text(join([]))).toBe('');
  });

  it('takes markup unescaped only through the explicit trustedHtml', () => {
    const vetted = trustedHtml('<hr class="x">');
    expect(vetted).toBeInstanceOf(SafeHtml);
    expect(text(html`<div>${vetted}</div>`)).toBe('<div><hr class="x"></div>');
  });

  it('treats a look-alike object as text, not as SafeHtml', () => {
    const forged = { toString: () => '<script>x</script>' } as unknown as string;
    expect(text(html`${forged}`)).toBe('&lt;script&gt;x&lt;/script&gt;');
  });
});

describe('page', () => {
  it('wraps a SafeHtml body in the document and its main landmark, with the title escaped', () => {
    const doc = text(page('A <b> & "c"', html`<h1>${'<x>'}</h1>`));
    expect(doc.startsWith('<!doctype html>\n<html lang="en">')).toBe(true);
    expect(doc).toContain('<title>A &lt;b&gt; &amp; &quot;c&quot; · assetflow</title>');
    expect(doc).toContain('<body>\n<main>\n<h1>&lt;x&gt;</h1>\n</main>\n</body>');
    expect(doc).toContain('<style>');
  });

  it('puts the body in <main> after a skip link when a site header is given', () => {
    const doc = text(page('T', html`<p>b</p>`, { header: html`<nav>n</nav>` }));
    expect(doc).toContain('<body class="app">');
    expect(doc).toContain('<a class="skip" href="#main">Skip to content</a>\n<header class="site"><nav>n</nav></header>\n<main id="main" tabindex="-1">\n<p>b</p>\n</main>');
  });

  it('refuses a plain string as the body (a type error, checked by tsc)', () => {
    const typed = '<p>built by hand</p>';
    // @ts-expect-error page() takes SafeHtml only: build the body with html`...`.
    const call = () => page('T', typed);
    expect(call).not.toThrow();
    // @ts-expect-error the site header must be SafeHtml too.
    expect(() => page('T', html``, { header: typed })).not.toThrow();
  });
});

describe('sendHtml', () => {
  it('sends the markup with the status and every security header', () => {
    const calls: Record<string, unknown> = {};
    const res = {
      status(code: number) { calls.status = code; return this; },
      set(headers: Record<string, string>) { calls.headers = headers; return this; },
      type(kind: string) { calls.type = kind; return this; },
      send(body: unknown) { calls.body = body; return this; },
    } as unknown as Response;
    sendHtml(res, 403, html`<p>${'no'}</p>`);
    expect(calls).toEqual({ status: 403, headers: HTML_SECURITY_HEADERS, type: 'html', body: '<p>no</p>' });
    expect(HTML_SECURITY_HEADERS['Content-Security-Policy']).toContain("default-src 'none'");
    expect(Object.keys(HTML_SECURITY_HEADERS)).toEqual(
      expect.arrayContaining(['Content-Security-Policy', 'Cache-Control', 'X-Content-Type-Options', 'X-Frame-Options', 'Referrer-Policy']),
    );
  });
});

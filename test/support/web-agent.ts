/** A browser as far as the web UI can tell: it keeps cookies, posts forms and does not follow redirects. */
export interface WebAgent {
  baseUrl: string;
  cookies: Map<string, string>;
  /** Sent with every request (e.g. X-Forwarded-For, to be another client address). */
  headers: Record<string, string>;
}

export const webAgent = (baseUrl: string, headers: Record<string, string> = {}): WebAgent => ({ baseUrl, cookies: new Map(), headers });

export interface WebAnswer {
  status: number;
  location: string | null;
  setCookies: string[];
  headers: Headers;
  html: string;
}

export async function browse(agent: WebAgent, method: string, path: string, form?: Record<string, string>): Promise<WebAnswer> {
  const res = await fetch(`${agent.baseUrl}${path}`, {
    method,
    redirect: 'manual',
    headers: {
      ...agent.headers,
      ...(agent.cookies.size ? { cookie: [...agent.cookies].map(([k, v]) => `${k}=${v}`).join('; ') } : {}),
      ...(form ? { 'content-type': 'application/x-www-form-urlencoded' } : {}),
    },
    body: form ? new URLSearchParams(form).toString() : undefined,
  });
  const setCookies = res.headers.getSetCookie();
  for (const header of setCookies) {
    const [pair] = header.split(';');
    const [name, value] = [pair.slice(0, pair.indexOf('=')), pair.slice(pair.indexOf('=') + 1)];
    if (/Max-Age=0/.test(header)) agent.cookies.delete(name);
    else agent.cookies.set(name, value);
  }
  return { status: res.status, location: res.headers.get('location'), setCookies, headers: res.headers, html: await res.text() };
}

export const hiddenCsrf = (html: string) => /name="csrf" value="([^"]+)"/.exec(html)?.[1];

/** Fetches the sign-in form (for its pre-session) and posts the key; the agent holds the session cookie when it worked. */
export async function signInWithKey(agent: WebAgent, apiKey: string): Promise<WebAnswer> {
  const form = await browse(agent, 'GET', '/ui/sign-in');
  return browse(agent, 'POST', '/ui/sign-in', { csrf: hiddenCsrf(form.html)!, apiKey, next: '' });
}

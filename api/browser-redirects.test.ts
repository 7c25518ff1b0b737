import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import express from 'express';
import { browserRedirects } from './browser-redirects';

let server: Server;
let base: string;

beforeAll(async () => {
  const app = express();
  app.use(browserRedirects());
  app.get('/changes/:id', (req, res) => {
    res.json({ number: req.params.id });
  });
  app.get('/health', (_req, res) => {
    res.json({ ok: true });
  });
  server = await new Promise<Server>((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
});

const BROWSER = { accept: 'text/html,application/xhtml+xml,*/*;q=0.8' };

describe('old API links opened in a browser', () => {
  it('sends a browser to the page and an API client the JSON, and tells caches both depend on Accept and Authorization', async () => {
    const page = await fetch(`${base}/changes/CHG0001001`, { headers: BROWSER, redirect: 'manual' });
    const json = await fetch(`${base}/changes/CHG0001001`, { headers: { accept: 'application/json' }, redirect: 'manual' });
    const withKey = await fetch(`${base}/changes/CHG0001001`, { headers: { ...BROWSER, authorization: 'Bearer k' }, redirect: 'manual' });

    expect(page.status).toBe(303);
    expect(page.headers.get('location')).toBe('/ui/changes/CHG0001001');
    expect(json.status).toBe(200);
    expect(withKey.status).toBe(200);
    for (const answer of [page, json, withKey]) expect(answer.headers.get('vary')).toBe('Accept, Authorization');
  });

  it('leaves routes it does not cover alone', async () => {
    const other = await fetch(`${base}/health`, { headers: BROWSER });
    expect(other.status).toBe(200);
    expect(other.headers.get('vary')).toBeNull();
  });
});

import { Writable } from 'node:stream';
import express from 'express';
import { pinoHttp } from 'pino-http';
import { createLogger, httpLogSerializers, redactUrl } from './logger';

describe('redactUrl', () => {
  it('hides the value of an approval token wherever it stands in the query', () => {
    expect(redactUrl('/approvals/a1?token=v1.abc.def')).toBe('/approvals/a1?token=[redacted]');
    expect(redactUrl('http://h/approvals/a1?lang=en&token=v1.abc.def#x')).toBe('http://h/approvals/a1?lang=en&token=[redacted]#x');
  });

  it('leaves a URL without credentials as it is', () => {
    expect(redactUrl('/processes?state=open&tokenCount=2')).toBe('/processes?state=open&tokenCount=2');
    expect(redactUrl('/ui/sign-in/oidc/callback?code=abc123&state=xyz&iss=https%3A%2F%2Fidp')).toBe('/ui/sign-in/oidc/callback?code=[redacted]&state=xyz&iss=https%3A%2F%2Fidp');
  });
});

describe('request logging', () => {
  it('logs the request without the token, the API key, the session cookie or the token in the Referer', async () => {
    const lines: string[] = [];
    const destination = new Writable({ write(chunk, _encoding, done) { lines.push(String(chunk)); done(); } });
    const app = express();
    app.use(pinoHttp({ logger: createLogger('info', 'test', destination), serializers: httpLogSerializers }));
    app.get('/approvals/:id', (_req, res) => {
      res.setHeader('Set-Cookie', 'af_session=session-secret');
      res.send('ok');
    });
    const server = app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    const { port } = server.address() as { port: number };
    await fetch(`http://127.0.0.1:${port}/approvals/a1?token=v1.secret-token.sig`, {
      headers: { authorization: 'Bearer af_secret_key', cookie: 'af_session=cookie-secret', referer: `http://127.0.0.1:${port}/approvals/a1?token=v1.referer-token.sig` },
    });
    await new Promise((resolve) => server.close(resolve));

    const logged = lines.join('');
    expect(logged).toContain('/approvals/a1?token=[redacted]');
    for (const secret of ['secret-token', 'referer-token', 'af_secret_key', 'cookie-secret', 'session-secret']) expect(logged).not.toContain(secret);
  });
});

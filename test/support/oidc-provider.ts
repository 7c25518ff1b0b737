import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import type { OidcSettings } from '../../platform/config';
import { browse, webAgent, type WebAgent, type WebAnswer } from './web-agent';

/**
 * A person at the provider: the claims it gives (the login on its sign-in page is the key of
 * `accounts`, and their subject). Claims left out are not sent; `groups` may hold anything a
 * provider could send.
 */
export interface TestOidcAccount {
  email?: string;
  email_verified?: boolean | string;
  name?: string;
  groups?: unknown[];
}

export interface TestOidcProvider {
  issuer: string;
  clientId: string;
  clientSecret: string;
  stop(): Promise<void>;
}

/**
 * Starts oidc-provider (test/support/oidc-provider-process.mjs) in a child process with one confidential
 * client that must use PKCE and may redirect only to `redirectUrls`, and these accounts; answers
 * once its discovery document is served.
 */
export async function startOidcProvider(options: { redirectUrls: string[]; accounts: Record<string, TestOidcAccount> }): Promise<TestOidcProvider> {
  const clientId = 'assetflow';
  const clientSecret = randomBytes(32).toString('base64url');
  const config = {
    clients: [{ client_id: clientId, client_secret: clientSecret, redirect_uris: options.redirectUrls, response_types: ['code'], grant_types: ['authorization_code'] }],
    accounts: options.accounts,
  };
  const child = spawn(process.execPath, [path.join(__dirname, 'oidc-provider-process.mjs')], {
    env: { ...process.env, OIDC_TEST_PROVIDER: JSON.stringify(config) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  try {
    const issuer = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`oidc-provider did not start within 20 s:\n${output}`)), 20_000);
      child.stdout!.on('data', (chunk: Buffer) => {
        output += chunk.toString();
        const found = /^issuer (\S+)$/m.exec(output);
        if (found) {
          clearTimeout(timer);
          resolve(found[1]);
        }
      });
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`oidc-provider exited with ${code}:\n${output}`));
      });
    });
    const discovery = await fetch(`${issuer}/.well-known/openid-configuration`);
    if (!discovery.ok) throw new Error(`oidc-provider serves no discovery document: ${discovery.status}`);
    return { issuer, clientId, clientSecret, stop: () => stopChild(child) };
  } catch (error) {
    await stopChild(child);
    throw error;
  }
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await exited;
}

/** The API's single sign-on settings for this provider, on an API at `apiBaseUrl`. */
export function oidcSettingsFor(provider: TestOidcProvider, apiBaseUrl: string, overrides: Partial<OidcSettings> = {}): OidcSettings {
  return {
    issuerUrl: provider.issuer,
    clientId: provider.clientId,
    clientSecret: provider.clientSecret,
    scopes: 'openid email profile groups',
    groupsClaim: 'groups',
    createPeople: false,
    trustUnverifiedEmail: false,
    providerName: 'Test IdP',
    redirectUrl: `${apiBaseUrl}/ui/sign-in/oidc/callback`,
    ...overrides,
  };
}

/**
 * Signs in through the provider without a browser, as one would: starts at assetflow's
 * /ui/sign-in/oidc in `agent` (which keeps assetflow's cookies), logs in as `login` and consents
 * on the provider's development pages (in a cookie jar of their own), and brings the provider's
 * answer back to assetflow in `agent`. Answers assetflow's answer to the callback.
 */
export async function signInThroughProvider(agent: WebAgent, provider: TestOidcProvider, login: string, next = ''): Promise<WebAnswer> {
  const start = await browse(agent, 'GET', `/ui/sign-in/oidc${next ? `?next=${encodeURIComponent(next)}` : ''}`);
  if (start.status !== 303 || !start.location) throw new Error(`assetflow did not send the browser to the provider: ${start.status}`);
  const atProvider = webAgent(provider.issuer);
  let url = new URL(start.location);
  for (let step = 0; step < 12; step++) {
    if (url.origin !== provider.issuer) return browse(agent, 'GET', `${url.pathname}${url.search}`);
    let answer = await browse(atProvider, 'GET', `${url.pathname}${url.search}`);
    if (answer.status === 200) {
      // A development interaction page: its login form, or its consent form.
      const prompt = /name="prompt" value="(\w+)"/.exec(answer.html)?.[1];
      const form: Record<string, string> = prompt === 'login' ? { prompt, login, password: 'any password' } : { prompt: prompt ?? '' };
      answer = await browse(atProvider, 'POST', url.pathname, form);
    }
    if (!answer.location) throw new Error(`the provider answered ${answer.status} without sending the browser on:\n${answer.html.slice(0, 500)}`);
    url = new URL(answer.location, provider.issuer);
  }
  throw new Error('the provider kept sending the browser around');
}

import * as client from 'openid-client';
import { isLoopbackUrl, type OidcSettings } from './config';

/** Discovery and each request to the provider give up after this, so a sign-in never hangs on it. */
const PROVIDER_TIMEOUT_SECONDS = 10;

/** What a sign-in must remember between the redirect to the provider and its answer. */
interface OidcAuthorization {
  /** Where to send the browser. */
  url: string;
  state: string;
  codeVerifier: string;
  nonce: string;
}

/**
 * The claims of a person the provider signed in: the ID token's, completed by the userinfo
 * endpoint's. `iss` and `sub` are always the ID token's (checked): together they name the account.
 */
export type OidcClaims = Record<string, unknown> & { iss: string; sub: string };

/** Why the provider's answer was not a sign-in: it said no, or its answer did not hold up (state, nonce, issuer, audience, code). */
export class OidcSignInRefused extends Error {
  constructor(readonly reason: string, message: string) {
    super(message);
  }
}

/**
 * This application as an OpenID Connect relying party: the authorization code flow with PKCE
 * (S256), state and nonce, against the one provider the configuration names. The provider's
 * metadata is discovered at the first sign-in and kept; a failed discovery is tried again at the
 * next one, so an API can start while its provider is down.
 */
export class OidcRelyingParty {
  private configuration: Promise<client.Configuration> | undefined;

  constructor(readonly settings: OidcSettings) {}

  private discovered(): Promise<client.Configuration> {
    this.configuration ??= client
      // client_secret_basic: OpenID Connect's default, which every provider accepts for a client registered without saying.
      .discovery(new URL(this.settings.issuerUrl), this.settings.clientId, this.settings.clientSecret, client.ClientSecretBasic(this.settings.clientSecret), {
        timeout: PROVIDER_TIMEOUT_SECONDS,
        // config.ts allows plain http only for a provider on this machine (tests, a local IdP).
        execute: isLoopbackUrl(this.settings.issuerUrl) ? [client.allowInsecureRequests] : [],
      })
      .catch((error: unknown) => {
        this.configuration = undefined;
        throw error;
      });
    return this.configuration;
  }

  /** A new authorization request: its URL at the provider, and the secrets its answer is checked against. */
  async startAuthorization(): Promise<OidcAuthorization> {
    const configuration = await this.discovered();
    const codeVerifier = client.randomPKCECodeVerifier();
    const state = client.randomState();
    const nonce = client.randomNonce();
    const url = client.buildAuthorizationUrl(configuration, {
      redirect_uri: this.settings.redirectUrl,
      scope: this.settings.scopes,
      code_challenge: await client.calculatePKCECodeChallenge(codeVerifier),
      code_challenge_method: 'S256',
      state,
      nonce,
    });
    return { url: url.href, state, codeVerifier, nonce };
  }

  /**
   * Exchanges the code of the provider's answer (its query string, as the browser brought it
   * back) for tokens, checking state, nonce, PKCE, issuer, audience and the ID token's signature,
   * and answers the person's claims. A refusal by the provider, or an answer that does not hold
   * up, is an OidcSignInRefused; a provider that cannot be reached throws what fetch threw.
   */
  async finishAuthorization(query: URLSearchParams, expected: { state: string; nonce: string; codeVerifier: string }): Promise<OidcClaims> {
    const configuration = await this.discovered();
    const callback = new URL(this.settings.redirectUrl);
    callback.search = query.toString();
    try {
      const tokens = await client.authorizationCodeGrant(configuration, callback, {
        pkceCodeVerifier: expected.codeVerifier,
        expectedState: expected.state,
        expectedNonce: expected.nonce,
        idTokenExpected: true,
      });
      const idToken = tokens.claims()!;
      // Providers differ in what they put in the ID token; the userinfo endpoint has the rest (for the same subject).
      const userInfo = configuration.serverMetadata().userinfo_endpoint
        ? await client.fetchUserInfo(configuration, tokens.access_token, idToken.sub)
        : {};
      return { ...idToken, ...userInfo, iss: idToken.iss, sub: idToken.sub };
    } catch (error) {
      if (error instanceof client.AuthorizationResponseError) throw new OidcSignInRefused(error.error, `the provider refused: ${error.error}`);
      if (error instanceof client.ResponseBodyError) throw new OidcSignInRefused(error.error, `the provider did not accept the code: ${error.error}`);
      if (error instanceof client.ClientError) throw new OidcSignInRefused(error.code ?? 'invalid_response', 'the provider\'s answer did not hold up');
      throw error;
    }
  }
}

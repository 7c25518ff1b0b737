import { createHash } from 'node:crypto';
import type { Request, Response, Router } from 'express';
import { emailAddress, type Role } from '../../domain/directory';
import {
  SSO_ACTOR,
  createSsoPerson,
  deleteExpiredOidcSignIns,
  findPersonByAccount,
  findPersonByEmail,
  insertOidcSignIn,
  linkProviderAccount,
  rolesMappedFrom,
  sameAccount,
  syncSsoRoles,
  takeOidcSignIn,
  type ProviderAccount,
  type SsoPerson,
} from '../../model/single-sign-on';
import type { OidcSettings } from '../../platform/config';
import { OidcRelyingParty, OidcSignInRefused, type OidcClaims } from '../../platform/oidc';
import { secretMatches } from '../../platform/secrets';
import { clientOf, principalById } from '../auth';
import { sendHtml } from './html';
import type { WebKit, WebRoute } from './router';
import { localPath, parseCookies, setCookieHeader } from './session';
import { errorPage, queryString } from './views';

/** Mounted whether or not single sign-on is configured (then they answer 404), so the authorisation matrix sees them. */
export const SINGLE_SIGN_ON_ROUTES: readonly WebRoute[] = [
  { method: 'get', path: '/sign-in/oidc', access: 'public' },
  { method: 'get', path: '/sign-in/oidc/callback', access: 'public' },
];

/** How long a person may take at the provider before the sign-in it started is no longer accepted. */
const SIGN_IN_TTL_MS = 10 * 60_000;

/**
 * The state of the sign-in this browser started, also in a cookie: an answer from the provider
 * is taken only in the browser that asked for it, so nobody can sign someone else's browser in
 * to their own account by sending them a callback link (login CSRF).
 */
const STATE_COOKIE = 'af_oidc_state';
const STATE_COOKIE_PATH = '/ui/sign-in/oidc';

const sha256 = (text: string) => createHash('sha256').update(text, 'utf8').digest('hex');

function str(value: unknown): string | undefined {
  const first = Array.isArray(value) ? value[0] : value;
  return typeof first === 'string' ? first : undefined;
}

/**
 * The most values of the group claim a sign-in takes, and the longest value (a role mapping's
 * claim value is at most as long): a provider may send thousands, and each is a query parameter.
 */
const MAX_GROUPS = 200;
const MAX_GROUP_LENGTH = 200;

/**
 * The values of the group claim: one string or a list of them, at most MAX_GROUPS of at most
 * MAX_GROUP_LENGTH characters; anything else is ignored, and counted.
 */
function claimValues(claims: OidcClaims, name: string): { values: string[]; ignored: number } {
  const value = claims[name];
  const given: unknown[] = typeof value === 'string' ? [value] : Array.isArray(value) ? value : [];
  const fitting = given.filter((v): v is string => typeof v === 'string' && v.length <= MAX_GROUP_LENGTH);
  const values = fitting.slice(0, MAX_GROUPS);
  return { values, ignored: given.length - values.length };
}

/**
 * Whether the email may tell who a provider account is at its first sign-in: the provider says it
 * is verified (some send the claim as a string), or says nothing about it and the configuration
 * trusts such emails (OIDC_TRUST_UNVERIFIED_EMAIL); never when the provider says it is not.
 */
function emailTrusted(claims: OidcClaims, trustUnverified: boolean): boolean {
  const verified = claims.email_verified;
  if (verified === true || verified === 'true') return true;
  return trustUnverified && (verified === undefined || verified === null);
}

/** Why a provider account that is nobody's yet is not signed in. */
type FirstSignInRefusal = 'no_email' | 'email_not_verified' | 'unknown_person' | 'email_linked_elsewhere';

/**
 * Signing in to the web UI through the OpenID Connect provider the configuration names
 * (authorization code flow with PKCE, platform/oidc.ts). A person is found by the provider account
 * (issuer and subject) they are linked to; an account that is nobody's yet is found by its
 * verified email, and the person is linked to it then, unless they are linked to another account
 * (refused: an email is not proof enough to take over someone's sign-in). The roles the group
 * claim maps to (sso_role_mappings) replace the roles single sign-on granted before; the session
 * is the same server-side session as a key sign-in's.
 */
export function registerSingleSignOn(router: Router, kit: WebKit): void {
  const { db, logger } = kit.deps;
  const settings = kit.deps.oidc;
  const party = settings && new OidcRelyingParty(settings);
  const provider = settings?.providerName ?? 'single sign-on';

  const notConfigured = (req: Request, res: Response) =>
    sendHtml(res, 404, errorPage(undefined, 'Not found', `There is no page ${req.originalUrl}: single sign-on is not set up here. Sign in with your API key.`, [['/ui/sign-in', 'Sign in']]));

  const refuse = (res: Response, status: number, title: string, message: string, next = '') =>
    sendHtml(res, status, errorPage(undefined, title, message, [[`/ui/sign-in${queryString({ next: next || undefined })}`, 'Sign in again']]));

  const stateCookie = (req: Request, value: string, maxAgeMs: number) =>
    setCookieHeader(STATE_COOKIE, value, { secure: kit.secure(req), path: STATE_COOKIE_PATH, maxAgeMs });

  router.get('/sign-in/oidc', async (req, res) => {
    if (!party) {
      notConfigured(req, res);
      return;
    }
    const next = localPath(str(req.query.next), '');
    // Each start writes a row before anybody is known: limited per address. Only the limit's own
    // verdict is a 429; a failure of its store (Postgres down) goes to the error handler (503).
    const verdict = await kit.deps.rateLimits.signInStarts.take(clientOf(req));
    if (!verdict.allowed) {
      logger.warn({ client: clientOf(req) }, 'single sign-on: too many sign-ins started from one address');
      res.set('Retry-After', String(verdict.retryAfterSeconds));
      await kit.renderSignIn(req, res, 429, next, {
        kind: 'error',
        text: `Too many sign-ins were started from your address: try again in ${verdict.retryAfterSeconds} seconds.`,
      });
      return;
    }
    let authorization;
    try {
      authorization = await party.startAuthorization();
    } catch (error) {
      logger.warn({ err: error, issuer: party.settings.issuerUrl }, 'single sign-on: the provider cannot be reached');
      await kit.renderSignIn(req, res, 503, next, { kind: 'error', text: `${provider} cannot be reached right now. Try again in a moment, or sign in with your API key.` });
      return;
    }
    await deleteExpiredOidcSignIns(db);
    await insertOidcSignIn(db, {
      stateHash: sha256(authorization.state),
      codeVerifier: authorization.codeVerifier,
      nonce: authorization.nonce,
      nextPath: next,
      expiresAt: new Date(Date.now() + SIGN_IN_TTL_MS),
    });
    res.append('Set-Cookie', stateCookie(req, authorization.state, SIGN_IN_TTL_MS));
    res.redirect(303, authorization.url);
  });

  router.get('/sign-in/oidc/callback', async (req, res) => {
    if (!party) {
      notConfigured(req, res);
      return;
    }
    // The provider's answer as it came: checked whole by openid-client (state, iss, code).
    const queryAt = req.originalUrl.indexOf('?');
    const query = new URLSearchParams(queryAt < 0 ? '' : req.originalUrl.slice(queryAt + 1));
    const state = query.get('state');
    const browserState = parseCookies(req.headers.cookie)[STATE_COOKIE];
    res.append('Set-Cookie', stateCookie(req, '', 0));
    // Taken (deleted) whatever comes next: an answer counts once, a good one or not.
    const signIn = state ? await takeOidcSignIn(db, sha256(state)) : undefined;
    // Never the code, the state or a token in the log: only why.
    const warn = (reason: string, extra: Record<string, unknown> = {}) => logger.warn({ reason, issuer: party.settings.issuerUrl, ...extra }, 'single sign-on refused');
    if (!signIn || !secretMatches(browserState ?? '', state)) {
      warn(!signIn ? 'unknown_or_expired_state' : 'state_of_another_browser');
      refuse(res, 400, 'This sign-in is no longer valid',
        'This answer from the sign-in provider does not belong to a sign-in this browser started in the last 10 minutes, or it was used already. Nobody was signed in; please sign in again.');
      return;
    }
    const providerError = query.get('error');
    if (providerError) {
      warn('provider_error', { error: providerError.slice(0, 100) });
      refuse(res, 401, 'Not signed in', `${provider} did not sign you in (${providerError.slice(0, 100)}). Nobody was signed in; you can try again.`, signIn.nextPath);
      return;
    }
    let claims: OidcClaims;
    try {
      claims = await party.finishAuthorization(query, { state: state!, nonce: signIn.nonce, codeVerifier: signIn.codeVerifier });
    } catch (error) {
      if (!(error instanceof OidcSignInRefused)) {
        warn('provider_unreachable', { error: error instanceof Error ? error.name : 'unknown' });
        refuse(res, 502, 'Not signed in', `${provider} could not be reached to confirm your sign-in. Nobody was signed in; please try again.`, signIn.nextPath);
        return;
      }
      warn('exchange_refused', { error: error.reason });
      refuse(res, 400, 'Not signed in', `${provider} did not confirm this sign-in (${error.reason}). Nobody was signed in; please sign in again.`, signIn.nextPath);
      return;
    }

    const account: ProviderAccount = { issuer: claims.iss, subject: claims.sub };
    const groups = claimValues(claims, settings.groupsClaim);
    if (groups.ignored) {
      warn('groups_claim_too_long', { taken: groups.values.length, ignored: groups.ignored });
    }
    const mapped = await rolesMappedFrom(db, groups.values);
    const parsedEmail = emailAddress.safeParse(claims.email);
    const email = parsedEmail.success ? parsedEmail.data : undefined;
    const found = await personSigningIn(settings, claims, account, email, mapped);
    if ('refusal' in found) {
      warn(found.refusal);
      refuse(res, 403, found.refusal === 'unknown_person' ? 'Not a person in assetflow' : 'Not signed in', {
        no_email: `Your sign-in worked at ${provider}, but it did not give an email address, which is how assetflow first knows people. Ask an administrator to check the provider's settings.`,
        email_not_verified: `Your sign-in worked at ${provider}, but it did not say that ${email} is verified, which assetflow needs to know you by it. Ask an administrator to check the provider's settings.`,
        unknown_person: `Your sign-in worked at ${provider}, but ${email} is not a person in assetflow. Ask an administrator to add you.`,
        email_linked_elsewhere: `Your sign-in worked at ${provider}, but ${email} is linked to another account at ${provider}. Nobody was signed in; ask an administrator.`,
      }[found.refusal]);
      return;
    }
    const { person, created } = found;
    if (!person.active) {
      warn('inactive_person', { personId: person.id });
      refuse(res, 403, 'Not signed in', `Your sign-in worked at ${provider}, but ${person.email} is deactivated in assetflow. Ask an administrator if this is a mistake.`);
      return;
    }
    const personId = person.id;
    if (created) {
      logger.info({ personId, actor: SSO_ACTOR }, 'single sign-on created a person');
    } else {
      const synced = await syncSsoRoles(db, personId, mapped);
      if (synced?.keptLastAdmin) {
        logger.warn({ personId, actor: SSO_ACTOR }, 'single sign-on kept admin, which the group claim no longer maps to: nobody else is an active admin');
      }
    }
    const user = await principalById(db, personId);
    if (!user) {
      // Deactivated between the two reads.
      refuse(res, 403, 'Not signed in', `${person.email} is deactivated in assetflow.`);
      return;
    }
    await kit.startSession(req, res, user, 'oidc', signIn.nextPath);
  });

  /**
   * The person this provider account signs in as: the one linked to it; else, at its first
   * sign-in, the one with its verified email (then linked to it), or a new person where the
   * configuration allows. A write that finds the email or the account taken meanwhile (two first
   * sign-ins at once) looks again; the second look finds what the first write was beaten by.
   */
  async function personSigningIn(
    oidc: OidcSettings, claims: OidcClaims, account: ProviderAccount, email: string | undefined, mapped: Role[],
  ): Promise<{ person: SsoPerson; created: boolean } | { refusal: FirstSignInRefusal }> {
    for (let look = 0; look < 2; look++) {
      const linked = await findPersonByAccount(db, account);
      if (linked) return { person: linked, created: false };

      if (!email) return { refusal: 'no_email' };
      if (!emailTrusted(claims, oidc.trustUnverifiedEmail)) return { refusal: 'email_not_verified' };
      const byEmail = await findPersonByEmail(db, email);
      if (byEmail) {
        if (byEmail.account) return sameAccount(byEmail.account, account) ? { person: byEmail, created: false } : { refusal: 'email_linked_elsewhere' };
        // A deactivated person is refused as they are: nothing is linked.
        if (!byEmail.active) return { person: byEmail, created: false };
        if (await linkProviderAccount(db, byEmail.id, account)) return { person: { ...byEmail, account }, created: false };
        continue;
      }
      if (!oidc.createPeople) return { refusal: 'unknown_person' };
      const name = typeof claims.name === 'string' && claims.name.trim() ? claims.name.trim().slice(0, 200) : email;
      const id = await createSsoPerson(db, { email, name, mapped, account });
      if (id) return { person: { id, email, active: true, account }, created: true };
    }
    throw new Error('single sign-on: the person of a provider account changed twice while they signed in');
  }
}

import type { Knex } from 'knex';
import { takesLastAdmin, type Role } from '../domain/directory';
import { isUniqueViolation } from '../platform/database';
import { insertAuditRow, type AuditRow } from './audit-rows';
import { lockActiveAdmins } from './people';

/** The audit log's subject for "the role mappings", which are one list edited as a whole. */
const SSO_ROLE_MAPPINGS_SUBJECT_ID = '5505e000-0000-4000-8000-000000000001';

/** Who writes what single sign-on decides at sign-in (roles synced, people created). */
export const SSO_ACTOR = 'system:sso';

export interface RoleMapping {
  claimValue: string;
  role: Role;
}

const audit = (trx: Knex.Transaction, entry: Omit<AuditRow, 'keyPrefix'>) =>
  insertAuditRow(trx, { ...entry, keyPrefix: entry.actor === SSO_ACTOR ? 'sso' : 'api' });

// --- role mappings ------------------------------------------------------------------------------

export async function listRoleMappings(db: Knex): Promise<RoleMapping[]> {
  return db('sso_role_mappings').orderBy(['claim_value', 'role']).select('claim_value as claimValue', 'role');
}

/** Replaces the whole list in one transaction, with one audit row holding the list before and after. */
export async function replaceRoleMappings(db: Knex, items: RoleMapping[], actor: string): Promise<RoleMapping[]> {
  return db.transaction(async (trx) => {
    // One editor at a time, so that "before" is what this edit replaced.
    await trx.raw('LOCK TABLE sso_role_mappings IN SHARE ROW EXCLUSIVE MODE');
    const before = await listRoleMappings(trx);
    await trx('sso_role_mappings').delete();
    const unique = [...new Map(items.map((m) => [`${m.role}\u0000${m.claimValue}`, m])).values()];
    if (unique.length) await trx('sso_role_mappings').insert(unique.map((m) => ({ claim_value: m.claimValue, role: m.role })));
    const after = await listRoleMappings(trx);
    await audit(trx, { actor, subjectType: 'sso_role_mapping', subjectId: SSO_ROLE_MAPPINGS_SUBJECT_ID, action: 'sso_role_mappings_replaced', details: { before, after } });
    return after;
  });
}

/** The roles the mappings give to these values of the group claim. */
export async function rolesMappedFrom(db: Knex, claimValues: string[]): Promise<Role[]> {
  if (!claimValues.length) return [];
  const rows: { role: Role }[] = await db('sso_role_mappings').whereIn('claim_value', claimValues).distinct('role').orderBy('role');
  return rows.map((r) => r.role);
}

// --- sign-ins in flight -------------------------------------------------------------------------

export async function insertOidcSignIn(
  db: Knex,
  signIn: { stateHash: string; codeVerifier: string; nonce: string; nextPath: string; expiresAt: Date },
): Promise<void> {
  await db('oidc_sign_ins').insert({
    state_hash: signIn.stateHash, code_verifier: signIn.codeVerifier, nonce: signIn.nonce, next_path: signIn.nextPath, expires_at: signIn.expiresAt,
  });
}

/**
 * The sign-in with this state, removed as it is read, so that its answer counts once: a second
 * callback with the same state finds nothing. An expired one is removed too, and not answered.
 */
export async function takeOidcSignIn(db: Knex, stateHash: string, now = new Date()): Promise<{ codeVerifier: string; nonce: string; nextPath: string } | undefined> {
  const [row] = await db('oidc_sign_ins').where('state_hash', stateHash).delete().returning(['code_verifier', 'nonce', 'next_path', 'expires_at']);
  return row && row.expires_at > now ? { codeVerifier: row.code_verifier, nonce: row.nonce, nextPath: row.next_path } : undefined;
}

/** Sign-ins nobody came back from; only keeps the table small (takeOidcSignIn ignores them). */
export async function deleteExpiredOidcSignIns(db: Knex, now = new Date()): Promise<number> {
  return db('oidc_sign_ins').where('expires_at', '<=', now).delete();
}

// --- people signing in --------------------------------------------------------------------------

/** An account at an identity provider: its issuer and its subject there, which never changes (an email may). */
export interface ProviderAccount {
  issuer: string;
  subject: string;
}

/** A person as single sign-on sees them: whether they may sign in, and the provider account they are linked to, if any. */
export interface SsoPerson {
  id: string;
  email: string;
  active: boolean;
  account: ProviderAccount | null;
}

const SSO_PERSON_COLUMNS = ['id', 'email', 'active', 'oidc_issuer', 'oidc_subject'] as const;

type SsoPersonRow = { id: string; email: string; active: boolean; oidc_issuer: string | null; oidc_subject: string | null };

const ssoPersonOf = (row: SsoPersonRow | undefined): SsoPerson | undefined => row && {
  id: row.id,
  email: row.email,
  active: row.active,
  account: row.oidc_issuer !== null && row.oidc_subject !== null ? { issuer: row.oidc_issuer, subject: row.oidc_subject } : null,
};

export const sameAccount = (a: ProviderAccount, b: ProviderAccount) => a.issuer === b.issuer && a.subject === b.subject;

/** The person linked to this provider account, whatever their email is now. */
export async function findPersonByAccount(db: Knex, account: ProviderAccount): Promise<SsoPerson | undefined> {
  return ssoPersonOf(await db('people').where({ oidc_issuer: account.issuer, oidc_subject: account.subject }).first(...SSO_PERSON_COLUMNS));
}

/** The person with this email, whatever its letter case (one email, one person). */
export async function findPersonByEmail(db: Knex, email: string): Promise<SsoPerson | undefined> {
  return ssoPersonOf(await db('people').whereRaw('lower(email) = lower(?)', [email]).first(...SSO_PERSON_COLUMNS));
}

/**
 * Links the person to the provider account they signed in with, audited as `person_sso_linked`,
 * only if they have no link yet and the account is nobody else's. Answers false, writing nothing,
 * when a concurrent sign-in linked either of them first.
 */
export async function linkProviderAccount(db: Knex, personId: string, account: ProviderAccount): Promise<boolean> {
  try {
    return await db.transaction(async (trx) => {
      const linked = await trx('people').where('id', personId).whereNull('oidc_subject')
        .update({ oidc_issuer: account.issuer, oidc_subject: account.subject });
      if (linked !== 1) return false;
      await audit(trx, {
        actor: SSO_ACTOR, subjectType: 'person', subjectId: personId, action: 'person_sso_linked',
        details: { before: { oidcIssuer: null, oidcSubject: null }, after: { oidcIssuer: account.issuer, oidcSubject: account.subject } },
      });
      return true;
    });
  } catch (error) {
    if (isUniqueViolation(error, 'people_oidc_account_unique')) return false;
    throw error;
  }
}

/**
 * Removes the person's link to a provider account (an admin's decision, e.g. their account at the
 * provider was recreated), audited as `person_sso_unlinked`; their next sign-in links them again by
 * email. Answers the account unlinked, or null when there was none (and nothing is written).
 */
export async function unlinkProviderAccount(db: Knex, personId: string, actor: string): Promise<ProviderAccount | null> {
  return db.transaction(async (trx) => {
    const person = ssoPersonOf(await trx('people').where('id', personId).forUpdate().first(...SSO_PERSON_COLUMNS));
    if (!person?.account) return null;
    await trx('people').where('id', personId).update({ oidc_issuer: null, oidc_subject: null });
    await audit(trx, {
      actor, subjectType: 'person', subjectId: personId, action: 'person_sso_unlinked',
      details: { before: { oidcIssuer: person.account.issuer, oidcSubject: person.account.subject }, after: { oidcIssuer: null, oidcSubject: null } },
    });
    return person.account;
  });
}

const rolesOf = async (db: Knex, personId: string): Promise<Role[]> =>
  (await db('person_roles').where('person_id', personId).orderBy('role').select('role')).map((r: { role: Role }) => r.role);

/** What a sync of single sign-on's roles did: the roles before and after, and admin kept when taking it would leave no active admin. */
interface SsoRoleSync {
  before: Role[];
  after: Role[];
  keptLastAdmin: boolean;
}

/**
 * Makes the person's roles granted by single sign-on exactly the mapped ones: those no longer
 * mapped go, the mapped ones come (a role an admin granted stays, and stays theirs) — except
 * admin when nobody else is an active admin: that stays, and the audit row says so. Audited only
 * when the roles changed or admin was kept; answers what happened, or nothing when nothing did.
 * Only the roles go into the audit row, never the group claim (unbounded, and the provider's).
 */
export async function syncSsoRoles(db: Knex, personId: string, mapped: Role[]): Promise<SsoRoleSync | undefined> {
  return db.transaction(async (trx) => {
    // Admins first, then the person, in the order every write that can take admin away locks them
    // (model/people.ts); needed only when admin is not mapped, since only then can it go.
    const activeAdmins = mapped.includes('admin') ? [] : await lockActiveAdmins(trx);
    // Two sign-ins of one person at once: one after the other, so each audit row tells the truth.
    const person: { active: boolean } = await trx('people').where('id', personId).forUpdate().first('active');
    const grants: { role: Role; granted_by: string }[] = await trx('person_roles').where('person_id', personId).select('role', 'granted_by');
    const before = grants.map((g) => g.role).sort();
    let leaving = grants.filter((g) => g.granted_by === 'sso' && !mapped.includes(g.role)).map((g) => g.role);
    const others = activeAdmins.filter((id) => id !== personId).length;
    const keptLastAdmin = takesLastAdmin({ active: person.active, rolesBefore: before, rolesAfter: before.filter((role) => !leaving.includes(role)) }, others);
    if (keptLastAdmin) leaving = leaving.filter((role) => role !== 'admin');
    if (leaving.length) await trx('person_roles').where({ person_id: personId, granted_by: 'sso' }).whereIn('role', leaving).delete();
    if (mapped.length) {
      await trx('person_roles').insert(mapped.map((role) => ({ person_id: personId, role, granted_by: 'sso' }))).onConflict(['person_id', 'role']).ignore();
    }
    const after = await rolesOf(trx, personId);
    if (before.join() === after.join() && !keptLastAdmin) return undefined;
    await audit(trx, {
      actor: SSO_ACTOR, subjectType: 'person', subjectId: personId, action: 'person_roles_synced',
      details: { before: { roles: before }, after: { roles: after }, ...(keptLastAdmin && { kept: { role: 'admin', reason: 'last_active_admin' } }) },
    });
    return { before, after, keptLastAdmin };
  });
}

/**
 * A person the provider signed in and assetflow did not know (just-in-time creation), linked to
 * their provider account: a requester, plus the mapped roles. The requester role is not the group
 * claim's to take away at the next sign-in, so it is recorded as granted like any other
 * (granted_by 'admin'). Answers undefined, writing nothing, when the email or the account became
 * someone's meanwhile (a concurrent first sign-in, an admin): the caller looks them up again.
 */
export async function createSsoPerson(db: Knex, person: { email: string; name: string; mapped: Role[]; account: ProviderAccount }): Promise<string | undefined> {
  try {
    return await db.transaction(async (trx) => {
      const [{ id }] = await trx('people')
        .insert({ email: person.email, name: person.name, oidc_issuer: person.account.issuer, oidc_subject: person.account.subject })
        .returning('id');
      const mapped = person.mapped.filter((role) => role !== 'requester');
      await trx('person_roles').insert([
        { person_id: id, role: 'requester', granted_by: 'admin' },
        ...mapped.map((role) => ({ person_id: id, role, granted_by: 'sso' })),
      ]);
      await audit(trx, {
        actor: SSO_ACTOR, subjectType: 'person', subjectId: id, action: 'person_created',
        details: {
          before: null,
          after: { email: person.email, name: person.name, roles: await rolesOf(trx, id), oidcIssuer: person.account.issuer, oidcSubject: person.account.subject },
        },
      });
      return id;
    });
  } catch (error) {
    if (isUniqueViolation(error, 'people_email_lower_unique', 'people_email_unique', 'people_oidc_account_unique')) return undefined;
    throw error;
  }
}

// --- a person's sessions ------------------------------------------------------------------------

interface PersonSession {
  createdAt: Date;
  expiresAt: Date;
  signedInVia: 'api_key' | 'demo' | 'oidc';
}

/** The person's live web sessions, newest first; never their id hashes, which identify them. */
export async function listPersonSessions(db: Knex, personId: string, now = new Date()): Promise<PersonSession[]> {
  return db('web_sessions')
    .where('person_id', personId)
    .where('expires_at', '>', now)
    .orderBy('created_at', 'desc')
    .select('created_at as createdAt', 'expires_at as expiresAt', 'signed_in_via as signedInVia');
}

/** Ends every session of the person at once (their next request is sent to sign in), audited with how many. */
export async function revokePersonSessions(db: Knex, personId: string, actor: string): Promise<number> {
  return db.transaction(async (trx) => {
    const revoked = await trx('web_sessions').where('person_id', personId).delete();
    await audit(trx, {
      actor, subjectType: 'person', subjectId: personId, action: 'person_sessions_revoked',
      details: { before: { sessions: revoked }, after: { sessions: 0 }, count: revoked },
    });
    return revoked;
  });
}

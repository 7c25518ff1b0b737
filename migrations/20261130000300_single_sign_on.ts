import type { Knex } from 'knex';

/**
 * Signing in to the web UI through an OpenID Connect provider: which of the provider's group claim
 * values give which role (data, edited by admins), the short-lived state of a sign-in between the
 * redirect to the provider and its answer (single use), how each session was signed in, and the
 * provider's account each person is linked to (its issuer and subject): after the first sign-in a
 * person is found by that link, never again by an email a provider account happens to claim.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('sso_role_mappings', (t) => {
    t.comment('A value of the group claim of the identity provider, and a role it gives at sign-in.');
    t.text('claim_value').notNullable();
    t.text('role').notNullable().checkIn(['requester', 'approver', 'asset_manager', 'process_owner', 'admin'], 'sso_role_mappings_role_check');
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.primary(['claim_value', 'role']);
    t.check('length(claim_value) BETWEEN 1 AND 200', [], 'sso_role_mappings_claim_value_check');
  });
  await knex.schema.createTable('oidc_sign_ins', (t) => {
    t.comment('A sign-in sent to the identity provider and not yet answered: deleted when its answer arrives, or when it expires.');
    t.text('state_hash').primary().comment('sha256 of the state parameter; the state itself is only in the redirect of the browser');
    t.text('code_verifier').notNullable().comment('the PKCE verifier, useless without the code the provider gives the browser');
    t.text('nonce').notNullable();
    t.text('next_path').notNullable().defaultTo('');
    t.timestamp('expires_at', { useTz: true }).notNullable();
    t.index(['expires_at'], 'oidc_sign_ins_expires_index');
  });
  await knex.schema.alterTable('web_sessions', (t) => {
    t.text('signed_in_via').notNullable().defaultTo('api_key');
    t.check(`signed_in_via IN ('api_key', 'demo', 'oidc')`, [], 'web_sessions_signed_in_via_check');
  });
  await knex.schema.alterTable('people', (t) => {
    t.text('oidc_issuer').comment('the identity provider (its issuer URL) of the account this person signs in with');
    t.text('oidc_subject').comment('that account\'s subject (sub claim): stable at its provider, unlike an email');
    t.check('(oidc_issuer IS NULL) = (oidc_subject IS NULL)', [], 'people_oidc_link_check');
  });
  // One provider account, one person; also the index a sign-in finds its person by.
  await knex.raw('CREATE UNIQUE INDEX people_oidc_account_unique ON people (oidc_issuer, oidc_subject) WHERE oidc_subject IS NOT NULL');
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('DROP INDEX people_oidc_account_unique');
  await knex.schema.alterTable('people', (t) => {
    t.dropChecks(['people_oidc_link_check']);
    t.dropColumns('oidc_issuer', 'oidc_subject');
  });
  await knex.schema.alterTable('web_sessions', (t) => {
    t.dropChecks(['web_sessions_signed_in_via_check']);
    t.dropColumn('signed_in_via');
  });
  await knex.schema.dropTable('oidc_sign_ins');
  await knex.schema.dropTable('sso_role_mappings');
}

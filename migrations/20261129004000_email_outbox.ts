import type { Knex } from 'knex';

/**
 * The email log becomes a real outbox: activities only queue a message, and a dispatcher in every
 * worker sends it, trying again after a failure at `next_attempt_at` until it goes, unless the
 * failure says it never will (the recipient refused for good, the approval gone): such a message
 * is `undeliverable`, kept with its error and no longer tried. A queued message is announced on
 * `assetflow_email_queued` so that a dispatcher sends it at once.
 *
 * Approval tasks no longer store their signed link: the body holds a placeholder and
 * `approval_link_id`, and the dispatcher signs the link when it sends. Bodies stored before keep
 * no live token either: their links become the placeholder, so an unsent one is still sent.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('email_log', (t) => {
    t.timestamp('next_attempt_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.uuid('approval_link_id');
  });
  await knex.raw(`COMMENT ON COLUMN email_log.next_attempt_at IS 'When a dispatcher may (again) try to send an unsent message; a claim moves it past the attempt''s lease'`);
  await knex.raw(`COMMENT ON COLUMN email_log.approval_link_id IS 'The approval whose signed link replaces {{approval-link}} in the body at send time'`);
  await knex.raw(`ALTER TABLE email_log DROP CONSTRAINT email_log_status_check`);
  await knex.raw(`ALTER TABLE email_log ADD CONSTRAINT email_log_status_check CHECK (status IN ('pending', 'sent', 'failed', 'undeliverable'))`);
  await knex.raw(`COMMENT ON COLUMN email_log.status IS 'pending and failed are still to be sent; undeliverable never will be (last_error says why)'`);
  await knex.raw(`CREATE INDEX email_log_unsent_index ON email_log (next_attempt_at) WHERE status IN ('pending', 'failed')`);
  const tokenLink = String.raw`/approvals/([0-9a-fA-F-]{36})\?token=`;
  const wholeLink = String.raw`https?://[^\s<>"']*/approvals/[0-9a-fA-F-]{36}\?token=[^\s<>"'&]+`;
  await knex.raw(
    `UPDATE email_log
        SET approval_link_id = (regexp_match(body_text, :tokenLink))[1]::uuid,
            body_text = regexp_replace(body_text, :wholeLink, '{{approval-link}}', 'g'),
            body_html = regexp_replace(body_html, :wholeLink, '{{approval-link}}', 'g')
      WHERE body_text ~ :tokenLink OR body_html ~ :tokenLink`,
    { tokenLink, wholeLink },
  );
  await knex.raw(`
    CREATE FUNCTION email_log_announce_queued() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      PERFORM pg_notify('assetflow_email_queued', '');
      RETURN NULL;
    END
    $$`);
  await knex.raw(`
    CREATE TRIGGER email_log_announce_queued AFTER INSERT ON email_log
    FOR EACH STATEMENT EXECUTE FUNCTION email_log_announce_queued()`);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('DROP TRIGGER email_log_announce_queued ON email_log');
  await knex.raw('DROP FUNCTION email_log_announce_queued()');
  await knex.raw('DROP INDEX email_log_unsent_index');
  await knex.raw(`UPDATE email_log SET status = 'failed' WHERE status = 'undeliverable'`);
  await knex.raw(`ALTER TABLE email_log DROP CONSTRAINT email_log_status_check`);
  await knex.raw(`ALTER TABLE email_log ADD CONSTRAINT email_log_status_check CHECK (status IN ('pending', 'sent', 'failed'))`);
  await knex.raw(`COMMENT ON COLUMN email_log.status IS NULL`);
  await knex.schema.alterTable('email_log', (t) => {
    t.dropColumn('approval_link_id');
    t.dropColumn('next_attempt_at');
  });
}

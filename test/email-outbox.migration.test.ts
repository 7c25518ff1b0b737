/**
 * Databases from before the outbox stored live approval links in email bodies: the migration
 * replaces them with the placeholder and remembers the approval, so an unsent task is still sent
 * with a freshly signed link and no stored token is left to steal.
 */
import { randomUUID } from 'node:crypto';
import { migrationConfig } from '../platform/database';
import { createTestDatabase, type TestDatabase } from './support/database';

const OUTBOX = '20261129004000_email_outbox';
let database: TestDatabase;

beforeAll(async () => {
  database = await createTestDatabase();
});

afterAll(async () => {
  await database?.drop();
});

it('scrubs the live tokens of bodies stored before it, keeping which approval each link was for', async () => {
  const { db } = database;
  await db.migrate.down({ ...migrationConfig, name: OUTBOX });
  const approvalId = randomUUID();
  const token = 'v1.eyJhcHByb3ZhbElkIjoieCJ9.c2lnbmF0dXJl';
  await db('email_log').insert([
    {
      idempotency_key: 'before-outbox:task', template: 'approval_task', recipients: ['mona@northwind.example'], subject: 'Approval needed',
      body_text: `Hello,\n\nApprove or reject (with a comment): http://localhost:3000/approvals/${approvalId}?token=${token}\nThe link is yours alone.`,
      status: 'failed', attempts: 3,
    },
    { idempotency_key: 'before-outbox:receipt', template: 'change_receipt', recipients: ['rita@northwind.example'], subject: 'Received', body_text: 'Follow it at http://localhost:3000/changes/CHG0001001', status: 'sent' },
  ]);

  await db.migrate.up({ ...migrationConfig, name: OUTBOX });

  const rows = await db('email_log').orderBy('idempotency_key').select('idempotency_key', 'body_text', 'approval_link_id', 'status');
  expect(rows).toEqual([
    { idempotency_key: 'before-outbox:receipt', body_text: 'Follow it at http://localhost:3000/changes/CHG0001001', approval_link_id: null, status: 'sent' },
    {
      idempotency_key: 'before-outbox:task',
      body_text: 'Hello,\n\nApprove or reject (with a comment): {{approval-link}}\nThe link is yours alone.',
      approval_link_id: approvalId,
      status: 'failed',
    },
  ]);
  expect(JSON.stringify(await db('email_log').select('*'))).not.toContain(token);
});

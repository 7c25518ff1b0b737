import path from 'node:path';
import { msToNumber } from '@temporalio/common';
import { z } from 'zod';
import { isTimeZone } from '../domain/time-zones';

const flag = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'])
  .transform((v) => v === 'true' || v === '1' || v === 'yes');

/** A duration such as "90s", "30m", "24h" or "3d", in milliseconds. */
const duration = z
  .string()
  .regex(/^\d+(\.\d+)?\s*(ms|s|m|h|d)$/, 'a duration such as 90s, 30m, 24h or 3d')
  .transform((v) => msToNumber(v as Parameters<typeof msToNumber>[0]));

const port = z.coerce.number().int().min(1).max(65535);

const configSchema = z.object({
  PORT: port.default(3000),
  HOST: z.string().min(1).default('127.0.0.1'),
  PUBLIC_URL: z.string().url().optional(),
  DATA_DIR: z.string().min(1).default('.data'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** Where a worker serves its Prometheus metrics (GET /metrics, on HOST); 0 serves none. */
  WORKER_METRICS_PORT: z.coerce.number().int().min(0).max(65535).default(9464),
  /**
   * Workflows a worker keeps in memory between their steps. Approvals wait for days, so most open
   * workflows are idle: one that is not cached replays its short history when its next step comes.
   */
  WORKER_MAX_CACHED_WORKFLOWS: z.coerce.number().int().min(2).max(100_000).default(1000),

  DATABASE_URL: z.string().url().optional(),
  EMBEDDED_POSTGRES_PORT: port.default(5433),

  TEMPORAL_ADDRESS: z.string().min(1).optional(),
  TEMPORAL_NAMESPACE: z.string().min(1).default('default'),
  TEMPORAL_TASK_QUEUE: z.string().min(1).default('assetflow'),
  TEMPORAL_DEV_SERVER_PORT: port.default(7233),
  TEMPORAL_UI_PORT: port.default(8233),
  TEMPORAL_CLI: z.string().min(1).optional(),
  TEMPORAL_UI_URL: z.string().url().optional(),

  SMTP_URL: z.string().url().optional(),
  SMTP_SINK_PORT: port.default(2525),
  MAIL_FROM: z.string().min(3).default('assetflow <assetflow@localhost>'),
  MAILBOX_DIR: z.string().min(1).optional(),
  /** The longest wait between two attempts to send an email the mail server refused or did not take. */
  EMAIL_RETRY_MAX_DELAY: duration.default(msToNumber('30s')),

  DEMO_DATA: flag.optional(),
  /** Forces the demo people's public keys (af_demo_<login>) and the pick-a-demo-person sign-in, even with DATABASE_URL. */
  DEMO_PUBLIC_KEYS: flag.optional(),
  WARRANTY_REMINDER_DAYS: z.coerce.number().int().min(0).max(365).default(30),
  LEASE_REMINDER_DAYS: z.coerce.number().int().min(0).max(365).default(30),
  /** The organisation's time zone (IANA), for people who have not chosen their own: pages and emails show times in it. */
  TIME_ZONE: z.string().refine(isTimeZone, 'an IANA time zone such as Europe/Berlin').default('UTC'),
  SECURITY_NOTICE_EMAIL: z.string().email().default('security@assetflow.example'),

  APPROVAL_LINK_SECRET: z.string().min(32, 'at least 32 characters').optional(),
  APPROVAL_REMINDER_AFTER: duration.default(msToNumber('1d')),
  APPROVAL_ESCALATION_AFTER: duration.default(msToNumber('2d')),
  APPROVAL_DEADLINE: duration.default(msToNumber('3d')),
  EMERGENCY_APPROVAL_REMINDER_AFTER: duration.default(msToNumber('30m')),
  EMERGENCY_APPROVAL_ESCALATION_AFTER: duration.default(msToNumber('1h')),
  EMERGENCY_APPROVAL_DEADLINE: duration.default(msToNumber('2h')),
  LICENCE_REUSE_OFFER_TIMEOUT: duration.default(msToNumber('3d')),
  /** How long a step that ran out of retries (its process needs attention) first waits before it is tried again on its own; each further wait doubles, up to an hour. */
  STALLED_STEP_RETRY_AFTER: duration.default(msToNumber('5m')),
  /** How often the SLA watch (a Temporal Schedule every worker keeps) looks for processes past their SLA target and emails the process owners, once per breach. */
  SLA_WATCH_EVERY: duration.default(msToNumber('1m')),
  /** How often the unseen watch (a Temporal Schedule every worker keeps) looks for records every watching feed stopped seeing (inventory_sources.unseen_after_days) and tells their assets' lifecycle workflows. */
  UNSEEN_WATCH_EVERY: duration.default(msToNumber('1h')),
  /** When the monthly cost allocation (a Temporal Schedule) runs for the month just ended: a cron expression in UTC. */
  COST_ALLOCATION_CRON: z.string().trim().regex(/^\S+( \S+){4}$/, 'five cron fields').default('0 4 1 * *'),
  /** How often the budget watch compares each cost centre's month with its budget and tells the owner at 80% and 100%. */
  BUDGET_WATCH_EVERY: duration.default(msToNumber('1h')),
  /** How often the optimisation findings are looked for (unused licences, idle stock, renewals due, ...). */
  FINDINGS_SCAN_EVERY: duration.default(msToNumber('1d')),

  /** Failed credentials (API keys, sign-ins) one client address may send per window before every credential from it gets 429. */
  RATE_LIMIT_AUTH_FAILURES: z.coerce.number().int().min(1).max(1_000_000).default(20),
  RATE_LIMIT_AUTH_WINDOW: duration.default(msToNumber('15m')),
  /** Decisions through approval links one client address may send per window. */
  RATE_LIMIT_LINK_DECISIONS: z.coerce.number().int().min(1).max(1_000_000).default(30),
  RATE_LIMIT_LINK_WINDOW: duration.default(msToNumber('10m')),
  /** Express's "trust proxy" (e.g. 1, or loopback): which X-Forwarded-For hops name the client the rate limits count. */
  TRUST_PROXY: z.string().min(1).optional(),
  /** A bearer token Prometheus may scrape GET /metrics with, instead of a process owner's or admin's API key. */
  METRICS_TOKEN: z.string().min(32, 'at least 32 characters').optional(),

  /** Single sign-on for the web UI: the OpenID Connect provider's issuer, and this client's id and secret there (all three, or none). */
  OIDC_ISSUER_URL: z.string().url().optional(),
  OIDC_CLIENT_ID: z.string().min(1).optional(),
  OIDC_CLIENT_SECRET: z.string().min(1).optional(),
  /** Space-separated; `openid` is required, `email` gives the claim people are found by. */
  OIDC_SCOPES: z.string().trim().min(1).default('openid email profile'),
  /** The claim (a string or a list of strings) whose values map to roles through the role mappings (GET/PUT /sso/role-mappings). */
  OIDC_GROUPS_CLAIM: z.string().trim().min(1).default('groups'),
  /** Create a person (a requester, plus the mapped roles) at their first sign-in, instead of refusing people assetflow does not know. */
  OIDC_CREATE_PEOPLE: flag.default(false),
  /**
   * Accept an email the provider does not say is verified (no email_verified claim, as Entra ID
   * sends none) when finding or creating a person at their first sign-in; `false` is refused always.
   */
  OIDC_TRUST_UNVERIFIED_EMAIL: flag.default(false),
  /** How the sign-in page names the provider: "Sign in with <name>". */
  OIDC_PROVIDER_NAME: z.string().trim().min(1).max(60).default('single sign-on'),

  /** A folder of inventory feeds (<dir>/<source>/*.csv|*.jsonl) each API process takes files from; unset: none is watched. */
  INVENTORY_DROP_DIR: z.string().min(1).optional(),
  /** The email of the person the folder's batches are recorded as: an active asset manager or admin. */
  INVENTORY_DROP_AS: z.string().email().optional(),
  /** How often the folder is looked at; a file is taken once its size held still across two looks. */
  INVENTORY_DROP_EVERY: duration.default(msToNumber('30s')),
  /** Most bytes a cloud cost file (FOCUS) may have as sent, gzip counted packed: 4 GiB by default. */
  COST_IMPORT_MAX_BYTES: z.coerce.number().int().min(1024).max(Number.MAX_SAFE_INTEGER).default(4 * 1024 ** 3),
  /** A folder of cloud cost files in FOCUS (*.csv, *.csv.gz, *.parquet) each API process takes files from; unset: none is watched. */
  COST_DROP_DIR: z.string().min(1).optional(),
  /** The email of the person the folder's cost imports are recorded as: an active asset manager or admin. */
  COST_DROP_AS: z.string().email().optional(),
  /** How often the cost folder is looked at; a file is taken once its size held still across two looks. */
  COST_DROP_EVERY: duration.default(msToNumber('30s')),
});

export type RawConfig = z.infer<typeof configSchema>;

export interface Config extends RawConfig {
  publicUrl: string;
  dataDir: string;
  mailboxDir: string;
  loadDemoData: boolean;
  /**
   * The demo people get their public keys (af_demo_<login>) only in the embedded database, which
   * lives and dies with this machine's demo; a database given by DATABASE_URL gets them only when
   * DEMO_PUBLIC_KEYS forces it. The web UI's pick-a-demo-person sign-in exists only with them.
   */
  demoKeys: boolean;
  approvalTimings: ApprovalTimingSettings;
  rateLimits: RateLimitSettings;
  /** Single sign-on for the web UI; unset when OIDC_ISSUER_URL, OIDC_CLIENT_ID and OIDC_CLIENT_SECRET are. */
  oidc?: OidcSettings;
  /** The watched folder of inventory feeds; unset when INVENTORY_DROP_DIR is. */
  inventoryDrop?: { dir: string; as: string; everyMs: number };
  /** The watched folder of cloud cost files; unset when COST_DROP_DIR is. */
  costDrop?: { dir: string; as: string; everyMs: number };
}

/** The web UI's OpenID Connect client: authorization code flow with PKCE against one provider. */
export interface OidcSettings {
  issuerUrl: string;
  clientId: string;
  clientSecret: string;
  scopes: string;
  groupsClaim: string;
  createPeople: boolean;
  /** A first sign-in may go by an email without `email_verified: true` (OIDC_TRUST_UNVERIFIED_EMAIL). */
  trustUnverifiedEmail: boolean;
  providerName: string;
  /** Where the provider sends the browser back: `${publicUrl}/ui/sign-in/oidc/callback`, registered at the provider. */
  redirectUrl: string;
}

/** Whether a URL names this machine (localhost, 127.0.0.0/8, ::1): the only place plain http is accepted for an identity provider. */
export function isLoopbackUrl(url: string): boolean {
  const host = new URL(url).hostname;
  return host === 'localhost' || host === '[::1]' || /^127(\.\d{1,3}){3}$/.test(host);
}

/** How many attempts a client address gets per window; counted in Postgres, so across all API processes. */
export interface RateLimitSettings {
  authFailures: { points: number; windowMs: number };
  linkDecisions: { points: number; windowMs: number };
  /** Single sign-ins started (each writes a row); absent: platform/rate-limits.ts's SIGN_IN_STARTS. */
  signInStarts?: { points: number; windowMs: number };
}

export interface ApprovalTimings {
  reminderAfterMs: number;
  escalationAfterMs: number;
  deadlineMs: number;
}

/** How long an approval step waits before a reminder, an escalation and its deadline; emergency changes run on their own clock. */
export interface ApprovalTimingSettings {
  normal: ApprovalTimings;
  emergency: ApprovalTimings;
}

export class ConfigError extends Error {}

/** Parsed once at start; a bad value stops the process with the variable named. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  // docker compose passes a variable that .env leaves blank as an empty string: that means unset.
  const parsed = configSchema.safeParse(Object.fromEntries(Object.entries(env).filter(([, value]) => value !== '')));
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new ConfigError(`invalid configuration: ${problems}`);
  }
  const raw = parsed.data;
  const approvalTimings: ApprovalTimingSettings = {
    normal: { reminderAfterMs: raw.APPROVAL_REMINDER_AFTER, escalationAfterMs: raw.APPROVAL_ESCALATION_AFTER, deadlineMs: raw.APPROVAL_DEADLINE },
    emergency: {
      reminderAfterMs: raw.EMERGENCY_APPROVAL_REMINDER_AFTER,
      escalationAfterMs: raw.EMERGENCY_APPROVAL_ESCALATION_AFTER,
      deadlineMs: raw.EMERGENCY_APPROVAL_DEADLINE,
    },
  };
  for (const [kind, t] of Object.entries(approvalTimings)) {
    if (!(t.reminderAfterMs <= t.escalationAfterMs && t.escalationAfterMs <= t.deadlineMs)) {
      throw new ConfigError(`invalid configuration: ${kind} approval timings must run reminder <= escalation <= deadline`);
    }
  }
  const dataDir = path.resolve(raw.DATA_DIR);
  const publicUrl = (raw.PUBLIC_URL ?? `http://${raw.HOST === '0.0.0.0' ? 'localhost' : raw.HOST}:${raw.PORT}`).replace(/\/$/, '');
  return {
    ...raw,
    dataDir,
    publicUrl,
    mailboxDir: path.resolve(raw.MAILBOX_DIR ?? path.join(dataDir, 'mailbox')),
    loadDemoData: raw.DEMO_DATA ?? raw.DATABASE_URL === undefined,
    demoKeys: raw.DEMO_PUBLIC_KEYS ?? ((raw.DEMO_DATA ?? true) && raw.DATABASE_URL === undefined),
    approvalTimings,
    rateLimits: {
      authFailures: { points: raw.RATE_LIMIT_AUTH_FAILURES, windowMs: raw.RATE_LIMIT_AUTH_WINDOW },
      linkDecisions: { points: raw.RATE_LIMIT_LINK_DECISIONS, windowMs: raw.RATE_LIMIT_LINK_WINDOW },
    },
    oidc: oidcSettingsOf(raw, publicUrl),
    inventoryDrop: inventoryDropOf(raw),
    costDrop: costDropOf(raw),
  };
}

/** Files dropped in the folder are recorded as a person: a folder without one is a mistake, not "off". */
function inventoryDropOf(raw: RawConfig): Config['inventoryDrop'] {
  if (raw.INVENTORY_DROP_DIR === undefined) return undefined;
  if (raw.INVENTORY_DROP_AS === undefined) throw new ConfigError('invalid configuration: INVENTORY_DROP_DIR needs INVENTORY_DROP_AS, the email of the asset manager or admin its batches are recorded as');
  if (raw.INVENTORY_DROP_EVERY < 1000) throw new ConfigError('invalid configuration: INVENTORY_DROP_EVERY must be at least 1s');
  return { dir: path.resolve(raw.INVENTORY_DROP_DIR), as: raw.INVENTORY_DROP_AS, everyMs: raw.INVENTORY_DROP_EVERY };
}

/** As the inventory folder: a cost folder without the person its imports are recorded as is a mistake. */
function costDropOf(raw: RawConfig): Config['costDrop'] {
  if (raw.COST_DROP_DIR === undefined) return undefined;
  if (raw.COST_DROP_AS === undefined) throw new ConfigError('invalid configuration: COST_DROP_DIR needs COST_DROP_AS, the email of the asset manager or admin its imports are recorded as');
  if (raw.COST_DROP_EVERY < 1000) throw new ConfigError('invalid configuration: COST_DROP_EVERY must be at least 1s');
  return { dir: path.resolve(raw.COST_DROP_DIR), as: raw.COST_DROP_AS, everyMs: raw.COST_DROP_EVERY };
}

/** Single sign-on is configured by its issuer, client id and secret together; half a configuration is a mistake, not "off". */
function oidcSettingsOf(raw: RawConfig, publicUrl: string): OidcSettings | undefined {
  const given = { OIDC_ISSUER_URL: raw.OIDC_ISSUER_URL, OIDC_CLIENT_ID: raw.OIDC_CLIENT_ID, OIDC_CLIENT_SECRET: raw.OIDC_CLIENT_SECRET };
  const missing = Object.entries(given).filter(([, value]) => value === undefined).map(([name]) => name);
  if (missing.length === 3) return undefined;
  if (missing.length) throw new ConfigError(`invalid configuration: single sign-on needs OIDC_ISSUER_URL, OIDC_CLIENT_ID and OIDC_CLIENT_SECRET together; missing ${missing.join(', ')}`);
  const issuerUrl = raw.OIDC_ISSUER_URL!;
  const protocol = new URL(issuerUrl).protocol;
  // Tokens and the client secret cross this connection: plain http only to a provider on this machine.
  if (!(protocol === 'https:' || (protocol === 'http:' && isLoopbackUrl(issuerUrl)))) {
    throw new ConfigError('invalid configuration: OIDC_ISSUER_URL must be https (plain http only for a provider on localhost)');
  }
  if (!raw.OIDC_SCOPES.split(/\s+/).includes('openid')) throw new ConfigError('invalid configuration: OIDC_SCOPES must include openid');
  return {
    issuerUrl,
    clientId: raw.OIDC_CLIENT_ID!,
    clientSecret: raw.OIDC_CLIENT_SECRET!,
    scopes: raw.OIDC_SCOPES.split(/\s+/).join(' '),
    groupsClaim: raw.OIDC_GROUPS_CLAIM,
    createPeople: raw.OIDC_CREATE_PEOPLE,
    trustUnverifiedEmail: raw.OIDC_TRUST_UNVERIFIED_EMAIL,
    providerName: raw.OIDC_PROVIDER_NAME,
    redirectUrl: `${publicUrl}/ui/sign-in/oidc/callback`,
  };
}

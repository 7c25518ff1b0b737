import path from 'node:path';
import { msToNumber } from '@temporalio/common';
import { z } from 'zod';

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

  DEMO_DATA: flag.optional(),
  WARRANTY_REMINDER_DAYS: z.coerce.number().int().min(0).max(365).default(30),
  LEASE_REMINDER_DAYS: z.coerce.number().int().min(0).max(365).default(30),
  SECURITY_NOTICE_EMAIL: z.string().email().default('security@assetflow.example'),

  APPROVAL_LINK_SECRET: z.string().min(32, 'at least 32 characters').optional(),
  APPROVAL_REMINDER_AFTER: duration.default(msToNumber('1d')),
  APPROVAL_ESCALATION_AFTER: duration.default(msToNumber('2d')),
  APPROVAL_DEADLINE: duration.default(msToNumber('3d')),
  EMERGENCY_APPROVAL_REMINDER_AFTER: duration.default(msToNumber('30m')),
  EMERGENCY_APPROVAL_ESCALATION_AFTER: duration.default(msToNumber('1h')),
  EMERGENCY_APPROVAL_DEADLINE: duration.default(msToNumber('2h')),
  LICENCE_REUSE_OFFER_TIMEOUT: duration.default(msToNumber('3d')),
});

export type RawConfig = z.infer<typeof configSchema>;

export interface Config extends RawConfig {
  publicUrl: string;
  dataDir: string;
  mailboxDir: string;
  loadDemoData: boolean;
  approvalTimings: ApprovalTimingSettings;
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
  const parsed = configSchema.safeParse(env);
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
  return {
    ...raw,
    dataDir,
    publicUrl: (raw.PUBLIC_URL ?? `http://${raw.HOST === '0.0.0.0' ? 'localhost' : raw.HOST}:${raw.PORT}`).replace(/\/$/, ''),
    mailboxDir: path.resolve(raw.MAILBOX_DIR ?? path.join(dataDir, 'mailbox')),
    loadDemoData: raw.DEMO_DATA ?? raw.DATABASE_URL === undefined,
    approvalTimings,
  };
}

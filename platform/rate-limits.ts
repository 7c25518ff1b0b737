import type { Knex } from 'knex';
import { RateLimiterPostgres, RateLimiterRes } from 'rate-limiter-flexible';
import type { RateLimitSettings } from './config';

/** What a limit says about one more attempt: go ahead, or wait this many seconds. */
export type LimitVerdict = { allowed: true } | { allowed: false; retryAfterSeconds: number };

const ALLOWED: LimitVerdict = { allowed: true };
const waitFor = (msBeforeNext: number): LimitVerdict => ({ allowed: false, retryAfterSeconds: Math.max(1, Math.ceil(msBeforeNext / 1000)) });

/**
 * One limit, counted per client address in the rate_limits table, so that every API process
 * behind a load balancer counts against the same number. A failure of the store (Postgres down)
 * is not a verdict: it is thrown like any other database failure.
 */
export class RateLimit {
  private readonly limiter: RateLimiterPostgres;

  constructor(db: Knex, name: string, private readonly settings: { points: number; windowMs: number }) {
    this.limiter = new RateLimiterPostgres({
      storeClient: db,
      storeType: 'knex',
      tableName: 'rate_limits',
      tableCreated: true,
      keyPrefix: name,
      points: settings.points,
      duration: Math.max(1, Math.ceil(settings.windowMs / 1000)),
    });
  }

  /** Whether the client has attempts left, without counting one: for limits that count only failures. */
  async check(client: string): Promise<LimitVerdict> {
    const used = await this.limiter.get(client);
    return used && used.consumedPoints >= this.settings.points ? waitFor(used.msBeforeNext) : ALLOWED;
  }

  /** Counts one attempt; refused once the window's attempts are used up. */
  async take(client: string): Promise<LimitVerdict> {
    try {
      await this.limiter.consume(client, 1);
      return ALLOWED;
    } catch (error) {
      if (error instanceof RateLimiterRes) return waitFor(error.msBeforeNext);
      throw error;
    }
  }
}

/**
 * Single sign-ins one client address may start per window, when the configuration names no other
 * limit: each start writes a row (oidc_sign_ins) before anybody is known, and a person needs a few.
 */
export const SIGN_IN_STARTS = { points: 30, windowMs: 10 * 60_000 };

export interface RateLimits {
  /** Failed credentials (an unknown or malformed API key, a failed sign-in) per client address. */
  authFailures: RateLimit;
  /** Approve / Reject through an emailed link, per client address. */
  linkDecisions: RateLimit;
  /** Single sign-ins started (GET /ui/sign-in/oidc), per client address, whether they end well or not. */
  signInStarts: RateLimit;
}

/** `settings` come from the configuration (RATE_LIMIT_*, platform/config.ts), which holds their defaults. */
export function createRateLimits(db: Knex, settings: RateLimitSettings): RateLimits {
  return {
    authFailures: new RateLimit(db, 'auth-failures', settings.authFailures),
    linkDecisions: new RateLimit(db, 'link-decisions', settings.linkDecisions),
    signInStarts: new RateLimit(db, 'sign-in-starts', settings.signInStarts ?? SIGN_IN_STARTS),
  };
}

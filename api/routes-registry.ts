import { Router, type Request, type Response } from 'express';
import type { Knex } from 'knex';
import { z } from 'zod';
import type { RateLimits } from '../platform/rate-limits';
import { ROLES, authenticate, clientOf, hasAnyRole, noteKeyUse, type Principal, type Role } from './auth';
import { bearerOf, secretMatches } from '../platform/secrets';
import { forbidden, toHttpError, tooManyRequests, unsupportedMediaType } from './errors';

/** A 4xx answer other than the limit's own 429: what a limit on refused calls counts. */
const isRefusal = (status: number | undefined) => status !== undefined && status >= 400 && status < 500 && status !== 429;

type Method = 'get' | 'post' | 'put' | 'patch' | 'delete';

/** Who may call a route: nobody needs a key, anybody with a key, or holders of one of these roles. */
export type Access = 'public' | 'authenticated' | readonly Role[];

export interface RouteSpec<P extends z.ZodType, Q extends z.ZodType, B extends z.ZodType> {
  method: Method;
  path: string;
  summary: string;
  tag: string;
  access: Access;
  /**
   * A bearer token that also opens the route, standing for no person (Prometheus' scrape token);
   * the handler then gets no principal. Unset or empty: only the declared access.
   */
  machineToken?: string;
  /**
   * Counts refused calls (a forged, expired or spent link) against this per-address limit; once it
   * is used up every call from the address answers 429. Accepted calls are not counted: many
   * approvers may share one address behind a NAT.
   */
  rateLimit?: Exclude<keyof RateLimits, 'authFailures'>;
  params?: P;
  query?: Q;
  body?: B;
  /** Status code to description, for the OpenAPI document. */
  responses: Record<number, string>;
}

export interface RouteInput<P, Q, B> {
  params: P;
  query: Q;
  body: B;
  principal: Principal;
  req: Request;
  res: Response;
}

const errorSchema = {
  type: 'object',
  required: ['error'],
  properties: {
    error: {
      type: 'object',
      required: ['code', 'message', 'details'],
      properties: { code: { type: 'string' }, message: { type: 'string' }, details: {} },
    },
  },
};

const jsonSchema = (schema: z.ZodType) => z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;

/** A declared route as the authorisation matrix and the OpenAPI document see it. */
export type DeclaredRoute = Readonly<RouteSpec<z.ZodType, z.ZodType, z.ZodType>>;

function isAccess(access: unknown): access is Access {
  return access === 'public' || access === 'authenticated'
    || (Array.isArray(access) && access.length > 0 && access.every((role) => (ROLES as readonly unknown[]).includes(role)));
}

/**
 * Routes are declared once with their zod schemas: the same declaration validates requests,
 * enforces access and produces the OpenAPI document.
 */
export class RouteRegistry {
  readonly router = Router();
  private readonly specs: RouteSpec<z.ZodType, z.ZodType, z.ZodType>[] = [];

  constructor(private readonly db: Knex, private readonly limits: RateLimits) {}

  /** Every route declared so far, in order (read-only: test/authorisation-matrix.test.ts walks them). */
  get routes(): readonly DeclaredRoute[] {
    return this.specs;
  }

  add<P extends z.ZodType = z.ZodUnknown, Q extends z.ZodType = z.ZodUnknown, B extends z.ZodType = z.ZodUnknown>(
    spec: RouteSpec<P, Q, B>,
    handler: (input: RouteInput<z.output<P>, z.output<Q>, z.output<B>>) => Promise<unknown>,
  ): void {
    if (!isAccess(spec.access)) throw new Error(`${spec.method.toUpperCase()} ${spec.path} declares no valid access`);
    this.specs.push(spec as unknown as RouteSpec<z.ZodType, z.ZodType, z.ZodType>);
    this.router[spec.method](spec.path, async (req: Request, res: Response) => {
      if (spec.rateLimit) {
        const limit = this.limits[spec.rateLimit];
        const verdict = await limit.check(clientOf(req));
        if (!verdict.allowed) throw tooManyRequests('too many refused requests of this kind from your address; wait before trying again', verdict.retryAfterSeconds);
        try {
          await this.answer(spec, handler, req, res);
        } catch (error) {
          if (isRefusal(toHttpError(error)?.status)) await limit.take(clientOf(req));
          throw error;
        }
        if (isRefusal(res.statusCode)) await limit.take(clientOf(req));
        return;
      }
      await this.answer(spec, handler, req, res);
    });
  }

  private async answer<P extends z.ZodType, Q extends z.ZodType, B extends z.ZodType>(
    spec: RouteSpec<P, Q, B>,
    handler: (input: RouteInput<z.output<P>, z.output<Q>, z.output<B>>) => Promise<unknown>,
    req: Request,
    res: Response,
  ): Promise<void> {
    const byMachine = !!spec.machineToken && secretMatches(spec.machineToken, bearerOf(req.get('authorization')));
    const principal = spec.access === 'public' || byMachine
      ? (undefined as unknown as Principal)
      : await authenticate(this.db, req, this.limits.authFailures);
    if (Array.isArray(spec.access) && !byMachine && !hasAnyRole(principal, spec.access)) {
      throw forbidden(`${spec.method.toUpperCase()} ${spec.path} needs one of the roles: ${spec.access.join(', ')}`);
    }
    // Past the access check only: a refused call writes nothing. Awaited (once a minute per key at most), so that the
    // write belongs to this request and not to whichever comes next; a failure to record it fails nothing.
    await noteKeyUse(this.db, principal).catch((error: unknown) => req.log.warn({ err: error }, 'could not record the last use of an API key'));
    const params = spec.params ? spec.params.parse(req.params) : req.params;
    const query = spec.query ? spec.query.parse(req.query) : req.query;
    // A body in another format would be read as missing fields: say what is wrong instead.
    if (spec.body && req.is('application/json') === false) throw unsupportedMediaType(req.get('content-type'));
    const body = spec.body ? spec.body.parse(req.body ?? {}) : undefined;
    const result = await handler({ params, query, body, principal, req, res } as RouteInput<z.output<P>, z.output<Q>, z.output<B>>);
    if (!res.headersSent) res.json(result);
  }

  openApiDocument(info: { title: string; version: string; description: string }): Record<string, unknown> {
    const paths: Record<string, Record<string, unknown>> = {};
    for (const spec of this.specs) {
      const path = spec.path.replace(/:(\w+)/g, '{$1}');
      const parameters = [
        ...parametersOf(spec.params, 'path'),
        ...parametersOf(spec.query, 'query'),
      ];
      const responses: Record<string, unknown> = {};
      for (const [status, description] of Object.entries(spec.responses)) {
        responses[status] = Number(status) >= 400
          ? { description, content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } }
          : { description };
      }
      paths[path] ??= {};
      paths[path][spec.method] = {
        summary: spec.summary,
        tags: [spec.tag],
        ...(spec.access === 'public' ? { security: [] } : {}),
        ...(Array.isArray(spec.access) ? { description: `Roles: ${spec.access.join(', ')}` } : {}),
        parameters,
        ...(spec.body ? { requestBody: { required: true, content: { 'application/json': { schema: jsonSchema(spec.body) } } } } : {}),
        responses,
      };
    }
    return {
      openapi: '3.1.0',
      info,
      components: {
        securitySchemes: { apiKey: { type: 'http', scheme: 'bearer', description: 'a person\'s API key' } },
        schemas: { Error: errorSchema },
      },
      security: [{ apiKey: [] }],
      paths,
    };
  }
}

function parametersOf(schema: z.ZodType | undefined, location: 'path' | 'query'): unknown[] {
  if (!schema) return [];
  const object = jsonSchema(schema) as { properties?: Record<string, Record<string, unknown>>; required?: string[] };
  return Object.entries(object.properties ?? {}).map(([name, property]) => ({
    name,
    in: location,
    required: location === 'path' || (object.required ?? []).includes(name),
    description: property.description,
    schema: property,
  }));
}

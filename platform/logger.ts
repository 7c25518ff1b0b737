import pino, { type DestinationStream, type Logger } from 'pino';

export type { Logger };

const REDACTED = '[redacted]';

/** Credentials a request can carry in its headers: never logged. */
const SECRET_HEADERS = ['authorization', 'cookie', 'proxy-authorization', 'x-api-key'];

/** Query parameters that are credentials: an approval link's token is the approver's vote. */
// code: an OpenID Connect provider's answer to the sign-in callback carries the authorization code.
const SECRET_QUERY_PARAMETERS = ['token', 'api_key', 'apikey', 'access_token', 'code', 'id_token'];
const SECRET_QUERY_IN_URL = new RegExp(`([?&](?:${SECRET_QUERY_PARAMETERS.join('|')})=)[^&#\\s]*`, 'gi');
const isSecretQueryParameter = (name: string) => SECRET_QUERY_PARAMETERS.includes(name.toLowerCase());

/** A URL (or path with a query) with the value of every credential in its query string replaced. */
export function redactUrl(url: string): string {
  return url.replace(SECRET_QUERY_IN_URL, `$1${REDACTED}`);
}

interface SerializedRequest {
  url?: string;
  query?: unknown;
  headers?: Record<string, unknown>;
  [key: string]: unknown;
}

/**
 * The request as pino-http logs it, without credentials: an approval link's token in the URL, the
 * query and the Referer (the approval page's form is posted from the link), and the credential
 * headers (API key, session cookie).
 */
export function requestForLog(req: SerializedRequest): SerializedRequest {
  const headers: Record<string, unknown> = { ...req.headers };
  for (const name of SECRET_HEADERS) if (name in headers) headers[name] = REDACTED;
  for (const name of ['referer', 'referrer']) if (typeof headers[name] === 'string') headers[name] = redactUrl(headers[name] as string);
  const query = req.query && typeof req.query === 'object'
    ? Object.fromEntries(Object.entries(req.query).map(([key, value]) => [key, isSecretQueryParameter(key) ? REDACTED : value]))
    : req.query;
  return { ...req, url: typeof req.url === 'string' ? redactUrl(req.url) : req.url, query, headers };
}

/** The response as logged: the session cookie it sets is a credential too. */
export function responseForLog(res: { headers?: Record<string, unknown>; [key: string]: unknown }): typeof res {
  return res.headers && 'set-cookie' in res.headers ? { ...res, headers: { ...res.headers, 'set-cookie': REDACTED } } : res;
}

/** For pino-http, whose own serializers would otherwise log the request as it came. */
export const httpLogSerializers = { req: requestForLog, res: responseForLog };

/** `destination` is stdout unless given (a test captures what would be logged). */
export function createLogger(level: string, name: string, destination?: DestinationStream): Logger {
  const options = { level, name, redact: [...SECRET_HEADERS.map((header) => `req.headers["${header}"]`), 'res.headers["set-cookie"]'] };
  return destination ? pino(options, destination) : pino(options);
}

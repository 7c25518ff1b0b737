import { isConnectionFault, isInvalidData, reasonOf } from './failure-classes';

const pgError = (code: string, message = 'refused') => Object.assign(new Error(message), { code });

describe('isInvalidData', () => {
  it('refuses for good what Postgres refuses as bad data: classes 22 and 23', () => {
    expect(isInvalidData(pgError('22003', 'numeric value out of range'))).toBe(true);
    expect(isInvalidData(pgError('22P02', 'invalid input syntax for type uuid'))).toBe(true);
    expect(isInvalidData(pgError('23505', 'duplicate key value violates unique constraint'))).toBe(true);
    expect(isInvalidData(pgError('23514', 'new row violates check constraint'))).toBe(true);
  });

  it('retries what may go away: serialization, deadlock, shutdown, too many connections, a missing table during a deploy', () => {
    for (const code of ['40001', '40P01', '57P01', '57P03', '53300', '08006', '42P01', '55P03']) expect(isInvalidData(pgError(code))).toBe(false);
  });

  it('refuses numbers out of range, what is not there, and payloads that fail their schema', () => {
    expect(isInvalidData(new RangeError('line total 12000000000000000 is beyond the largest amount'))).toBe(true);
    expect(isInvalidData(new TypeError("Cannot read properties of undefined (reading 'vendor_id')"))).toBe(true);
    expect(isInvalidData(Object.assign(new Error('invalid'), { name: 'ZodError' }))).toBe(true);
  });

  it('retries faults on the way to a server, even when they arrive as a TypeError', () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });
    expect(isInvalidData(refused)).toBe(false);
    expect(isInvalidData(new TypeError('fetch failed', { cause: refused }))).toBe(false);
    expect(isInvalidData(Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }))).toBe(false);
    const unreachable = Object.assign(new Error('connect ENETUNREACH 10.0.0.5:5432'), { code: 'ENETUNREACH' });
    expect(isInvalidData(new TypeError('fetch failed', { cause: unreachable }))).toBe(false);
  });

  it('retries everything else: a plain error, a timeout, something that is not an error', () => {
    expect(isInvalidData(new Error('Knex: Timeout acquiring a connection. The pool is probably full.'))).toBe(false);
    expect(isInvalidData('a string')).toBe(false);
    expect(isInvalidData(undefined)).toBe(false);
  });
});

describe('isConnectionFault', () => {
  it('finds the socket error in the cause chain and in an AggregateError, from any realm', () => {
    const refused = { name: 'Error', code: 'ECONNREFUSED', message: 'connect ECONNREFUSED ::1:5432' };
    expect(isConnectionFault(new Error('loading failed', { cause: refused }))).toBe(true);
    expect(isConnectionFault(new AggregateError([new Error('no code'), refused], ''))).toBe(true);
    expect(isConnectionFault(Object.assign(new Error('unreachable'), { code: 'ENETUNREACH' }))).toBe(true);
    expect(isConnectionFault(Object.assign(new Error('duplicate key'), { code: '23505' }))).toBe(false);
    expect(isConnectionFault('ECONNREFUSED')).toBe(false);
  });
});

describe('reasonOf', () => {
  it('keeps Postgres\'s own words, without the statement and the values knex puts in front of them', () => {
    const refused = Object.assign(new Error('insert into "assets" ("serial_number") values ($1) - duplicate key value violates unique constraint "assets_serial_key"'), { code: '23505', severity: 'ERROR' });
    expect(reasonOf(refused)).toBe('duplicate key value violates unique constraint "assets_serial_key"');
    expect(reasonOf(new RangeError('a - b is out of range'))).toBe('a - b is out of range');
  });
});

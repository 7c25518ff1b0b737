import { isDatabaseUnavailable, isUniqueViolation } from './database';

const withCode = (code: string, message = 'failed') => Object.assign(new Error(message), { code });

describe('isDatabaseUnavailable', () => {
  it.each([
    ['a refused connection', withCode('ECONNREFUSED', 'connect ECONNREFUSED 127.0.0.1:5432')],
    ['a reset connection', withCode('ECONNRESET')],
    ['a refused dual-stack connect (AggregateError)', Object.assign(new AggregateError([withCode('ECONNREFUSED'), withCode('ECONNREFUSED')], ''), { code: 'ECONNREFUSED' })],
    ['a connection exception (SQLSTATE 08006)', withCode('08006', 'connection failure')],
    ['an administrator shutdown (57P01)', withCode('57P01', 'terminating connection due to administrator command')],
    ['a database starting up (57P03)', withCode('57P03', 'the database system is starting up')],
    ['too many connections (53300)', withCode('53300', 'sorry, too many clients already')],
    ['a pool that gave no connection in time', Object.assign(new Error('Knex: Timeout acquiring a connection. The pool is probably full.'), { name: 'KnexTimeoutError' })],
    ['a connection ended under a query', new Error('Connection terminated unexpectedly')],
    ['a connect that timed out', new Error('timeout exceeded when trying to connect')],
    ['a cause further down', new Error('loading the inbox failed', { cause: withCode('ECONNREFUSED') })],
    ['a socket error from another realm (not instanceof Error here)', { name: 'Error', code: 'ECONNREFUSED', message: 'connect ECONNREFUSED 127.0.0.1:5432' }],
  ])('says yes for %s', (_what, error) => {
    expect(isDatabaseUnavailable(error)).toBe(true);
  });

  it.each([
    ['a unique violation (23505)', withCode('23505', 'duplicate key value violates unique constraint')],
    ['a syntax error (42601)', withCode('42601', 'syntax error at or near')],
    ['a statement cancelled by its own timeout (57014)', withCode('57014', 'canceling statement due to statement timeout')],
    ['a plain bug', new TypeError("Cannot read properties of undefined (reading 'id')")],
    ['a string that names a code', 'ECONNREFUSED'],
    ['nothing', undefined],
  ])('says no for %s', (_what, error) => {
    expect(isDatabaseUnavailable(error)).toBe(false);
  });
});

describe('isUniqueViolation', () => {
  const violation = (constraint: string) => Object.assign(withCode('23505', `duplicate key value violates unique constraint "${constraint}"`), { constraint });

  it('names a unique violation of one of the constraints given, or of any when none is given', () => {
    expect(isUniqueViolation(violation('people_email_lower_unique'), 'people_email_lower_unique', 'people_email_unique')).toBe(true);
    expect(isUniqueViolation(violation('groups_name_lower_unique'))).toBe(true);
  });

  it('says no for another constraint, another error, or nothing', () => {
    expect(isUniqueViolation(violation('assets_tag_unique'), 'people_email_lower_unique')).toBe(false);
    expect(isUniqueViolation(Object.assign(withCode('23503', 'violates foreign key constraint'), { constraint: 'people_email_lower_unique' }), 'people_email_lower_unique')).toBe(false);
    expect(isUniqueViolation(undefined)).toBe(false);
  });
});

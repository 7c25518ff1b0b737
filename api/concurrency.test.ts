import type { Request } from 'express';
import { HttpError } from './errors';
import { etagOf, expectedVersions, versionsOf } from './concurrency';

const withIfMatch = (value?: string) => ({ get: (name: string) => (name.toLowerCase() === 'if-match' ? value : undefined) }) as unknown as Request;

describe('If-Match', () => {
  it('reads the version back from the ETag a read gave', () => {
    expect(versionsOf(etagOf(7))).toEqual([7]);
    expect(expectedVersions(withIfMatch('"12"'))).toEqual([12]);
  });

  it('takes a list of tags, and an unquoted version', () => {
    expect(versionsOf('"3", "4"')).toEqual([3, 4]);
    expect(versionsOf('5')).toEqual([5]);
  });

  it('matches no version with a weak tag or a tag that is no version (the write then answers 412)', () => {
    expect(versionsOf('W/"3"')).toEqual([]);
    expect(versionsOf('"abc"')).toEqual([]);
    expect(versionsOf('"0"')).toEqual([]);
    expect(versionsOf('"99999999999"')).toEqual([]);
  });

  it('refuses an update without If-Match, or with *, as 428 precondition_required', () => {
    for (const header of [undefined, '', '  ', '*']) {
      let thrown: unknown;
      try {
        expectedVersions(withIfMatch(header));
      } catch (error) {
        thrown = error;
      }
      expect(thrown).toBeInstanceOf(HttpError);
      expect(thrown).toMatchObject({ status: 428, code: 'precondition_required' });
    }
  });
});

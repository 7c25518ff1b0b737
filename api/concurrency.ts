/**
 * Optimistic concurrency for records people edit (people, groups): a read answers with the
 * record's version as its ETag, and an update must send it back in If-Match. An update without one
 * is refused (428), so that nobody overwrites a change they never saw; one with a version that is
 * no longer current is refused by the write itself (412, model/people.ts and model/groups.ts).
 */
import type { Request, Response } from 'express';
import { preconditionRequired } from './errors';

/** The ETag of a version: a strong entity tag, `"3"`. */
export const etagOf = (version: number) => `"${version}"`;

export function setETag(res: Response, version: number): void {
  res.set('ETag', etagOf(version));
}

/**
 * The versions an If-Match header names. Weak tags (W/"3") never match an update (RFC 9110 compares
 * If-Match strongly) and tags that are not versions match nothing, so both give no version: the
 * write then answers 412 with the current one.
 */
export function versionsOf(ifMatch: string): number[] {
  const versions: number[] = [];
  for (const tag of ifMatch.match(/(W\/)?"[^"]*"|[^\s,]+/g) ?? []) {
    const version = /^"?([1-9]\d{0,9})"?$/.exec(tag)?.[1];
    if (version && Number(version) <= 2 ** 31 - 1) versions.push(Number(version));
  }
  return versions;
}

/**
 * The versions an update's If-Match names: refused with 428 when there is none, or when it is `*`
 * (which matches any version, and so protects nobody's change).
 */
export function expectedVersions(req: Request): number[] {
  const ifMatch = req.get('if-match')?.trim();
  if (!ifMatch) throw preconditionRequired('send the version you read as If-Match (the ETag of GET), so that you do not overwrite a change you have not seen');
  if (ifMatch === '*') throw preconditionRequired('If-Match: * would overwrite any version: send the ETag you read');
  return versionsOf(ifMatch);
}

/**
 * The version If-Match names, for a command that may be sent without it (deactivating a person).
 * A tag that names no single version (weak, garbage, a list) matches no version (0), so the command
 * is refused with 412 and the current version.
 */
export function optionalExpectedVersion(req: Request): number | undefined {
  const ifMatch = req.get('if-match')?.trim();
  if (!ifMatch || ifMatch === '*') return undefined;
  const versions = versionsOf(ifMatch);
  return versions.length === 1 ? versions[0] : 0;
}

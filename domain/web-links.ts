/**
 * Where the web page of each thing is: the one place that builds the links emails carry and the
 * paths old API links are sent on to (api/browser-redirects.ts), so that every link a person
 * follows opens a page, never a JSON answer. Pure.
 */

const part = (value: string) => encodeURIComponent(value);

/** The path of each thing's page under /ui, by the key a person reads (number, tag, workflow id). */
export const PAGE_PATHS = {
  change: (number: string) => `/ui/changes/${part(number)}`,
  purchaseRequest: (number: string) => `/ui/purchase-requests/${part(number)}`,
  stewardCase: (number: string) => `/ui/reconciliation/cases/${part(number)}`,
  asset: (tagOrId: string) => `/ui/assets/${part(tagOrId)}`,
  process: (workflowId: string) => `/ui/processes/${part(workflowId)}`,
  person: (id: string) => `/ui/people/${part(id)}`,
  inbox: () => '/ui/inbox',
  profile: () => '/ui/profile',
} as const;

export type PageKind = keyof typeof PAGE_PATHS;

/** The page of an approval's subject (a change, a purchase request, a data steward case), by its number. */
export function subjectPagePath(subjectType: 'change_request' | 'purchase_request' | 'reconciliation_case', number: string): string {
  if (subjectType === 'reconciliation_case') return PAGE_PATHS.stewardCase(number);
  return subjectType === 'change_request' ? PAGE_PATHS.change(number) : PAGE_PATHS.purchaseRequest(number);
}

/** Absolute links for emails: the same paths under the public URL people open. */
export function pageLinks(publicUrl: string) {
  const base = publicUrl.replace(/\/$/, '');
  return {
    change: (number: string) => `${base}${PAGE_PATHS.change(number)}`,
    purchaseRequest: (number: string) => `${base}${PAGE_PATHS.purchaseRequest(number)}`,
    asset: (tagOrId: string) => `${base}${PAGE_PATHS.asset(tagOrId)}`,
    process: (workflowId: string) => `${base}${PAGE_PATHS.process(workflowId)}`,
    person: (id: string) => `${base}${PAGE_PATHS.person(id)}`,
    inbox: () => `${base}${PAGE_PATHS.inbox()}`,
    profile: () => `${base}${PAGE_PATHS.profile()}`,
    /** The page of a path returned by PAGE_PATHS or subjectPagePath. */
    of: (path: string) => `${base}${path}`,
  };
}

export type PageLinks = ReturnType<typeof pageLinks>;

const NOT_RECORDS = new Set(['', 'export', 'dashboard']);

/**
 * The page an old emailed API link stands for: GET /changes/CHG…, /purchase-requests/PR…,
 * /assets/<tag or id>, /processes/<workflow id>, /people/<id> (nothing below them). Undefined for
 * any other path.
 */
export function pageOfApiPath(path: string): string | undefined {
  const m = /^\/(changes|purchase-requests|assets|processes|people)\/([^/]+)\/?$/.exec(path);
  if (!m) return undefined;
  let key: string;
  try {
    key = decodeURIComponent(m[2]);
  } catch {
    return undefined;
  }
  // The collections' own resources of the API (GET /assets/export, /processes/dashboard) are no record.
  if (NOT_RECORDS.has(key)) return undefined;
  switch (m[1]) {
    case 'changes': return PAGE_PATHS.change(key);
    case 'purchase-requests': return PAGE_PATHS.purchaseRequest(key);
    case 'assets': return PAGE_PATHS.asset(key);
    case 'processes': return PAGE_PATHS.process(key);
    default: return PAGE_PATHS.person(key);
  }
}

import {
  identificationRulesInput,
  inventoryHeaderRefusal,
  inventorySourceInput,
  observedAtRefusal,
  reconciliationRuleInput,
} from './inventory-intake';

const messages = (result: { success: boolean; error?: { issues: { path: PropertyKey[]; message: string }[] } }) =>
  (result.error?.issues ?? []).map((issue) => `${issue.path.join('.')}: ${issue.message}`);

describe('an inventory header', () => {
  it('takes inventory columns with ciClass and an identifier', () => {
    expect(inventoryHeaderRefusal(['ciClass', ' hostname ', 'domain', 'software'])).toBeUndefined();
    expect(inventoryHeaderRefusal(['serialNumber', 'ciClass'])).toBeUndefined();
  });

  it('refuses unknown and repeated columns, a missing class, and no identifier, naming the columns allowed', () => {
    const unknown = inventoryHeaderRefusal(['ciClass', 'hostname', 'colour']);
    expect(unknown?.message).toMatch(/unknown column\(s\) "colour"; inventory rows take: ciClass, name, serialNumber/);
    expect(unknown?.details).toMatchObject({ unknown: ['colour'], columns: expect.arrayContaining(['macAddress']) });
    expect(inventoryHeaderRefusal(['ciClass', 'hostname', 'hostname'])?.details.repeated).toEqual(['hostname']);
    expect(inventoryHeaderRefusal(['hostname'])?.details.missing).toEqual(['ciClass']);
    // A domain alone identifies nothing.
    expect(inventoryHeaderRefusal(['ciClass', 'domain', 'name'])?.message).toMatch(/no column identifies a record/);
  });
});

describe('a batch observation time', () => {
  const now = new Date('2026-11-29T12:00:00Z');
  it('is taken from a year ago to a few minutes ahead', () => {
    expect(observedAtRefusal('2026-11-29T12:04:00Z', now)).toBeUndefined();
    expect(observedAtRefusal('2025-12-01T00:00:00Z', now)).toBeUndefined();
  });
  it('is refused further ahead, older than a year, or unreadable', () => {
    expect(observedAtRefusal('2026-11-29T12:06:00Z', now)).toMatch(/in the future/);
    expect(observedAtRefusal('2025-11-28T00:00:00Z', now)).toMatch(/more than 365 days ago/);
    expect(observedAtRefusal('yesterday', now)).toMatch(/not an ISO instant/);
  });
});

describe('identification rules of a class', () => {
  it('takes an ordered list of attribute sets, active by default', () => {
    const parsed = identificationRulesInput.parse({ rules: [{ attributes: ['serialNumber'] }, { attributes: ['hostname', 'domain'], active: false }] });
    expect(parsed.rules).toEqual([{ attributes: ['serialNumber'], active: true }, { attributes: ['hostname', 'domain'], active: false }]);
  });

  it('refuses an unknown attribute naming those allowed, an empty or repeated set, a domain alone, and no active rule', () => {
    expect(messages(identificationRulesInput.safeParse({ rules: [{ attributes: ['colour'] }] }))).toEqual([
      'rules.0.attributes.0: one of: serialNumber, assetTag, cloudResourceId, hostname, domain, macAddress',
    ]);
    expect(messages(identificationRulesInput.safeParse({ rules: [] }))).toEqual(['rules: a class needs at least one rule']);
    expect(messages(identificationRulesInput.safeParse({ rules: [{ attributes: [] }] }))).toEqual(['rules.0.attributes: name at least one attribute']);
    expect(messages(identificationRulesInput.safeParse({
      rules: [{ attributes: ['hostname', 'domain'] }, { attributes: ['domain', 'hostname'] }, { attributes: ['domain'] }, { attributes: ['macAddress', 'macAddress'] }],
    }))).toEqual([
      'rules.1.attributes: the same attributes as rule 1',
      'rules.2.attributes: a domain alone names every host in it: add hostname',
      'rules.3.attributes: an attribute is named twice',
    ]);
    expect(messages(identificationRulesInput.safeParse({ rules: [{ attributes: ['serialNumber'], active: false }] })))
      .toEqual(['rules: at least one rule must be active: without one every row would be a new record']);
  });
});

describe('a reconciliation rule and a source', () => {
  it('takes distinct known sources, strongest first, and staleness within ten years', () => {
    expect(reconciliationRuleInput.parse({ sources: ['mdm', 'discovery'], stalenessDays: 0 })).toEqual({ sources: ['mdm', 'discovery'], stalenessDays: 0 });
    expect(messages(reconciliationRuleInput.safeParse({ sources: ['mdm', 'mdm'], stalenessDays: 3651 }))).toEqual([
      'sources: a source is named twice',
      'stalenessDays: at most 3650',
    ]);
    expect(messages(reconciliationRuleInput.safeParse({ sources: ['spreadsheet'], stalenessDays: 1 }))).toEqual([
      'sources.0: one of: discovery, mdm, cloud_inventory, hr, manual',
    ]);
    expect(messages(reconciliationRuleInput.safeParse({ sources: [], stalenessDays: 1.5 }))).toEqual([
      'sources: name at least one source',
      'stalenessDays: not a whole number',
    ]);
  });

  it('takes an unseen period of 1 to 3650 days, or none', () => {
    expect(inventorySourceInput.parse({ unseenAfterDays: null })).toEqual({ unseenAfterDays: null });
    expect(messages(inventorySourceInput.safeParse({ unseenAfterDays: 0 }))).toEqual(['unseenAfterDays: at least 1']);
  });
});

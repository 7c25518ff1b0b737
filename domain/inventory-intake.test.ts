import {
  BATCH_KEY_MAX,
  RECONCILIATION_ATTRIBUTES,
  droppedFileBatchKey,
  identificationRulesInput,
  inventoryHeaderRefusal,
  inventorySourceInput,
  observedAtRefusal,
  reconciliationAttribute,
  reconciliationRuleInput,
  sourceSenderRefusal,
} from './inventory-intake';
import { RECONCILED_ATTRIBUTES } from './reconciliation';

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

describe('the attribute of a reconciliation rule', () => {
  it('is a reconciled attribute other than assignedTo and software, or *', () => {
    expect(RECONCILIATION_ATTRIBUTES).toEqual(['*', ...RECONCILED_ATTRIBUTES.filter((a) => a !== 'assignedTo' && a !== 'software')]);
    expect(reconciliationAttribute.parse('location')).toBe('location');
  });

  it('refuses assignedTo and software saying why, and anything else naming those allowed', () => {
    expect(messages(reconciliationAttribute.safeParse('assignedTo'))).toEqual([
      ': assignedTo takes no reconciliation rule: an existing record\'s assignee changes through its lifecycle workflow (an assignment), never by a feed; '
        + 'a new record takes the row\'s; rules are for one of: *, name, hostname, domain, macAddress, cloudResourceId, serialNumber, model, location, operationalStatus, environment',
    ]);
    expect(messages(reconciliationAttribute.safeParse('software'))[0]).toMatch(/^: software takes no reconciliation rule: each source's list is whole/);
    expect(messages(reconciliationAttribute.safeParse('colour'))).toEqual([': one of: *, name, hostname, domain, macAddress, cloudResourceId, serialNumber, model, location, operationalStatus, environment']);
  });
});

describe('who sends as a source', () => {
  it('lets admins send as any source and asset managers as the feeds only', () => {
    for (const source of ['discovery', 'mdm', 'cloud_inventory', 'hr', 'manual'] as const) expect(sourceSenderRefusal(source, ['admin'])).toBeUndefined();
    for (const source of ['discovery', 'mdm', 'cloud_inventory'] as const) expect(sourceSenderRefusal(source, ['asset_manager'])).toBeUndefined();
    expect(sourceSenderRefusal('manual', ['asset_manager'])).toBe('only admins send batches as manual: manual and hr outrank the feeds; asset managers send discovery, mdm, cloud_inventory');
    expect(sourceSenderRefusal('hr', ['asset_manager', 'process_owner'])).toMatch(/^only admins send batches as hr/);
  });
});

describe('the batch key of a dropped file', () => {
  const at = new Date('2026-11-29T06:00:00.123Z');
  it('names the file with its size and modification time: another export under the same name is another key', () => {
    expect(droppedFileBatchKey('inventory.csv', 2048, at)).toBe('inventory.csv (2048 bytes, modified 2026-11-29T06:00:00.123Z)');
    expect(droppedFileBatchKey('inventory.csv', 2048, new Date('2026-11-30T06:00:00.123Z'))).not.toBe(droppedFileBatchKey('inventory.csv', 2048, at));
    expect(droppedFileBatchKey('inventory.csv', 2049, at)).not.toBe(droppedFileBatchKey('inventory.csv', 2048, at));
  });

  it('stays within a batch key\'s length for the longest file name', () => {
    const key = droppedFileBatchKey(`${'x'.repeat(251)}.csv`, Number.MAX_SAFE_INTEGER, at);
    expect(key.length).toBeLessThanOrEqual(BATCH_KEY_MAX);
    expect(key).toMatch(/^x+… \(9007199254740991 bytes, modified 2026-11-29T06:00:00.123Z\)$/);
  });
});

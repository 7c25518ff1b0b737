import {
  decideAttribute,
  holdsSameValue,
  identificationKey,
  identify,
  isUnseenTooLong,
  normaliseIdentifier,
  pairKeyOf,
  type AttributeAuthority,
  type IdentificationRule,
  type InventorySource,
  type Provenance,
} from './reconciliation';

const SERVER_RULES: IdentificationRule[] = [
  { priority: 30, attributes: ['hostname', 'domain'] },
  { priority: 10, attributes: ['serialNumber'] },
  { priority: 20, attributes: ['assetTag'] },
  { priority: 40, attributes: ['macAddress'] },
];

/** A lookup over a small estate: record id -> its identifying values. */
function estate(records: Record<string, Partial<Record<string, string>>>) {
  return (rule: IdentificationRule, key: string) =>
    Object.entries(records).filter(([, row]) => identificationKey(rule, row) === key).map(([id]) => id);
}

describe('identification', () => {
  it('compares identifiers in one form whatever their spelling', () => {
    expect(normaliseIdentifier('serialNumber', ' pf3k 9x2 ')).toBe(normaliseIdentifier('serialNumber', 'PF3K9X2'));
    expect(normaliseIdentifier('hostname', 'DB-01.')).toBe('db-01');
    expect(normaliseIdentifier('macAddress', '00:1A:2b-3C.4d:5e')).toBe('001a2b3c4d5e');
    expect(normaliseIdentifier('macAddress', '00:1A:2b')).toBeUndefined();
    expect(normaliseIdentifier('assetTag', '   ')).toBeUndefined();
    // A host name without a domain is a host in no domain, as the database compares it; a domain alone names no host.
    expect(identificationKey({ attributes: ['hostname', 'domain'] }, { hostname: 'db-01' })).toBe(identificationKey({ attributes: ['hostname', 'domain'] }, { hostname: 'DB-01', domain: ' ' }));
    expect(identificationKey({ attributes: ['hostname', 'domain'] }, { hostname: 'db-01' })).not.toBe(identificationKey({ attributes: ['hostname', 'domain'] }, { hostname: 'db-01', domain: 'corp' }));
    expect(identificationKey({ attributes: ['hostname', 'domain'] }, { domain: 'corp' })).toBeUndefined();
    expect(identificationKey({ attributes: ['domain'] }, { hostname: 'db-01' })).toBeUndefined();
  });

  it('finds a renamed host by its serial before its name', () => {
    const lookup = estate({ a: { serialNumber: 'SN-1', hostname: 'db-01', domain: 'corp' }, b: { serialNumber: 'SN-2', hostname: 'db-02', domain: 'corp' } });
    const renamed = identify(SERVER_RULES, { serialNumber: 'sn-1', hostname: 'payroll-db', domain: 'corp' }, lookup);
    expect(renamed).toEqual({ outcome: 'match', recordId: 'a', rule: SERVER_RULES[1] });
  });

  it('goes down the rules until one finds something, and creates when none does', () => {
    const lookup = estate({ a: { assetTag: 'AST0001001', hostname: 'web-01', domain: 'corp' } });
    expect(identify(SERVER_RULES, { serialNumber: 'NEW', assetTag: 'AST0001001' }, lookup)).toMatchObject({ outcome: 'match', recordId: 'a', rule: { priority: 20 } });
    expect(identify(SERVER_RULES, { hostname: 'WEB-01', domain: 'corp.' }, lookup)).toMatchObject({ outcome: 'match', recordId: 'a', rule: { priority: 30 } });
    expect(identify(SERVER_RULES, { serialNumber: 'NEW', hostname: 'web-99', domain: 'corp' }, lookup)).toEqual({ outcome: 'create' });
    expect(identify(SERVER_RULES, {}, lookup)).toEqual({ outcome: 'create' });
  });

  it('holds a row that several records answer to as a duplicate, for a person to settle', () => {
    const lookup = estate({ b: { macAddress: '00:11:22:33:44:55' }, a: { macAddress: '001122334455' } });
    expect(identify(SERVER_RULES, { macAddress: '00-11-22-33-44-55' }, lookup)).toMatchObject({ outcome: 'duplicate', recordIds: ['a', 'b'], rule: SERVER_RULES[3] });
  });

  it('holds a row whose serial names one record and whose host name another, until a steward kept them apart', () => {
    const lookup = estate({ a: { serialNumber: 'SN-1', hostname: 'old-name', domain: 'corp' }, b: { serialNumber: 'SN-2', hostname: 'web-01', domain: 'corp' } });
    const row = { serialNumber: 'SN-1', hostname: 'web-01', domain: 'corp' };
    expect(identify(SERVER_RULES, row, lookup)).toMatchObject({ outcome: 'duplicate', recordIds: ['a', 'b'], rule: { priority: 10 } });
    const keptApart = (ids: readonly string[]) => pairKeyOf(ids) === pairKeyOf(['b', 'a']);
    expect(identify(SERVER_RULES, row, lookup, keptApart)).toEqual({ outcome: 'match', recordId: 'a', rule: SERVER_RULES[1] });
  });

  it('does not take a record a lower rule finds when it holds another value for a higher rule the row answers', () => {
    const records = { old: { serialNumber: 'SN-OLD', hostname: 'web01', domain: 'corp' } };
    const lookup = estate(records);
    const identifiers = (id: string) => records[id as keyof typeof records];
    // A replaced server that kept the host name, with a serial of its own: a person says whether it is a replacement.
    const replaced = identify(SERVER_RULES, { serialNumber: 'SN-NEW', hostname: 'web01', domain: 'corp' }, lookup, undefined, identifiers);
    expect(replaced).toMatchObject({ outcome: 'conflict', recordId: 'old', rule: { priority: 30 } });
    expect((replaced as { reason: string }).reason).toContain('web01.corp');
    expect((replaced as { reason: string }).reason).toContain('SN-OLD');
    // The same serial in another spelling, a row without a serial, and a record without one are matches.
    expect(identify(SERVER_RULES, { serialNumber: ' sn-OLD ', hostname: 'web01', domain: 'corp' }, lookup, undefined, identifiers)).toMatchObject({ outcome: 'match', recordId: 'old' });
    expect(identify(SERVER_RULES, { hostname: 'web01', domain: 'corp' }, lookup, undefined, identifiers)).toMatchObject({ outcome: 'match', recordId: 'old' });
    const bare = { bare: { hostname: 'web02', domain: 'corp' } };
    expect(identify(SERVER_RULES, { serialNumber: 'SN-9', hostname: 'web02', domain: 'corp' }, estate(bare), undefined, (id) => bare[id as 'bare']))
      .toMatchObject({ outcome: 'match', recordId: 'bare' });
    // Without the record's values (an older caller) the match stands.
    expect(identify(SERVER_RULES, { serialNumber: 'SN-NEW', hostname: 'web01', domain: 'corp' }, lookup)).toMatchObject({ outcome: 'match', recordId: 'old' });
  });

  it('tries the next rule when the records one rule finds were kept apart', () => {
    const lookup = estate({ a: { macAddress: '001122334455', assetTag: 'AST1' }, b: { macAddress: '001122334455' } });
    const keptApart = (ids: readonly string[]) => pairKeyOf(ids) === 'a:b';
    expect(identify(SERVER_RULES, { macAddress: '001122334455', assetTag: 'AST1' }, lookup, keptApart)).toMatchObject({ outcome: 'match', recordId: 'a' });
    expect(identify(SERVER_RULES, { macAddress: '001122334455' }, lookup, keptApart)).toEqual({ outcome: 'create' });
  });
});

describe('reconciliation by source authority', () => {
  const authorities: AttributeAuthority[] = [
    { attribute: 'assignedTo', sources: ['hr', 'mdm', 'discovery'], stalenessDays: 30 },
    { attribute: '*', sources: ['discovery', 'cloud_inventory', 'mdm', 'manual'], stalenessDays: 7 },
  ];
  const decide = (attribute: string, incoming: { source: 'discovery' | 'mdm' | 'hr' | 'manual'; value: unknown; seenAt: string }, current?: { value: unknown; source?: 'discovery' | 'mdm' | 'hr' | 'manual'; seenAt?: string }) =>
    decideAttribute({
      authorities,
      attribute,
      incoming,
      current: current && { value: current.value, provenance: current.source ? { source: current.source, seenAt: current.seenAt! } : null },
    });

  it('sets what the record lacks and leaves what is already so', () => {
    expect(decide('osVersion', { source: 'manual', value: '12', seenAt: '2026-11-01T00:00:00Z' })).toEqual({ apply: true, reason: 'no_value_yet' });
    expect(decide('osVersion', { source: 'manual', value: '12', seenAt: '2026-11-01T00:00:00Z' }, { value: null })).toEqual({ apply: true, reason: 'no_value_yet' });
    expect(decide('osVersion', { source: 'mdm', value: ' 12 ', seenAt: '2026-11-02T00:00:00Z' }, { value: '12', source: 'discovery', seenAt: '2026-11-01T00:00:00Z' }))
      .toEqual({ apply: false, reason: 'same_value' });
  });

  it('lets a stronger or the same source overwrite, and a weaker one only after the stronger went stale', () => {
    const byDiscovery = { value: 'Ubuntu 24.04', source: 'discovery' as const, seenAt: '2026-11-01T00:00:00Z' };
    expect(decide('os', { source: 'mdm', value: 'Ubuntu 22.04', seenAt: '2026-11-05T00:00:00Z' }, byDiscovery)).toEqual({ apply: false, reason: 'weaker_source' });
    expect(decide('os', { source: 'mdm', value: 'Ubuntu 22.04', seenAt: '2026-11-08T00:00:00Z' }, byDiscovery)).toEqual({ apply: false, reason: 'weaker_source' });
    expect(decide('os', { source: 'mdm', value: 'Ubuntu 22.04', seenAt: '2026-11-08T00:00:01Z' }, byDiscovery)).toEqual({ apply: true, reason: 'stronger_source_stale' });
    expect(decide('os', { source: 'discovery', value: 'Ubuntu 24.10', seenAt: '2026-11-02T00:00:00Z' }, byDiscovery)).toEqual({ apply: true, reason: 'same_or_stronger_source' });
    expect(decide('os', { source: 'discovery', value: 'Ubuntu 24.10', seenAt: '2026-11-02T00:00:00Z' }, { ...byDiscovery, source: 'manual' }))
      .toEqual({ apply: true, reason: 'same_or_stronger_source' });
  });

  it('makes a source at least as strong as the holder the holder of the same value, but not a weaker or a late one', () => {
    const held: Provenance = { source: 'discovery', seenAt: '2026-11-01T00:00:00Z' };
    const holds = (source: InventorySource, seenAt: string, provenance: Provenance | null = held) =>
      holdsSameValue({ authorities, attribute: 'os', incoming: { source, seenAt }, provenance });
    expect(holds('manual', '2026-11-02T00:00:00Z', { source: 'mdm', seenAt: held.seenAt })).toBe(false);
    expect(holds('mdm', '2026-11-02T00:00:00Z', { source: 'manual', seenAt: held.seenAt })).toBe(true);
    expect(holds('discovery', '2026-11-02T00:00:00Z')).toBe(true);
    expect(holds('mdm', '2026-11-02T00:00:00Z')).toBe(false);
    expect(holds('discovery', '2026-10-01T00:00:00Z', { source: 'mdm', seenAt: held.seenAt })).toBe(false);
    expect(holds('hr', '2026-11-02T00:00:00Z', null)).toBe(true);
  });

  it('uses the attribute\'s own rule before the general one, and ranks an unlisted source last', () => {
    const byHr = { value: 'ana@northwind.example', source: 'hr' as const, seenAt: '2026-11-01T00:00:00Z' };
    expect(decide('assignedTo', { source: 'discovery', value: 'oliver@northwind.example', seenAt: '2026-11-20T00:00:00Z' }, byHr)).toEqual({ apply: false, reason: 'weaker_source' });
    expect(decide('assignedTo', { source: 'discovery', value: 'oliver@northwind.example', seenAt: '2026-12-02T00:00:00Z' }, byHr)).toEqual({ apply: true, reason: 'stronger_source_stale' });
    // hr is not listed for '*': weaker than every listed source.
    expect(decide('os', { source: 'hr', value: 'x', seenAt: '2026-11-02T00:00:00Z' }, { value: 'y', source: 'manual', seenAt: '2026-11-01T00:00:00Z' })).toEqual({ apply: false, reason: 'weaker_source' });
  });

  it('lets any source correct a value nobody recorded the source of, but never turns the clock back', () => {
    expect(decide('os', { source: 'manual', value: 'a', seenAt: '2026-11-01T00:00:00Z' }, { value: 'b' })).toEqual({ apply: true, reason: 'same_or_stronger_source' });
    expect(decide('os', { source: 'discovery', value: 'old', seenAt: '2026-10-01T00:00:00Z' }, { value: 'new', source: 'manual', seenAt: '2026-11-01T00:00:00Z' }))
      .toEqual({ apply: false, reason: 'older_than_current' });
  });

  it('makes a record unseen past its source\'s period a missing candidate, and never without a period', () => {
    expect(isUnseenTooLong('2026-11-01T00:00:00Z', 14, '2026-11-15T00:00:00Z')).toBe(false);
    expect(isUnseenTooLong('2026-11-01T00:00:00Z', 14, '2026-11-15T00:00:01Z')).toBe(true);
    expect(isUnseenTooLong('2020-01-01T00:00:00Z', undefined, '2026-11-15T00:00:00Z')).toBe(false);
  });
});

import fc from 'fast-check';
import { formatDecimal } from './cost-allocation';
import {
  checkFocusRow, focusScopeKey, focusScopeOf, readFocusHeader, readFocusInstant, readFocusNumber, readFocusTags,
  type FocusHeader, type FocusLine, type FocusValues, type RowProblem,
} from './focus';

// Column sets as the providers document their FOCUS exports (order as they write them).
const AWS_FOCUS_1_0 = [
  'AvailabilityZone', 'BilledCost', 'BillingAccountId', 'BillingAccountName', 'BillingCurrency', 'BillingPeriodEnd',
  'BillingPeriodStart', 'ChargeCategory', 'ChargeClass', 'ChargeDescription', 'ChargeFrequency', 'ChargePeriodEnd',
  'ChargePeriodStart', 'CommitmentDiscountCategory', 'CommitmentDiscountId', 'CommitmentDiscountName',
  'CommitmentDiscountStatus', 'CommitmentDiscountType', 'ConsumedQuantity', 'ConsumedUnit', 'ContractedCost',
  'ContractedUnitPrice', 'EffectiveCost', 'InvoiceIssuerName', 'ListCost', 'ListUnitPrice', 'PricingCategory',
  'PricingQuantity', 'PricingUnit', 'ProviderName', 'PublisherName', 'RegionId', 'RegionName', 'ResourceId',
  'ResourceName', 'ResourceType', 'ServiceCategory', 'ServiceName', 'SkuId', 'SkuPriceId', 'SubAccountId',
  'SubAccountName', 'Tags', 'x_CostCategories', 'x_Discounts', 'x_Operation', 'x_ServiceCode', 'x_UsageType',
];
// AWS's FOCUS 1.2 table: x_UsageType became SkuMeter, x_CostCategories moved into Tags.
const AWS_FOCUS_1_2 = [
  ...AWS_FOCUS_1_0.filter((name) => name !== 'x_UsageType' && name !== 'x_CostCategories'),
  'BillingAccountType', 'CapacityReservationId', 'CapacityReservationStatus', 'CommitmentDiscountQuantity',
  'CommitmentDiscountUnit', 'InvoiceId', 'PricingCurrency', 'PricingCurrencyContractedUnitPrice',
  'PricingCurrencyEffectiveCost', 'PricingCurrencyListUnitPrice', 'ServiceSubcategory', 'SkuMeter',
  'SkuPriceDetails', 'SubAccountType',
];
// Azure's FocusCost 1.0 (1.0r2): BillingAccountType and SubAccountType already, the invoice as x_InvoiceId.
const AZURE_FOCUS_1_0 = [
  'BilledCost', 'BillingAccountId', 'BillingAccountName', 'BillingAccountType', 'BillingCurrency', 'BillingPeriodEnd',
  'BillingPeriodStart', 'ChargeCategory', 'ChargeClass', 'ChargeDescription', 'ChargeFrequency', 'ChargePeriodEnd',
  'ChargePeriodStart', 'CommitmentDiscountCategory', 'CommitmentDiscountId', 'CommitmentDiscountName',
  'CommitmentDiscountStatus', 'CommitmentDiscountType', 'ConsumedQuantity', 'ConsumedUnit', 'ContractedCost',
  'ContractedUnitPrice', 'EffectiveCost', 'InvoiceIssuerName', 'ListCost', 'ListUnitPrice', 'PricingCategory',
  'PricingQuantity', 'PricingUnit', 'ProviderName', 'PublisherName', 'RegionId', 'RegionName', 'ResourceId',
  'ResourceName', 'ResourceType', 'ServiceCategory', 'ServiceName', 'SkuId', 'SkuPriceId', 'SubAccountId',
  'SubAccountName', 'SubAccountType', 'Tags', 'x_AccountId', 'x_BilledCostInUsd', 'x_BillingProfileId',
  'x_CostCenter', 'x_EffectiveCostInUsd', 'x_InvoiceId', 'x_PricingCurrency', 'x_ResourceGroupName',
  'x_SkuMeterCategory', 'x_SkuMeterName', 'x_SkuTier',
];
// Azure's FocusCost 1.2-preview: the 1.1 columns, InvoiceId and PricingCurrency, but not the PricingCurrency… costs.
const AZURE_FOCUS_1_2_PREVIEW = [
  ...AZURE_FOCUS_1_0.filter((name) => name !== 'x_InvoiceId'),
  'CapacityReservationId', 'CapacityReservationStatus', 'CommitmentDiscountQuantity', 'CommitmentDiscountUnit',
  'InvoiceId', 'PricingCurrency', 'ServiceSubcategory', 'SkuMeter', 'SkuPriceDetails', 'x_AmortizationClass',
];
// Google Cloud's FOCUS view in BigQuery, exported (FOCUS 1.0 with x_ columns of its own).
const GOOGLE_FOCUS_1_0 = [
  'AvailabilityZone', 'BilledCost', 'BillingAccountId', 'BillingAccountName', 'BillingCurrency', 'BillingPeriodStart',
  'BillingPeriodEnd', 'ChargeCategory', 'ChargeClass', 'ChargeDescription', 'ChargeFrequency', 'ChargePeriodStart',
  'ChargePeriodEnd', 'CommitmentDiscountCategory', 'CommitmentDiscountId', 'CommitmentDiscountName',
  'CommitmentDiscountType', 'ConsumedQuantity', 'ConsumedUnit', 'ContractedCost', 'ContractedUnitPrice',
  'EffectiveCost', 'InvoiceIssuerName', 'ListCost', 'ListUnitPrice', 'PricingCategory', 'PricingQuantity',
  'PricingUnit', 'ProviderName', 'PublisherName', 'RegionId', 'RegionName', 'ResourceId', 'ResourceName',
  'ResourceType', 'ServiceCategory', 'ServiceName', 'SkuId', 'SkuPriceId', 'SubAccountId', 'SubAccountName', 'Tags',
  'x_Credits', 'x_CostType', 'x_CurrencyConversionRate', 'x_ExportTime', 'x_Location', 'x_ResourceGlobalName',
  'x_ServiceId', 'x_SkuDescription',
];
// Oracle's OCI FOCUS reports keep the 1.0-preview names: Provider, Publisher, InvoiceIssuer, Region, UsageQuantity.
const OCI_FOCUS = [
  'AvailabilityZone', 'BilledCost', 'BillingAccountId', 'BillingAccountName', 'BillingCurrency', 'BillingPeriodEnd',
  'BillingPeriodStart', 'ChargeCategory', 'ChargeDescription', 'ChargeFrequency', 'ChargePeriodEnd',
  'ChargePeriodStart', 'ChargeSubcategory', 'CommitmentDiscountCategory', 'CommitmentDiscountId',
  'CommitmentDiscountName', 'CommitmentDiscountType', 'EffectiveCost', 'InvoiceIssuer', 'ListCost', 'ListUnitPrice',
  'PricingCategory', 'PricingQuantity', 'PricingUnit', 'Provider', 'Publisher', 'Region', 'ResourceId',
  'ResourceName', 'ResourceType', 'ServiceCategory', 'ServiceName', 'SkuId', 'SkuPriceId', 'SubAccountId',
  'SubAccountName', 'Tags', 'UsageQuantity', 'UsageUnit', 'oci_ReferenceNumber', 'oci_CompartmentId',
  'oci_CompartmentName', 'oci_OverageFlag', 'oci_UnitPriceOverage', 'oci_BilledQuantityOverage', 'oci_CostOverage',
  'oci_AttributedUsage', 'oci_AttributedCost', 'oci_BackReferenceNumber',
];

const headerOf = (columns: readonly string[]): FocusHeader => {
  const read = readFocusHeader(columns);
  if (!('header' in read)) throw new Error(`missing: ${read.missing.join(', ')}`);
  return read.header;
};

describe('the header of a FOCUS file', () => {
  it('reads each provider’s column set: the version, the column of every field, the rest ignored', () => {
    const cases: [string, readonly string[], string][] = [
      ['AWS 1.0', AWS_FOCUS_1_0, '1.0'],
      ['AWS 1.2', AWS_FOCUS_1_2, '1.2'],
      ['Azure 1.0 (with BillingAccountType and SubAccountType early)', AZURE_FOCUS_1_0, '1.0'],
      ['Azure 1.2-preview (three PricingCurrency costs left out)', AZURE_FOCUS_1_2_PREVIEW, '1.2'],
      ['Google 1.0', GOOGLE_FOCUS_1_0, '1.0'],
      ['Oracle (1.0-preview names)', OCI_FOCUS, '1.0'],
    ];
    for (const [name, columns, version] of cases) {
      const header = headerOf(columns);
      expect({ name, version: header.version }).toEqual({ name, version });
      expect(header.columnOf.billedCost).toBe('BilledCost');
      expect(header.columnOf.billingPeriodStart).toBe('BillingPeriodStart');
      expect(header.columnOf.tags).toBe('Tags');
      const mapped = Object.values(header.columnOf);
      expect([...mapped, ...header.ignored].sort()).toEqual([...columns].sort());
      expect(header.ignored.filter((column) => /^(x|oci)_/.test(column))).toEqual(columns.filter((column) => /^(x|oci)_/.test(column)));
    }
    expect(headerOf(AWS_FOCUS_1_0).columnOf).toEqual({
      billingPeriodStart: 'BillingPeriodStart', billingPeriodEnd: 'BillingPeriodEnd', chargePeriodStart: 'ChargePeriodStart',
      chargePeriodEnd: 'ChargePeriodEnd', chargeCategory: 'ChargeCategory', chargeClass: 'ChargeClass',
      chargeDescription: 'ChargeDescription', providerName: 'ProviderName', publisherName: 'PublisherName',
      invoiceIssuerName: 'InvoiceIssuerName', billingAccountId: 'BillingAccountId', subAccountId: 'SubAccountId',
      serviceName: 'ServiceName', serviceCategory: 'ServiceCategory', resourceId: 'ResourceId', resourceName: 'ResourceName',
      resourceType: 'ResourceType', regionName: 'RegionName', billedCost: 'BilledCost', effectiveCost: 'EffectiveCost',
      listCost: 'ListCost', contractedCost: 'ContractedCost', consumedQuantity: 'ConsumedQuantity',
      billingCurrency: 'BillingCurrency', tags: 'Tags',
    });
    expect(headerOf(AWS_FOCUS_1_0).ignored).toContain('SkuPriceId');
  });

  it('takes Oracle’s 1.0-preview names and 1.3’s ServiceProviderName for the fields, the specification’s name first', () => {
    const oci = headerOf(OCI_FOCUS).columnOf;
    expect([oci.providerName, oci.publisherName, oci.invoiceIssuerName, oci.regionName, oci.consumedQuantity])
      .toEqual(['Provider', 'Publisher', 'InvoiceIssuer', 'Region', 'UsageQuantity']);
    expect(oci.chargeClass).toBeUndefined();

    const renamed = AWS_FOCUS_1_0.map((name) => (name === 'ProviderName' ? 'ServiceProviderName' : name));
    expect(headerOf(renamed).columnOf.providerName).toBe('ServiceProviderName');
    const both = headerOf([...AWS_FOCUS_1_0, 'ServiceProviderName']);
    expect(both.columnOf.providerName).toBe('ProviderName');
    expect(both.ignored).toContain('ServiceProviderName');
  });

  it('matches names whatever their case, and a byte order mark on the first', () => {
    const header = headerOf(['\uFEFFbilledcost', ...AWS_FOCUS_1_0.filter((n) => n !== 'BilledCost').map((n) => n.toUpperCase())]);
    expect(header.columnOf.billedCost).toBe('\uFEFFbilledcost');
    expect(header.columnOf.serviceName).toBe('SERVICENAME');
  });

  it('tells 1.1 by most of the columns it added, and stays at 1.0 on one stray column', () => {
    const v11 = [...AWS_FOCUS_1_0, 'CapacityReservationId', 'CapacityReservationStatus', 'CommitmentDiscountQuantity', 'CommitmentDiscountUnit', 'ServiceSubcategory', 'SkuMeter', 'SkuPriceDetails'];
    expect(headerOf(v11).version).toBe('1.1');
    expect(headerOf([...AWS_FOCUS_1_0, 'SkuMeter']).version).toBe('1.0');
    expect(headerOf([...AWS_FOCUS_1_0, 'InvoiceId', 'PricingCurrency']).version).toBe('1.0');
  });

  it('names every required column missing, as FOCUS names it', () => {
    expect(readFocusHeader(['BilledCost', 'ServiceName', 'x_Other'])).toEqual({
      missing: ['EffectiveCost', 'BillingCurrency', 'BillingPeriodStart', 'BillingPeriodEnd', 'ChargePeriodStart',
        'ChargePeriodEnd', 'ChargeCategory', 'ProviderName'],
    });
    expect(readFocusHeader(AWS_FOCUS_1_0.filter((name) => name !== 'EffectiveCost'))).toEqual({ missing: ['EffectiveCost'] });
    expect(readFocusHeader([])).toEqual({ missing: expect.arrayContaining(['BilledCost', 'ServiceName']) });
  });
});

const GOOD_ROW: FocusValues = {
  billingPeriodStart: '2026-10-01T00:00:00Z',
  billingPeriodEnd: '2026-11-01T00:00:00Z',
  chargePeriodStart: '2026-10-14T00:00:00Z',
  chargePeriodEnd: '2026-10-15T00:00:00Z',
  chargeCategory: 'Usage',
  chargeClass: null,
  chargeDescription: '  $0.0104 per On Demand Linux t3.micro Instance Hour ',
  providerName: 'AWS',
  publisherName: 'Amazon Web Services, Inc.',
  invoiceIssuerName: 'Amazon Web Services EMEA SARL',
  billingAccountId: '123456789012',
  subAccountId: '210987654321',
  serviceName: 'Amazon Elastic Compute Cloud',
  serviceCategory: 'Compute',
  resourceId: 'arn:aws:ec2:eu-west-1:210987654321:instance/i-0abc123def4567890',
  resourceName: null,
  resourceType: 'Instance',
  regionName: 'Europe (Ireland)',
  billedCost: '0.2496',
  effectiveCost: '0.2496',
  listCost: '0.2496',
  contractedCost: '0.2496',
  consumedQuantity: '24',
  billingCurrency: 'USD',
  tags: '{"user:CostCentre":"CC-100","user:Application":"billing"}',
};

const lineOf = (values: FocusValues): FocusLine => {
  const checked = checkFocusRow(values);
  if (!('line' in checked)) throw new Error(JSON.stringify(checked.problems));
  return checked.line;
};

const problemsOf = (values: FocusValues): RowProblem[] => {
  const checked = checkFocusRow(values);
  if (!('problems' in checked)) throw new Error(`accepted: ${JSON.stringify(checked.line)}`);
  return checked.problems;
};

describe('a FOCUS row', () => {
  it('becomes a line: exact costs, UTC timestamps, canonical words, trimmed text, tags as an object', () => {
    expect(lineOf(GOOD_ROW)).toEqual({
      billingPeriodStart: '2026-10-01T00:00:00Z',
      billingPeriodEnd: '2026-11-01T00:00:00Z',
      chargePeriodStart: '2026-10-14T00:00:00Z',
      chargePeriodEnd: '2026-10-15T00:00:00Z',
      chargeCategory: 'Usage',
      chargeClass: null,
      chargeDescription: '$0.0104 per On Demand Linux t3.micro Instance Hour',
      providerName: 'AWS',
      publisherName: 'Amazon Web Services, Inc.',
      invoiceIssuerName: 'Amazon Web Services EMEA SARL',
      billingAccountId: '123456789012',
      subAccountId: '210987654321',
      serviceName: 'Amazon Elastic Compute Cloud',
      serviceCategory: 'Compute',
      resourceId: 'arn:aws:ec2:eu-west-1:210987654321:instance/i-0abc123def4567890',
      resourceName: null,
      resourceType: 'Instance',
      regionName: 'Europe (Ireland)',
      billedCost: '0.2496',
      effectiveCost: '0.2496',
      listCost: '0.2496',
      contractedCost: '0.2496',
      consumedQuantity: '24',
      billingCurrency: 'USD',
      tags: { 'user:CostCentre': 'CC-100', 'user:Application': 'billing' },
    });
    const line = lineOf({ ...GOOD_ROW, chargeCategory: 'credit', chargeClass: 'CORRECTION', billingCurrency: 'eur', billedCost: '-1.5', tags: '' });
    expect([line.chargeCategory, line.chargeClass, line.billingCurrency, line.billedCost, line.tags]).toEqual(['Credit', 'Correction', 'EUR', '-1.5', {}]);
  });

  it('turns scientific notation into plain decimal text exactly, keeps 18 places, never rounds', () => {
    const cost = (billedCost: string) => lineOf({ ...GOOD_ROW, billedCost }).billedCost;
    expect(cost('1.2E-7')).toBe('0.00000012');
    expect(cost('-3.5e2')).toBe('-350');
    expect(cost('1.2e-07')).toBe('0.00000012');
    expect(cost('2.5E+3')).toBe('2500');
    expect(cost('7e0')).toBe('7');
    // DuckDB's text of a Parquet DOUBLE (AWS writes costs as doubles): the shortest form that reads back.
    expect(cost('2.5e-05')).toBe('0.000025');
    expect(cost('-350.0')).toBe('-350.0');
    expect(cost('0.123456789012345678')).toBe('0.123456789012345678');
    expect(cost('1.23456789012345678E-1')).toBe('0.123456789012345678');
    expect(cost('999999999999999.999999999999999999')).toBe('999999999999999.999999999999999999');
    expect(cost('12.3400')).toBe('12.3400');
    expect(cost('0.10000000000000000000')).toBe('0.100000000000000000');
    expect(cost('-0')).toBe('0');
    expect(cost(' 42 ')).toBe('42');
  });

  it('refuses numbers that are not, too fine or too large, and a negative quantity', () => {
    const reasonFor = (billedCost: string) => problemsOf({ ...GOOD_ROW, billedCost });
    expect(reasonFor('abc')).toEqual([{ column: 'BilledCost', reason: "not a number: 'abc'" }]);
    for (const bad of ['1,000.00', '$3', '1.2.3', '.5', '1e', 'NaN', 'Infinity', '0x10', '1 000']) {
      expect(reasonFor(bad)[0].reason).toMatch(/^not a number/);
    }
    expect(reasonFor('0.0000000000000000001')).toEqual([{ column: 'BilledCost', reason: "more than 18 decimal places: '0.0000000000000000001'" }]);
    expect(reasonFor('1.5E-18')[0].reason).toMatch(/^more than 18 decimal places/);
    expect(reasonFor('1000000000000000')[0].reason).toMatch(/^too large/);
    expect(reasonFor('-1e15')[0].reason).toMatch(/^too large/);
    expect(reasonFor('1e999999')[0].reason).toMatch(/^too large/);
    expect(reasonFor('1e+20')[0].reason).toMatch(/^too large/);
    expect(reasonFor('1e-999999')[0].reason).toMatch(/^more than 18 decimal places/);
    expect(lineOf({ ...GOOD_ROW, billedCost: '0e-999999' }).billedCost).toMatch(/^0\.0+$/);
    expect(problemsOf({ ...GOOD_ROW, consumedQuantity: '-2' })).toEqual([{ column: 'ConsumedQuantity', reason: "negative: '-2'" }]);
    expect(lineOf({ ...GOOD_ROW, listCost: null, contractedCost: '', consumedQuantity: null }))
      .toMatchObject({ listCost: null, contractedCost: null, consumedQuantity: null });
  });

  it('reads the timestamps providers and DuckDB write, as ISO 8601 UTC', () => {
    const read = (text: string) => {
      const result = readFocusInstant(text);
      return 'instant' in result ? result.instant.text : result.reason;
    };
    expect(read('2026-10-01T00:00:00Z')).toBe('2026-10-01T00:00:00Z');
    expect(read('2026-10-01T00:00Z')).toBe('2026-10-01T00:00:00Z');
    expect(read('2026-10-01T02:00:00+02:00')).toBe('2026-10-01T00:00:00Z');
    expect(read('2026-10-01T00:00:00-0530')).toBe('2026-10-01T05:30:00Z');
    expect(read('2026-10-01 00:00:00')).toBe('2026-10-01T00:00:00Z');
    expect(read('2026-10-01 00:00:00.123')).toBe('2026-10-01T00:00:00.123Z');
    expect(read('2026-10-01 00:00:00.120000')).toBe('2026-10-01T00:00:00.12Z');
    expect(read('2026-10-01 00:00:00.000')).toBe('2026-10-01T00:00:00Z');
    expect(read('2026-10-01 00:00:00.123456')).toBe('2026-10-01T00:00:00.123456Z');
    expect(read('2026-10-01 00:00:00+00')).toBe('2026-10-01T00:00:00Z');
    expect(read('2026-10-01 00:00:00 UTC')).toBe('2026-10-01T00:00:00Z');
    expect(read('2026-10-01')).toBe('2026-10-01T00:00:00Z');
    expect(read('2024-02-29')).toBe('2024-02-29T00:00:00Z');
    expect(read('2026-01-01T00:30:00+01:00')).toBe('2025-12-31T23:30:00Z');
    for (const bad of ['2026-13-01', '2025-02-29', '2026-10-32T00:00:00Z', '2026-10-01T24:00:00Z', '01/10/2026', '2026-10-01T00:00:00+25:00', 'yesterday', '']) {
      expect(read(bad)).toMatch(/^not a date and time/);
    }
    expect(read('2026-10-01T00:00:00.1234567Z')).toMatch(/^finer than a microsecond/);
    expect(read('0070-01-01')).toMatch(/^out of range/);
  });

  it('refuses a period that ends before it starts, or when it starts', () => {
    expect(problemsOf({ ...GOOD_ROW, chargePeriodEnd: '2026-10-13T00:00:00Z' }))
      .toEqual([{ column: 'ChargePeriodEnd', reason: 'ends before it starts (ChargePeriodStart 2026-10-14T00:00:00Z)' }]);
    expect(problemsOf({ ...GOOD_ROW, billingPeriodEnd: '2026-10-01T02:00:00+02:00' }))
      .toEqual([{ column: 'BillingPeriodEnd', reason: 'ends when it starts (2026-10-01T00:00:00Z): a period has length' }]);
    expect(lineOf({ ...GOOD_ROW, chargePeriodEnd: '2026-10-14 00:00:00.000001' }).chargePeriodEnd).toBe('2026-10-14T00:00:00.000001Z');
  });

  it('checks currency, charge category and class, required text, length and control characters', () => {
    expect(problemsOf({ ...GOOD_ROW, billingCurrency: 'US$' })).toEqual([{ column: 'BillingCurrency', reason: "not a three-letter currency code: 'US$'" }]);
    expect(problemsOf({ ...GOOD_ROW, chargeCategory: 'Refund' })).toEqual([
      { column: 'ChargeCategory', reason: "not a charge category (Usage, Purchase, Tax, Credit, Adjustment): 'Refund'" },
    ]);
    expect(problemsOf({ ...GOOD_ROW, chargeClass: 'Regular' })).toEqual([{ column: 'ChargeClass', reason: "not a charge class (empty or Correction): 'Regular'" }]);
    expect(problemsOf({ ...GOOD_ROW, providerName: '   ', serviceName: null })).toEqual([
      { column: 'ProviderName', reason: 'empty: it is required' },
      { column: 'ServiceName', reason: 'empty: it is required' },
    ]);
    expect(problemsOf({ ...GOOD_ROW, resourceName: 'x'.repeat(2001) })).toEqual([{ column: 'ResourceName', reason: 'longer than 2,000 characters' }]);
    expect(lineOf({ ...GOOD_ROW, resourceName: 'x'.repeat(2000) }).resourceName).toHaveLength(2000);
    expect(problemsOf({ ...GOOD_ROW, chargeDescription: 'line\u0000break' })).toEqual([{ column: 'ChargeDescription', reason: 'contains a control character' }]);
    expect(lineOf({ ...GOOD_ROW, billingAccountId: null }).billingAccountId).toBeNull();
  });

  it('reads tags as AWS, Azure and Oracle write them (an object) and as Google does (a list of key and value)', () => {
    const tags = (text: string | null) => {
      const read = readFocusTags(text);
      return 'tags' in read ? read.tags : read.reason;
    };
    expect(tags('{"CostCenter":"CC-200","env":"prod"}')).toEqual({ CostCenter: 'CC-200', env: 'prod' });
    expect(tags('{"count":3,"shared":true,"valueless":true,"gone":null}')).toEqual({ count: '3', shared: 'true', valueless: 'true', gone: '' });
    expect(tags('[{"key":"cost-centre","value":"cc-300","inherited":true,"namespace":""},{"key":"app","value":"crm"}]'))
      .toEqual({ 'cost-centre': 'cc-300', app: 'crm' });
    expect(tags('[]')).toEqual({});
    expect(tags('{}')).toEqual({});
    expect(tags('null')).toEqual({});
    expect(tags(null)).toEqual({});
    expect(tags('  ')).toEqual({});
    expect(Object.keys(tags('{"__proto__":"kept as a key"}') as object)).toEqual(['__proto__']);

    expect(tags('{"a":')).toBe(`not JSON: '{"a":'`);
    expect(tags('"CostCenter=CC-200"')).toBe(`not a JSON object of tags: '"CostCenter=CC-200"'`);
    expect(tags('{"nested":{"a":"b"}}')).toBe("the value of tag 'nested' is not text");
    expect(tags('[{"k":"a","v":"b"}]')).toBe('a list that is not of {key, value} pairs');
    expect(tags('[{"key":"a","value":"1"},{"key":"a","value":"2"}]')).toBe("tag 'a' is there twice with different values");
    expect(tags('{"":"x"}')).toBe('a tag without a key');
    const many = JSON.stringify(Object.fromEntries(Array.from({ length: 201 }, (_, i) => [`k${i}`, 'v'])));
    expect(tags(many)).toBe('more than 200 tags (201)');
    expect(tags(JSON.stringify({ big: 'é'.repeat(8200) }))).toBe('larger than 16 KB');
    expect(tags(JSON.stringify(Object.fromEntries(Array.from({ length: 200 }, (_, i) => [`k${i}`, 'v']))))).toHaveProperty('k199', 'v');
  });

  it('lists every problem of a row, each naming its FOCUS column', () => {
    expect(problemsOf({
      ...GOOD_ROW,
      billedCost: 'abc', effectiveCost: null, billingCurrency: 'dollars', chargeCategory: 'Misc',
      chargePeriodStart: '2026-10-15', chargePeriodEnd: '2026-10-14', billingPeriodStart: 'soon', tags: '{bad',
    })).toEqual([
      { column: 'BillingPeriodStart', reason: "not a date and time: 'soon'" },
      { column: 'ChargePeriodEnd', reason: 'ends before it starts (ChargePeriodStart 2026-10-15T00:00:00Z)' },
      { column: 'ChargeCategory', reason: "not a charge category (Usage, Purchase, Tax, Credit, Adjustment): 'Misc'" },
      { column: 'BillingCurrency', reason: "not a three-letter currency code: 'dollars'" },
      { column: 'Tags', reason: "not JSON: '{bad'" },
      { column: 'BilledCost', reason: "not a number: 'abc'" },
      { column: 'EffectiveCost', reason: 'empty: it is required' },
    ]);
    expect(problemsOf({}).map((p) => p.column)).toEqual([
      'BillingPeriodStart', 'BillingPeriodEnd', 'ChargePeriodStart', 'ChargePeriodEnd', 'ChargeCategory', 'BillingCurrency',
      'ProviderName', 'ServiceName', 'BilledCost', 'EffectiveCost',
    ]);
  });

  it('keys a scope by provider, billing account (empty when none) and billing period start', () => {
    const line = lineOf({ ...GOOD_ROW, billingAccountId: null, billingPeriodStart: '2026-10-01 00:00:00.000' });
    expect(focusScopeOf(line)).toEqual({ providerName: 'AWS', billingAccountId: '', billingPeriodStart: '2026-10-01T00:00:00Z' });
    const sameScope = lineOf({ ...GOOD_ROW, billingAccountId: '', billingPeriodStart: '2026-10-01T02:00:00+02:00' });
    expect(focusScopeKey(focusScopeOf(sameScope))).toBe(focusScopeKey(focusScopeOf(line)));
    expect(focusScopeKey({ providerName: 'a","b', billingAccountId: '', billingPeriodStart: 'x' }))
      .not.toBe(focusScopeKey({ providerName: 'a', billingAccountId: 'b', billingPeriodStart: 'x' }));
  });
});

describe('exact decimals, read back', () => {
  const decimals = fc.record({
    scale: fc.integer({ min: 0, max: 18 }),
    sign: fc.constantFrom(1n, -1n),
    digits: fc.bigInt({ min: 0n, max: 10n ** 33n - 1n }),
  }).map(({ scale, sign, digits }) => ({ units: sign * (digits % 10n ** BigInt(15 + scale)), scale }));

  it('reads back a decimal’s own text as the same text', () => {
    fc.assert(fc.property(decimals, (value) => {
      const text = formatDecimal(value);
      const read = readFocusNumber(text);
      expect('value' in read && formatDecimal(read.value)).toBe(text);
    }), { numRuns: 2000 });
  });

  it('reads a decimal written with an exponent as its plain text, exactly', () => {
    fc.assert(fc.property(decimals, fc.integer({ min: 0, max: 5 }), (value, shift) => {
      // units × 10^-scale written as (units × 10^shift)E-(scale + shift): same value, more places.
      const read = readFocusNumber(`${value.units * 10n ** BigInt(shift)}E-${value.scale + shift}`);
      // Zeros past the 18th place hold no value and are dropped, down to 18 places and no further.
      const scale = Math.max(value.scale, Math.min(value.scale + shift, 18));
      const expected = { units: value.units * 10n ** BigInt(scale - value.scale), scale };
      expect('value' in read && formatDecimal(read.value)).toBe(formatDecimal(expected));
    }), { numRuns: 2000 });
  });
});

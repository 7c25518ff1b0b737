/**
 * A generated cloud bill in FOCUS 1.0 columns, as AWS and Azure export it (plus a vendor column the
 * import ignores), written as a stream so that a million rows never sit in memory. Costs carry ten
 * decimal places; the file's own totals per provider and currency are kept exactly (bigint) while it
 * is written, so the bench can check the import against the file to the last place.
 */
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import type { Writable } from 'node:stream';
import { createGzip } from 'node:zlib';
import { formatDecimal } from '../domain/cost-allocation';

export const FOCUS_BENCH_COLUMNS = [
  'BillingAccountId', 'BillingCurrency', 'BillingPeriodStart', 'BillingPeriodEnd', 'ChargeCategory', 'ChargeClass', 'ChargeDescription',
  'ChargePeriodStart', 'ChargePeriodEnd', 'BilledCost', 'EffectiveCost', 'ListCost', 'ContractedCost', 'ConsumedQuantity',
  'ProviderName', 'PublisherName', 'InvoiceIssuerName', 'RegionName', 'ResourceId', 'ResourceName', 'ResourceType',
  'ServiceCategory', 'ServiceName', 'SubAccountId', 'Tags', 'x_UsageType',
] as const;

const COST_SCALE = 10;

interface Provider {
  name: string;
  currency: string;
  account: string;
  services: { name: string; category: string; type: string }[];
  regions: string[];
}

const PROVIDERS: Provider[] = [
  {
    name: 'AWS', currency: 'USD', account: '123456789012', regions: ['eu-west-1', 'us-east-1'],
    services: [{ name: 'Amazon Elastic Compute Cloud', category: 'Compute', type: 'Instance' }, { name: 'Amazon Simple Storage Service', category: 'Storage', type: 'Bucket' }],
  },
  {
    name: 'Microsoft', currency: 'EUR', account: 'a1b2c3d4-0000-4000-8000-bench0000001', regions: ['westeurope', 'northeurope'],
    services: [{ name: 'Virtual Machines', category: 'Compute', type: 'Virtual machine' }, { name: 'Azure SQL Database', category: 'Databases', type: 'Database' }],
  },
];

export interface FocusFileSettings {
  rows: number;
  /** YYYY-MM: the billing period every row is in. */
  month: string;
  /** Distinct resources the rows are spread over (each becomes a cloud CI). */
  resources: number;
  /** Cost centre codes the tags name, in turn (a resource keeps its cost centre). */
  costCentreCodes: readonly string[];
  gzip?: boolean;
  /** Seed of the generated values: the same settings write the same file. */
  seed?: number;
}

export interface FocusFileTotals {
  rows: number;
  /** Per provider and currency, exact decimal text: what the import must report. */
  totals: { provider: string; currency: string; rows: number; billedCost: string }[];
}

/** mulberry32: small, fast and repeatable; the values need only look like a bill. */
function randomOf(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const csvCell = (value: string) => (/[",\n]/.test(value) ? `"${value.replaceAll('"', '""')}"` : value);

async function write(out: Writable, text: string): Promise<void> {
  if (!out.write(text)) await once(out, 'drain');
}

/** Writes the file and answers its totals, computed from the very values written. */
export async function writeFocusFile(filePath: string, settings: FocusFileSettings): Promise<FocusFileTotals> {
  const random = randomOf(settings.seed ?? 17);
  const [year, month] = settings.month.split('-').map(Number);
  const periodStart = new Date(Date.UTC(year, month - 1, 1));
  const periodEnd = new Date(Date.UTC(year, month, 1));
  const days = Math.round((periodEnd.getTime() - periodStart.getTime()) / 86_400_000);
  const iso = (date: Date) => date.toISOString().replace('.000Z', 'Z');
  const totals = new Map<string, { provider: string; currency: string; rows: number; units: bigint }>();

  const file = createWriteStream(filePath);
  const out: Writable = settings.gzip ? createGzip() : file;
  if (settings.gzip) out.pipe(file);
  await write(out, `${FOCUS_BENCH_COLUMNS.join(',')}\n`);
  let batch = '';
  for (let row = 0; row < settings.rows; row++) {
    const resource = Math.floor(random() * settings.resources);
    const provider = PROVIDERS[resource % PROVIDERS.length];
    const service = provider.services[resource % provider.services.length];
    const day = Math.floor(random() * days);
    const chargeStart = new Date(periodStart.getTime() + day * 86_400_000);
    const credit = random() < 0.01;
    // Up to 12.3456789012 per line, ten places; a credit now and then.
    const units = BigInt(Math.floor(random() * 123_456_789_012)) * (credit ? -1n : 1n);
    const cost = formatDecimal({ units, scale: COST_SCALE });
    const key = `${provider.name}\u0000${provider.currency}`;
    const total = totals.get(key) ?? { provider: provider.name, currency: provider.currency, rows: 0, units: 0n };
    total.rows += 1;
    total.units += units;
    totals.set(key, total);
    const resourceId = provider.name === 'AWS'
      ? `arn:aws:ec2:${provider.regions[resource % 2]}:${provider.account}:instance/i-${resource.toString(16).padStart(17, '0')}`
      : `/subscriptions/${provider.account}/resourceGroups/bench/providers/Microsoft.Compute/virtualMachines/vm-${resource}`;
    const tags = JSON.stringify({ 'cost-centre': settings.costCentreCodes[resource % settings.costCentreCodes.length], environment: resource % 3 === 0 ? 'test' : 'production' });
    const cells = [
      provider.account, provider.currency, iso(periodStart), iso(periodEnd), credit ? 'Credit' : 'Usage', '', `${service.name} usage`,
      iso(chargeStart), iso(new Date(chargeStart.getTime() + 86_400_000)), cost, cost, cost, cost, String(1 + (resource % 24)),
      provider.name, provider.name, provider.name, provider.regions[resource % 2], resourceId, `bench-${resource}`, service.type,
      service.category, service.name, `${provider.account}-sub`, tags, 'BoxUsage',
    ];
    batch += `${cells.map(csvCell).join(',')}\n`;
    if (batch.length > 64 * 1024) {
      await write(out, batch);
      batch = '';
    }
  }
  await write(out, batch);
  out.end();
  await once(file, 'close');
  return {
    rows: settings.rows,
    totals: [...totals.values()]
      .sort((a, b) => a.provider.localeCompare(b.provider))
      .map((t) => ({ provider: t.provider, currency: t.currency, rows: t.rows, billedCost: formatDecimal({ units: t.units, scale: COST_SCALE }) })),
  };
}

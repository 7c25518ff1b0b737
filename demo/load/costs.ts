/**
 * Loads three months of FOCUS cost records: daily cloud usage per resource, leases and support
 * per unit and month, licences as a twelfth of their yearly cost each month. The cloud usage is
 * what each provider's bill of the month holds, so it is loaded as the completed cost import of
 * that bill (provider, billing account, month), as if an asset manager had imported it: a bill of
 * the same scope imported later (demo/finops/ has October's) replaces it, never adds to it.
 */
import { createHash } from 'node:crypto';
import type { Knex } from 'knex';
import { SOFTWARE_PRODUCTS } from '../data/catalogue';
import { CLOUD_BILLS_IMPORTED_BY, CLOUD_KINDS, CLOUD_PROVIDERS, type CloudProvider } from '../data/cloud';
import { COST_MONTHS, CURRENCY, type CostCentreCode } from '../data/organisation';
import type { AssetRecord } from './estate';
import type { ServiceMapResult } from './service-map';
import {
  addDays, addMonths, divideDown, formatMicro, insertRows, isoDate, MICRO_PER_MINOR, monthStart, percentOf, required,
  type Context, type Random, type Row,
} from './support';

export async function insertCostRecords(
  trx: Knex.Transaction, ctx: Context, assets: Map<string, AssetRecord>, serviceMap: ServiceMapResult, random: Random,
): Promise<number> {
  const { today } = ctx;
  const rows: Row[] = [];
  const row = (fields: {
    sourceKey: string; periodStart: Date; periodEnd: Date; category: 'Usage' | 'Purchase'; description: string;
    provider: string; publisher: string; invoiceIssuer: string; serviceName: string; serviceCategory: string;
    resourceId?: string | null; resourceName?: string | null; resourceType?: string | null; region?: string | null;
    listMicro: number; billedMicro: number; tags: Record<string, string>;
    assetId?: string | null; ciId?: string | null; costCentre: CostCentreCode;
    bill?: { importId: string; billingAccountId: string; subAccountId: string; businessServiceId: string };
  }) => rows.push({
    source_key: fields.sourceKey,
    cost_import_id: fields.bill?.importId ?? null,
    billing_account_id: fields.bill?.billingAccountId ?? null,
    sub_account_id: fields.bill?.subAccountId ?? null,
    business_service_id: fields.bill?.businessServiceId ?? null,
    billing_period_start: monthStart(fields.periodStart).toISOString(),
    billing_period_end: monthStart(fields.periodStart, 1).toISOString(),
    charge_period_start: fields.periodStart.toISOString(),
    charge_period_end: fields.periodEnd.toISOString(),
    charge_category: fields.category,
    charge_description: fields.description,
    provider_name: fields.provider,
    publisher_name: fields.publisher,
    invoice_issuer_name: fields.invoiceIssuer,
    service_name: fields.serviceName,
    service_category: fields.serviceCategory,
    resource_id: fields.resourceId ?? null,
    resource_name: fields.resourceName ?? null,
    resource_type: fields.resourceType ?? null,
    region_name: fields.region ?? null,
    billed_cost: formatMicro(fields.billedMicro),
    effective_cost: formatMicro(fields.billedMicro),
    list_cost: formatMicro(fields.listMicro),
    billing_currency: CURRENCY,
    tags: JSON.stringify(fields.tags),
    asset_id: fields.assetId ?? null,
    ci_id: fields.ciId ?? null,
    cost_centre_id: required(ctx.costCentre, fields.costCentre),
  });

  // Cloud usage: one row per resource per day, up to yesterday, on its provider's bill of the month.
  const bills = new Map<string, CloudBill>();
  for (let day = monthStart(today, COST_MONTHS[0]); day < today; day = addDays(day, 1)) {
    const dayKey = isoDate(day);
    for (const resource of serviceMap.cloud) {
      const kind = CLOUD_KINDS[resource.kind];
      // Instances run all day at a fixed rate; storage, traffic and requests vary by about ten percent.
      const listMicro = resource.hourlyListMicro !== null
        ? resource.hourlyListMicro * 24
        : percentOf(resource.dailyListMicro ?? 0, random.int(90, 110));
      const provider = CLOUD_PROVIDERS[kind.provider];
      const billedMicro = listMicro - percentOf(listMicro, provider.discountPercent);
      const bill = await billOf(trx, ctx, bills, kind.provider, monthStart(day));
      bill.rows += 1;
      bill.billedMicro += billedMicro;
      row({
        sourceKey: `demo:${provider.keyPrefix}:${resource.name}:${dayKey}`,
        periodStart: day, periodEnd: addDays(day, 1), category: 'Usage',
        description: `${kind.resourceType} usage`,
        provider: provider.providerName,
        publisher: provider.publisher,
        invoiceIssuer: provider.invoiceIssuer,
        serviceName: kind.serviceName, serviceCategory: kind.serviceCategory,
        resourceId: resource.resourceId, resourceName: resource.name, resourceType: kind.resourceType,
        region: kind.region ?? provider.region,
        listMicro, billedMicro,
        tags: { cost_centre: resource.costCentre, service: resource.serviceName, environment: 'production' },
        ciId: resource.ciId, costCentre: resource.costCentre,
        bill: { importId: bill.id, billingAccountId: provider.billingAccountId, subAccountId: provider.subAccountId, businessServiceId: resource.serviceId },
      });
    }
  }

  for (const offset of COST_MONTHS) {
    const month = monthStart(today, offset);
    const monthKey = isoDate(month).slice(0, 7);
    const monthEnd = monthStart(today, offset + 1);
    const monthly = { periodStart: month, periodEnd: monthEnd, category: 'Purchase' as const };

    // Leases and support contracts are invoiced per unit per month.
    for (const asset of assets.values()) {
      if (asset.plan.state === 'retired' || asset.plan.state === 'on_order' || !asset.contractKey) continue;
      const contract = required(ctx.contract, asset.contractKey);
      if (contract.startsOn >= monthEnd || contract.endsOn < month) continue;
      const model = asset.modelSeed;
      const monthlyMinor = contract.seed.kind === 'lease' ? model.leaseMonthlyMinor : model.supportMonthlyMinor;
      if (!monthlyMinor) continue;
      const vendor = contract.seed.vendor;
      const amount = monthlyMinor * MICRO_PER_MINOR;
      row({
        ...monthly,
        sourceKey: `demo:${contract.seed.kind}:${asset.serial}:${monthKey}`,
        description: `${contract.seed.title}: ${model.manufacturer} ${model.name} ${asset.serial}`,
        provider: vendor, publisher: vendor, invoiceIssuer: vendor,
        serviceName: contract.seed.title, serviceCategory: 'Other',
        resourceId: asset.serial, resourceName: asset.plan.key, resourceType: model.category,
        listMicro: amount, billedMicro: amount,
        tags: { cost_centre: asset.costCentreCode },
        assetId: asset.id, ciId: serviceMap.ciOfAsset.get(asset.plan.key) ?? null, costCentre: asset.costCentreCode,
      });
    }

    // Licences are invoiced as one twelfth of the yearly cost each month.
    for (const product of SOFTWARE_PRODUCTS) {
      product.entitlements.forEach((e, i) => {
        if (addMonths(today, e.startMonths) >= monthEnd) return;
        const amount = divideDown(e.quantity * product.unitPriceMinor * MICRO_PER_MINOR, 12);
        row({
          ...monthly,
          sourceKey: `demo:licence:${product.key}-${i + 1}:${monthKey}`,
          description: `${product.name}, ${e.quantity} ${product.metric.replace('_', ' ')} licences`,
          provider: product.vendor, publisher: product.publisher, invoiceIssuer: product.vendor,
          serviceName: `${product.publisher} ${product.name}`, serviceCategory: product.serviceCategory,
          listMicro: amount, billedMicro: amount,
          tags: { cost_centre: product.costCentre },
          costCentre: product.costCentre,
        });
      });
    }
  }

  await insertRows(trx, 'cost_records', rows);
  await completeBills(trx, bills);
  return rows.length;
}

/** A provider's bill of a month, loaded as the cost import that holds its scope. */
interface CloudBill {
  id: string;
  provider: CloudProvider;
  rows: number;
  billedMicro: number;
}

const utcSeconds = (date: Date) => date.toISOString().replace('.000Z', 'Z');

/**
 * The import of a provider's bill of a month, made (with its scope) the first time a record needs
 * it. Named like the files an export drops, `demo-aws-2026-10`; its SHA-256 is that of the name, as
 * there is no file. Imported by the asset manager when the month was over (today for the current
 * month, billed so far).
 */
async function billOf(trx: Knex.Transaction, ctx: Context, bills: Map<string, CloudBill>, provider: CloudProvider, month: Date): Promise<CloudBill> {
  const fileName = `demo-${CLOUD_PROVIDERS[provider].keyPrefix}-${isoDate(month).slice(0, 7)}`;
  const known = bills.get(fileName);
  if (known) return known;
  const { providerName, billingAccountId } = CLOUD_PROVIDERS[provider];
  const importedAt = new Date(Math.min(addDays(monthStart(month, 1), 1).getTime(), ctx.today.getTime()));
  const [{ id }] = await trx('cost_imports').insert({
    file_name: fileName,
    file_sha256: createHash('sha256').update(fileName).digest('hex'),
    file_bytes: 0,
    format: 'csv',
    focus_version: '1.0',
    source: 'api',
    state: 'completed',
    scopes: JSON.stringify([{ provider: providerName, billingAccountId, billingPeriodStart: utcSeconds(month) }]),
    requested_by_id: required(ctx.person, CLOUD_BILLS_IMPORTED_BY),
    created_at: importedAt,
    updated_at: importedAt,
    finished_at: importedAt,
  }).returning('id') as { id: string }[];
  await trx('cost_import_scopes').insert({
    provider_name: providerName, billing_account_id: billingAccountId, billing_period_start: month, import_id: id, updated_at: importedAt,
  });
  const bill = { id, provider, rows: 0, billedMicro: 0 };
  bills.set(fileName, bill);
  return bill;
}

/** Each bill's counts and totals, as an import records them: per provider and currency, costs as exact decimal text. */
async function completeBills(trx: Knex.Transaction, bills: Map<string, CloudBill>): Promise<void> {
  for (const bill of bills.values()) {
    const cost = formatMicro(bill.billedMicro);
    await trx('cost_imports').where({ id: bill.id }).update({
      rows_total: bill.rows,
      rows_imported: bill.rows,
      totals: JSON.stringify([{ provider: CLOUD_PROVIDERS[bill.provider].providerName, currency: CURRENCY, rows: bill.rows, billedCost: cost, effectiveCost: cost }]),
    });
  }
}

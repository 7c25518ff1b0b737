/**
 * Loads three months of FOCUS cost records: daily cloud usage per resource, leases and support
 * per unit and month, licences as a twelfth of their yearly cost each month.
 */
import type { Knex } from 'knex';
import { SOFTWARE_PRODUCTS } from '../data/catalogue';
import { CLOUD_KINDS, CLOUD_PROVIDERS } from '../data/cloud';
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
  }) => rows.push({
    source_key: fields.sourceKey,
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

  // Cloud usage: one row per resource per day, up to yesterday.
  for (let day = monthStart(today, COST_MONTHS[0]); day < today; day = addDays(day, 1)) {
    const dayKey = isoDate(day);
    for (const resource of serviceMap.cloud) {
      const kind = CLOUD_KINDS[resource.kind];
      // Instances run all day at a fixed rate; storage, traffic and requests vary by about ten percent.
      const listMicro = resource.hourlyListMicro !== null
        ? resource.hourlyListMicro * 24
        : percentOf(resource.dailyListMicro ?? 0, random.int(90, 110));
      const provider = CLOUD_PROVIDERS[kind.provider];
      row({
        sourceKey: `demo:${provider.keyPrefix}:${resource.name}:${dayKey}`,
        periodStart: day, periodEnd: addDays(day, 1), category: 'Usage',
        description: `${kind.resourceType} usage`,
        provider: kind.provider,
        publisher: provider.publisher,
        invoiceIssuer: provider.invoiceIssuer,
        serviceName: kind.serviceName, serviceCategory: kind.serviceCategory,
        resourceId: resource.resourceId, resourceName: resource.name, resourceType: kind.resourceType,
        region: kind.region ?? provider.region,
        listMicro, billedMicro: listMicro - percentOf(listMicro, provider.discountPercent),
        tags: { cost_centre: resource.costCentre, service: resource.serviceName, environment: 'production' },
        ciId: resource.ciId, costCentre: resource.costCentre,
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
  return rows.length;
}

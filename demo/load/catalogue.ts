/** Loads the suppliers and catalogue: vendors, contracts, hardware models, software products and negotiated prices. */
import { randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import { CONTRACT_PRICES, CONTRACTS, HARDWARE_MODELS, SOFTWARE_PRODUCTS, VENDORS } from '../data/catalogue';
import { CURRENCY } from '../data/organisation';
import { addDays, addMonths, insertRows, isoDate, required, type Context } from './support';

export async function insertCatalogue(trx: Knex.Transaction, ctx: Context): Promise<void> {
  for (const v of VENDORS) ctx.vendor.set(v.name, randomUUID());
  await insertRows(trx, 'vendors', VENDORS.map((v) => ({
    id: required(ctx.vendor, v.name), name: v.name, contact_email: v.contactEmail, active: v.active,
  })));

  for (const c of CONTRACTS) {
    ctx.contract.set(c.key, { id: randomUUID(), seed: c, startsOn: addMonths(ctx.today, c.startMonths), endsOn: addDays(ctx.today, c.endDays) });
  }
  await insertRows(trx, 'contracts', [...ctx.contract.values()].map(({ id, seed, startsOn, endsOn }) => ({
    id,
    vendor_id: required(ctx.vendor, seed.vendor),
    kind: seed.kind,
    title: seed.title,
    starts_on: isoDate(startsOn),
    ends_on: isoDate(endsOn),
    value_minor: seed.valueMinor,
    currency: CURRENCY,
    auto_renew: seed.autoRenew,
    renewal_notice_days: seed.noticeDays,
  })));

  for (const m of HARDWARE_MODELS) ctx.model.set(m.key, { id: randomUUID(), seed: m });
  await insertRows(trx, 'hardware_models', HARDWARE_MODELS.map((m) => ({
    id: required(ctx.model, m.key).id,
    manufacturer: m.manufacturer,
    name: m.name,
    category: m.category,
    vendor_id: required(ctx.vendor, m.vendor),
    list_price_minor: m.listPriceMinor,
    currency: CURRENCY,
    warranty_months: m.warrantyMonths,
    useful_life_months: m.usefulLifeMonths,
    depreciation_method: m.depreciation,
  })));

  for (const p of SOFTWARE_PRODUCTS) ctx.product.set(p.key, { id: randomUUID(), seed: p });
  await insertRows(trx, 'software_products', SOFTWARE_PRODUCTS.map((p) => ({
    id: required(ctx.product, p.key).id,
    publisher: p.publisher,
    name: p.name,
    vendor_id: required(ctx.vendor, p.vendor),
    licence_metric: p.metric,
    unit_price_minor: p.unitPriceMinor,
    currency: CURRENCY,
  })));

  await insertRows(trx, 'contract_prices', CONTRACT_PRICES.map((p) => ({
    contract_id: required(ctx.contract, p.contract).id,
    hardware_model_id: p.model ? required(ctx.model, p.model).id : null,
    software_product_id: p.product ? required(ctx.product, p.product).id : null,
    unit_price_minor: p.unitPriceMinor,
    currency: CURRENCY,
  })));
}

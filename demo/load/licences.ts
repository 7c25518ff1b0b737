/** Loads the licences: entitlements under their contracts, seats assigned to people, installations on assets. */
import type { Knex } from 'knex';
import { SOFTWARE_PRODUCTS, type ProductKey } from '../data/catalogue';
import { DEPLOYED_STATES, ENDPOINT_AGENT, ENDPOINT_CATEGORIES, SEATS, SERVER_INSTALLS, TABLEAU_LAPTOPS } from '../data/licences';
import { CURRENCY } from '../data/organisation';
import type { AssetRecord } from './estate';
import { addDays, addMonths, insertRows, isoDate, required, type Context, type Random, type Row } from './support';

export async function insertLicences(
  trx: Knex.Transaction, ctx: Context, assets: Map<string, AssetRecord>, random: Random,
): Promise<{ entitlements: number; consumptions: number }> {
  const entitlements = SOFTWARE_PRODUCTS.flatMap((p) => p.entitlements.map((e) => {
    const contract = required(ctx.contract, e.contract);
    return {
      product_id: required(ctx.product, p.key).id,
      metric: p.metric,
      quantity: e.quantity,
      starts_on: isoDate(addMonths(ctx.today, e.startMonths)),
      ends_on: isoDate(contract.endsOn),
      cost_minor: e.quantity * p.unitPriceMinor,
      currency: CURRENCY,
      contract_id: contract.id,
    };
  }));
  await insertRows(trx, 'software_entitlements', entitlements);

  const productId = (key: ProductKey) => required(ctx.product, key).id;
  const pastDate = (minDays: number, maxDays: number) => addDays(ctx.today, -random.int(minDays, maxDays)).toISOString();
  const consumptions: Row[] = [];
  for (const seat of SEATS) {
    for (const login of seat.people) {
      consumptions.push({ product_id: productId(seat.product), kind: 'assignment', person_id: required(ctx.person, login), units: 1, installed_at: pastDate(30, 300) });
    }
    for (const login of seat.reclaimed ?? []) {
      consumptions.push({
        product_id: productId(seat.product), kind: 'assignment', person_id: required(ctx.person, login), units: 1,
        installed_at: pastDate(200, 300), reclaimed_at: pastDate(20, 90), reclaimed_by_key: `demo:reclaim:${seat.product}:${login}`,
      });
    }
  }
  const install = (product: ProductKey, asset: AssetRecord, units: number) => {
    const installedAt = addDays(new Date(`${asset.purchaseDate}T09:00:00Z`), random.int(1, 10));
    const retired = asset.plan.retiredDaysAgo !== undefined;
    consumptions.push({
      product_id: productId(product), kind: 'installation', asset_id: asset.id, units, installed_at: installedAt.toISOString(),
      reclaimed_at: retired ? addDays(ctx.today, -(asset.plan.retiredDaysAgo ?? 0)).toISOString() : null,
      reclaimed_by_key: retired ? `demo:reclaim:${product}:${asset.serial}` : null,
    });
  };
  for (const login of TABLEAU_LAPTOPS) install('tableau', required(assets, `laptop:${login}`), 1);
  for (const { product, prefixes, units } of SERVER_INSTALLS) {
    for (const asset of assets.values()) {
      if (prefixes.some((prefix) => asset.plan.key.startsWith(`${prefix}-`)) && DEPLOYED_STATES.includes(asset.plan.state)) install(product, asset, units);
    }
  }
  // Retired endpoints keep their agent installation as reclaimed history.
  for (const asset of assets.values()) {
    const deployed = DEPLOYED_STATES.includes(asset.plan.state) || asset.plan.state === 'retired';
    if (ENDPOINT_CATEGORIES.includes(asset.modelSeed.category) && deployed && asset.purchaseDate) install(ENDPOINT_AGENT, asset, 1);
  }
  await insertRows(trx, 'software_consumptions', consumptions);
  return { entitlements: entitlements.length, consumptions: consumptions.length };
}

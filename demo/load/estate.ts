/** Loads the hardware estate: one asset per planned unit, with serial, dates, cost and retirement. */
import { randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import { bookValue } from '../../domain/depreciation';
import type { ContractKey, HardwareModelSeed, ModelKey, SerialStyle } from '../data/catalogue';
import {
  ASSET_MANAGERS, CITY_SITES, DELL_LEASED_LAPTOPS, DEVICE_POOL, DISPOSAL_METHODS, INFRASTRUCTURE_COST_CENTRE, NETWORK_DEVICE_AGE,
  NETWORK_GROUPS, PERSONAL_KIT, SERVER_GROUPS, SERVER_IN_MAINTENANCE, SITE_LOCATIONS, STORAGE_ARRAYS, WARRANTY_ENDING_SOON,
  type AgeRange, type AssetPlan, type Site,
} from '../data/estate';
import { CURRENCY, PEOPLE, type CostCentreCode } from '../data/organisation';
import {
  addDays, addMonths, DAY_MS, DIGITS, emailOf, hostnames, insertRows, isoDate, percentOf, required, UPPER_ALNUM,
  type Context, type Random, type Row,
} from './support';

/** An asset as loaded, for the sections that refer to it (CIs, installations, costs). */
export interface AssetRecord {
  id: string;
  plan: AssetPlan;
  serial: string | null;
  modelSeed: HardwareModelSeed;
  contractKey: ContractKey | null;
  costCentreCode: CostCentreCode;
  purchaseDate: string | null;
}

function siteOfHostname(hostname: string): Site {
  if (hostname.startsWith('ber-')) return 'ber';
  if (hostname.startsWith('lis-')) return 'lis';
  if (hostname.startsWith('ams-hq-')) return 'ams-hq';
  return 'ams-dc';
}

function planAssets(): AssetPlan[] {
  const plans: AssetPlan[] = [];
  for (const p of PEOPLE) {
    const inUse = { state: 'in_use' as const, assignee: p.login, site: CITY_SITES[p.city], costCentre: p.costCentre };
    const lease = DELL_LEASED_LAPTOPS.includes(p.login) ? { contract: 'dell-lease' as const } : {};
    plans.push({ key: `laptop:${p.login}`, model: p.laptop, ...PERSONAL_KIT.laptop, ...inUse, ...lease });
    if (p.desktop) plans.push({ key: `desktop:${p.login}`, ...PERSONAL_KIT.desktop, ...inUse });
    for (let i = 1; i <= p.monitors; i++) plans.push({ key: `monitor:${p.login}:${i}`, ...PERSONAL_KIT.monitor, ...inUse });
    if (p.phone) plans.push({ key: `phone:${p.login}`, ...PERSONAL_KIT.phone, ...inUse });
  }
  for (const { count, ...entry } of DEVICE_POOL) {
    for (let i = 1; i <= count; i++) {
      plans.push({ ...entry, key: `${entry.model}:${entry.state}${entry.substate ? `/${entry.substate}` : ''}:${i}` });
    }
  }
  plans.push(SERVER_IN_MAINTENANCE);
  // Live infrastructure is in use at the site its hostname names.
  const live = (name: string, model: ModelKey, costCentre: CostCentreCode, age: AgeRange): AssetPlan =>
    ({ key: name, model, state: 'in_use', site: siteOfHostname(name), costCentre, age });
  for (const g of SERVER_GROUPS) {
    for (const name of hostnames(g.prefix, g.count)) plans.push(live(name, g.model, g.costCentre, g.age));
  }
  for (const g of NETWORK_GROUPS) {
    for (const name of hostnames(g.prefix, g.count)) plans.push(live(name, g.model, INFRASTRUCTURE_COST_CENTRE, NETWORK_DEVICE_AGE));
  }
  for (const s of STORAGE_ARRAYS) plans.push(live(s.name, s.model, INFRASTRUCTURE_COST_CENTRE, s.age));
  return plans;
}

const SERIAL_FORMATS: Record<SerialStyle, (random: Random) => string> = {
  dell: (r) => r.chars(UPPER_ALNUM, 7),
  lenovo: (r) => `PF${r.chars(UPPER_ALNUM, 6)}`,
  apple: (r) => r.chars(UPPER_ALNUM, 10),
  hpe: (r) => `CZ${r.chars(DIGITS, 4)}${r.chars(UPPER_ALNUM, 4)}`,
  cisco: (r) => `FOC${r.chars(DIGITS, 4)}${r.chars(UPPER_ALNUM, 4)}`,
  meraki: (r) => `Q3AB-${r.chars(UPPER_ALNUM, 4)}-${r.chars(UPPER_ALNUM, 4)}`,
  netapp: (r) => r.chars(DIGITS, 12),
};

export async function insertAssets(trx: Knex.Transaction, ctx: Context, random: Random): Promise<Map<string, AssetRecord>> {
  const { today } = ctx;
  const serials = new Set<string>();
  const records = new Map<string, AssetRecord>();
  const rows: Row[] = [];

  for (const plan of planAssets()) {
    const { id: modelId, seed: model } = required(ctx.model, plan.model);
    const contractKey = plan.contract ?? model.contract;
    const contract = contractKey ? required(ctx.contract, contractKey) : null;
    const leased = contract?.seed.kind === 'lease';
    // Draw the same numbers for every asset whatever its dates, so one asset's dates never shift another's serial.
    const ageMonths = random.int(plan.age[0], plan.age[1]);
    const ageDays = random.int(0, 27);
    const deliveryDays = random.int(7, 60);
    const discountPercent = random.int(0, 8);
    let serial: string | null = null;
    if (plan.state !== 'on_order') {
      do serial = SERIAL_FORMATS[model.serial](random); while (serials.has(serial));
      serials.add(serial);
    }

    let purchase: Date | null = null;
    let warrantyEnd: Date | null = null;
    let leaseEnd: Date | null = null;
    if (leased && contract) {
      // Leased units arrive after the lease starts; their warranty runs to the end of the lease.
      purchase = addDays(contract.startsOn, deliveryDays);
      warrantyEnd = leaseEnd = contract.endsOn;
    } else if (plan.state !== 'on_order') {
      const soon = WARRANTY_ENDING_SOON[plan.key];
      purchase = soon !== undefined
        ? addMonths(addDays(today, soon), -model.warrantyMonths)
        : addDays(addMonths(today, -ageMonths), -ageDays);
      warrantyEnd = addMonths(purchase, model.warrantyMonths);
      // Only the chosen few end their warranty in the reminder window; move others' purchase back a quarter.
      const daysLeft = Math.round((warrantyEnd.getTime() - today.getTime()) / DAY_MS);
      if (soon === undefined && daysLeft >= 20 && daysLeft <= 70) {
        purchase = addMonths(purchase, -3);
        warrantyEnd = addMonths(purchase, model.warrantyMonths);
      }
    }

    const costMinor = model.listPriceMinor - percentOf(model.listPriceMinor, discountPercent);
    const retiredAt = plan.retiredDaysAgo !== undefined ? addDays(today, -plan.retiredDaysAgo) : null;
    const managedBy = ASSET_MANAGERS[plan.site];
    const id = randomUUID();
    records.set(plan.key, {
      id, plan, serial, modelSeed: model, contractKey, costCentreCode: plan.costCentre, purchaseDate: purchase ? isoDate(purchase) : null,
    });
    rows.push({
      id,
      serial_number: serial,
      model_id: modelId,
      state: plan.state,
      substate: plan.substate ?? null,
      assigned_to_id: plan.assignee ? required(ctx.person, plan.assignee) : null,
      managed_by_id: required(ctx.person, managedBy),
      location: SITE_LOCATIONS[plan.site] + (plan.state === 'in_stock' ? ', stock room' : ''),
      cost_centre_id: required(ctx.costCentre, plan.costCentre),
      contract_id: contract?.id ?? null,
      purchase_cost_minor: costMinor,
      currency: CURRENCY,
      purchase_date: purchase ? isoDate(purchase) : null,
      depreciation_method: model.depreciation,
      useful_life_months: model.usefulLifeMonths,
      warranty_end: warrantyEnd ? isoDate(warrantyEnd) : null,
      lease_end: leaseEnd ? isoDate(leaseEnd) : null,
      retired_at: retiredAt?.toISOString() ?? null,
      retirement_book_value_minor: retiredAt && purchase
        ? bookValue({
          method: model.depreciation, costMinor, salvageMinor: 0, usefulLifeMonths: model.usefulLifeMonths,
          purchaseDate: isoDate(purchase), onDate: isoDate(retiredAt),
        })
        : null,
      disposal_attestation: plan.substate === 'disposed' && retiredAt
        ? JSON.stringify({
          performedBy: emailOf(managedBy),
          performedAt: addDays(retiredAt, -2).toISOString(),
          method: model.category === 'server' ? DISPOSAL_METHODS.server : DISPOSAL_METHODS.otherDevice,
          certificateId: `WIPE-${retiredAt.getUTCFullYear()}-${random.chars(DIGITS, 5)}`,
        })
        : null,
    });
  }
  await insertRows(trx, 'assets', rows);
  return records;
}

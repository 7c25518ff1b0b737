/**
 * Northwind's hardware estate: everyone's everyday kit, the devices in stock, in repair, on
 * order or retired, and the live servers, network devices and storage arrays of its data centre
 * and offices.
 */
import type { ContractKey, ModelKey } from './catalogue';
import type { City, CostCentreCode } from './organisation';

export type Site = 'ams-hq' | 'ams-dc' | 'ber' | 'lis';
export type AssetState = 'on_order' | 'in_stock' | 'in_use' | 'in_maintenance' | 'in_transit' | 'missing' | 'retired';
/** Months since purchase: a range to draw from. */
export type AgeRange = [number, number];

export const SITE_LOCATIONS: Record<Site, string> = {
  'ams-hq': 'Amsterdam HQ',
  'ams-dc': 'Amsterdam DC (Equinix AM3)',
  ber: 'Berlin office',
  lis: 'Lisbon office',
};
export const CITY_SITES: Record<City, Site> = { Amsterdam: 'ams-hq', Berlin: 'ber', Lisbon: 'lis' };

/** Who manages the assets at each site. */
export const ASSET_MANAGERS: Record<Site, string> = {
  'ams-hq': 'pieter.jansen',
  'ams-dc': 'pieter.jansen',
  ber: 'pieter.jansen',
  lis: 'ana.ferreira',
};

/** Shared infrastructure (network, storage, infrastructure VMs) is paid by IT Operations. */
export const INFRASTRUCTURE_COST_CENTRE: CostCentreCode = 'CC-1000';

export interface AssetPlan {
  key: string;
  model: ModelKey;
  state: AssetState;
  substate?: string;
  assignee?: string;
  site: Site;
  costCentre: CostCentreCode;
  /** Months since purchase, drawn from this range (ignored for leased units). */
  age: AgeRange;
  contract?: ContractKey;
  retiredDaysAgo?: number;
}

export type PoolEntry = Omit<AssetPlan, 'key'> & { count: number };

type KitItem = { model: ModelKey; age: AgeRange };

/** Everyone's everyday kit, in use at their site: a laptop of the model on their record, and a desktop, monitors and a phone as it says. */
export const PERSONAL_KIT: { laptop: Pick<KitItem, 'age'>; desktop: KitItem; monitor: KitItem; phone: KitItem } = {
  laptop: { age: [2, 34] },
  desktop: { model: 'optiplex', age: [6, 40] },
  monitor: { model: 'ultrasharp', age: [3, 48] },
  phone: { model: 'iphone', age: [2, 20] },
};

/** Everything that is not a person's everyday kit or a live piece of infrastructure. */
export const DEVICE_POOL: PoolEntry[] = [
  { model: 'latitude', count: 4, state: 'in_stock', substate: 'available', site: 'ams-hq', costCentre: 'CC-1000', age: [1, 5] },
  { model: 'thinkpad', count: 2, state: 'in_stock', substate: 'available', site: 'lis', costCentre: 'CC-1000', age: [1, 5] },
  { model: 'macbook', count: 2, state: 'in_stock', substate: 'available', site: 'ams-hq', costCentre: 'CC-1000', age: [1, 4] },
  { model: 'latitude', count: 2, state: 'in_stock', substate: 'reserved', site: 'ams-hq', costCentre: 'CC-1000', age: [1, 3] },
  { model: 'latitude', count: 1, state: 'in_stock', substate: 'defective', site: 'ams-hq', costCentre: 'CC-1000', age: [14, 22] },
  { model: 'thinkpad', count: 1, state: 'in_stock', substate: 'defective', site: 'ber', costCentre: 'CC-1000', age: [6, 10] },
  { model: 'latitude', count: 2, state: 'in_stock', substate: 'pending_install', site: 'ams-hq', costCentre: 'CC-1000', age: [0, 1] },
  { model: 'latitude', count: 2, state: 'in_stock', substate: 'pending_disposal', site: 'ams-hq', costCentre: 'CC-1000', age: [44, 52] },
  { model: 'macbook', count: 1, state: 'in_maintenance', assignee: 'yuki.tanaka', site: 'ams-hq', costCentre: 'CC-5000', age: [5, 8] },
  { model: 'thinkpad', count: 1, state: 'in_transit', site: 'lis', costCentre: 'CC-1000', age: [1, 3] },
  { model: 'latitude', count: 2, state: 'on_order', site: 'ams-hq', costCentre: 'CC-1000', age: [0, 0] },
  { model: 'macbook', count: 1, state: 'missing', assignee: 'liam.oconnor', site: 'ams-hq', costCentre: 'CC-4000', age: [14, 20] },
  { model: 'latitude', count: 1, state: 'retired', substate: 'disposed', site: 'ams-hq', costCentre: 'CC-1000', age: [50, 54], retiredDaysAgo: 75 },
  { model: 'thinkpad', count: 1, state: 'retired', substate: 'stolen', site: 'ber', costCentre: 'CC-2000', age: [8, 10], retiredDaysAgo: 40 },
  { model: 'optiplex', count: 2, state: 'in_stock', substate: 'available', site: 'ams-hq', costCentre: 'CC-1000', age: [2, 8] },
  { model: 'optiplex', count: 1, state: 'retired', substate: 'sold', site: 'ams-hq', costCentre: 'CC-3000', age: [50, 56], retiredDaysAgo: 120 },
  { model: 'optiplex', count: 1, state: 'retired', substate: 'donated', site: 'lis', costCentre: 'CC-3000', age: [52, 58], retiredDaysAgo: 200 },
  { model: 'ultrasharp', count: 5, state: 'in_stock', substate: 'available', site: 'ams-hq', costCentre: 'CC-1000', age: [2, 12] },
  { model: 'ultrasharp', count: 2, state: 'retired', substate: 'donated', site: 'ams-hq', costCentre: 'CC-1000', age: [60, 70], retiredDaysAgo: 200 },
  { model: 'iphone', count: 2, state: 'in_stock', substate: 'available', site: 'ams-hq', costCentre: 'CC-1000', age: [1, 4] },
  { model: 'iphone', count: 1, state: 'retired', substate: 'lost', site: 'ams-hq', costCentre: 'CC-4000', age: [10, 16], retiredDaysAgo: 60 },
  { model: 'iphone', count: 1, state: 'retired', substate: 'stolen', site: 'lis', costCentre: 'CC-4000', age: [6, 12], retiredDaysAgo: 25 },
  { model: 'r760', count: 2, state: 'in_stock', substate: 'available', site: 'ams-dc', costCentre: 'CC-1000', age: [2, 5] },
  { model: 'dl380', count: 1, state: 'in_stock', substate: 'available', site: 'ams-dc', costCentre: 'CC-1000', age: [3, 6] },
  { model: 'r760', count: 1, state: 'retired', substate: 'disposed', site: 'ams-dc', costCentre: 'CC-1000', age: [64, 70], retiredDaysAgo: 150 },
  { model: 'dl380', count: 1, state: 'retired', substate: 'returned_to_vendor', site: 'ams-dc', costCentre: 'CC-1000', age: [1, 2], retiredDaysAgo: 20 },
  { model: 'catalyst', count: 1, state: 'in_stock', substate: 'available', site: 'ams-hq', costCentre: 'CC-1000', age: [3, 9] },
  { model: 'meraki', count: 1, state: 'in_stock', substate: 'available', site: 'ams-hq', costCentre: 'CC-1000', age: [3, 9] },
];

/** A server out for repair: it backs no CI while the disk controller is replaced. */
export const SERVER_IN_MAINTENANCE: AssetPlan = { key: 'ams-sql-07', model: 'dl380', state: 'in_maintenance', site: 'ams-dc', costCentre: 'CC-1000', age: [20, 30] };

/** Live servers: each one is an asset in use and a server CI of the same name. */
export const SERVER_GROUPS: { prefix: string; count: number; model: ModelKey; costCentre: CostCentreCode; age: AgeRange }[] = [
  { prefix: 'ams-esx', count: 10, model: 'r760', costCentre: 'CC-1000', age: [6, 40] },
  { prefix: 'ber-esx', count: 2, model: 'r760', costCentre: 'CC-1000', age: [12, 30] },
  { prefix: 'ams-sql', count: 6, model: 'dl380', costCentre: 'CC-1000', age: [20, 44] },
  { prefix: 'ams-pg', count: 2, model: 'dl380', costCentre: 'CC-1000', age: [10, 30] },
  { prefix: 'ams-ch', count: 6, model: 'r760', costCentre: 'CC-5000', age: [6, 24] },
  { prefix: 'ams-k8s', count: 6, model: 'r760', costCentre: 'CC-1000', age: [8, 30] },
  { prefix: 'ams-bkp', count: 2, model: 'dl380', costCentre: 'CC-1000', age: [24, 48] },
];

/** Live network devices, bought 10 to 56 months ago; each depends on the devices of its uplink group. */
export const NETWORK_GROUPS: { prefix: string; count: number; model: ModelKey; uplink?: string; uplinkAll?: boolean }[] = [
  { prefix: 'ams-dc-core', count: 2, model: 'nexus' },
  { prefix: 'ams-dc-leaf', count: 4, model: 'nexus', uplink: 'ams-dc-core', uplinkAll: true },
  { prefix: 'ams-dc-mgmt-sw', count: 1, model: 'catalyst', uplink: 'ams-dc-core', uplinkAll: true },
  { prefix: 'ams-hq-sw', count: 4, model: 'catalyst' },
  { prefix: 'ber-sw', count: 2, model: 'catalyst' },
  { prefix: 'lis-sw', count: 2, model: 'catalyst' },
  { prefix: 'ams-hq-ap', count: 5, model: 'meraki', uplink: 'ams-hq-sw' },
  { prefix: 'ber-ap', count: 3, model: 'meraki', uplink: 'ber-sw' },
  { prefix: 'lis-ap', count: 3, model: 'meraki', uplink: 'lis-sw' },
];

export const NETWORK_DEVICE_AGE: AgeRange = [10, 56];

export const STORAGE_ARRAYS: { name: string; model: ModelKey; uplinks: string[]; age: AgeRange }[] = [
  { name: 'ams-netapp-01', model: 'aff', uplinks: ['ams-dc-leaf-01', 'ams-dc-leaf-02'], age: [12, 30] },
  { name: 'ams-netapp-02', model: 'aff', uplinks: ['ams-dc-leaf-01', 'ams-dc-leaf-02'], age: [12, 30] },
  { name: 'ams-netapp-bkp-01', model: 'fas', uplinks: ['ams-dc-leaf-03', 'ams-dc-leaf-04'], age: [20, 40] },
  { name: 'ber-netapp-01', model: 'fas', uplinks: ['ber-sw-01', 'ber-sw-02'], age: [20, 40] },
];

/** Leased Dell laptops (the rest are bought); every ThinkPad comes from the Lenovo lease pool. */
export const DELL_LEASED_LAPTOPS = ['claire.dubois', 'pieter.jansen', 'oliver.brown', 'mehmet.yilmaz', 'daan.visser'];

/** Bought so that their warranty ends 30 to 60 days from now (leased Dell laptops do too). */
export const WARRANTY_ENDING_SOON: Record<string, number> = { 'laptop:hugo.lambert': 38, 'ams-esx-03': 52 };

/** The DNS domain the data centre's hosts (servers, VMs, network and storage) are named in. */
export const HOST_DOMAIN = 'corp.northwind.example';

/** How a disposed unit's data was destroyed. */
export const DISPOSAL_METHODS = {
  server: 'Physical destruction of drives (shredding)',
  otherDevice: 'NIST SP 800-88 purge (cryptographic erase)',
};

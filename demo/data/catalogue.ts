/**
 * Northwind's suppliers and catalogue: vendors, contracts (several end within 90 days), the
 * prices negotiated under them, the hardware models it buys and the software it licenses.
 */
import type { DepreciationMethod } from '../../domain/depreciation';
import type { CostCentreCode } from './organisation';

export const VENDORS: { name: string; contactEmail: string; active: boolean }[] = [
  { name: 'Dell Technologies', contactEmail: 'nl-enterprise@dell.example', active: true },
  { name: 'Lenovo', contactEmail: 'benelux-sales@lenovo.example', active: true },
  { name: 'Apple', contactEmail: 'business-eu@apple.example', active: true },
  { name: 'Hewlett Packard Enterprise', contactEmail: 'techcare-nl@hpe.example', active: true },
  { name: 'Cisco Systems', contactEmail: 'renewals-emea@cisco.example', active: true },
  { name: 'NetApp', contactEmail: 'support-emea@netapp.example', active: true },
  { name: 'Microsoft', contactEmail: 'ea-desk@microsoft.example', active: true },
  { name: 'Amazon Web Services', contactEmail: 'aws-emea-accounts@amazon.example', active: true },
  { name: 'SoftwareONE', contactEmail: 'northwind@softwareone.example', active: true },
  { name: 'Fabrikam Office Supplies', contactEmail: 'service@fabrikam.example', active: false },
];

export type ContractKey =
  | 'dell-purchase' | 'dell-lease' | 'lenovo-lease' | 'apple-purchase' | 'hpe-care' | 'cisco-sntc' | 'netapp-support'
  | 'm365-ea' | 'sql-licence' | 'azure-mca' | 'aws-edp' | 'adobe-vip' | 'tableau' | 'jetbrains' | 'atlassian'
  | 'vsphere' | 'rhel' | 'crowdstrike' | 'fabrikam-desk';

export interface ContractSeed {
  key: ContractKey;
  vendor: string;
  kind: 'purchase' | 'lease' | 'maintenance' | 'software_licence' | 'support' | 'cloud';
  title: string;
  /** Start, in months from today; end, in days from today (several end within 90 days). */
  startMonths: number;
  endDays: number;
  valueMinor: number;
  autoRenew: boolean;
  noticeDays: number;
}

export const CONTRACTS: ContractSeed[] = [
  { key: 'dell-purchase', vendor: 'Dell Technologies', kind: 'purchase', title: 'Dell client and server purchase framework', startMonths: -60, endDays: 150, valueMinor: 48_000_000, autoRenew: false, noticeDays: 90 },
  { key: 'dell-lease', vendor: 'Dell Technologies', kind: 'lease', title: 'Dell Latitude laptop lease, 36 months', startMonths: -35, endDays: 50, valueMinor: 765_000, autoRenew: false, noticeDays: 90 },
  { key: 'lenovo-lease', vendor: 'Lenovo', kind: 'lease', title: 'ThinkPad lease pool, 36 months', startMonths: -12, endDays: 730, valueMinor: 1_684_800, autoRenew: false, noticeDays: 90 },
  { key: 'apple-purchase', vendor: 'Apple', kind: 'purchase', title: 'Apple business purchase agreement', startMonths: -40, endDays: 540, valueMinor: 9_000_000, autoRenew: true, noticeDays: 60 },
  { key: 'hpe-care', vendor: 'Hewlett Packard Enterprise', kind: 'maintenance', title: 'HPE Tech Care Essential for ProLiant servers', startMonths: -36, endDays: 35, valueMinor: 3_672_000, autoRenew: false, noticeDays: 90 },
  { key: 'cisco-sntc', vendor: 'Cisco Systems', kind: 'support', title: 'Cisco Smart Net Total Care and Meraki licensing', startMonths: -11, endDays: 80, valueMinor: 2_640_000, autoRenew: true, noticeDays: 60 },
  { key: 'netapp-support', vendor: 'NetApp', kind: 'maintenance', title: 'NetApp SupportEdge Premium', startMonths: -20, endDays: 480, valueMinor: 4_752_000, autoRenew: false, noticeDays: 90 },
  { key: 'm365-ea', vendor: 'Microsoft', kind: 'software_licence', title: 'Microsoft 365 E3 enterprise agreement', startMonths: -8, endDays: 850, valueMinor: 4_989_600, autoRenew: true, noticeDays: 90 },
  { key: 'sql-licence', vendor: 'Microsoft', kind: 'software_licence', title: 'SQL Server 2022 Standard core licences with Software Assurance', startMonths: -20, endDays: 490, valueMinor: 5_952_000, autoRenew: false, noticeDays: 90 },
  { key: 'azure-mca', vendor: 'Microsoft', kind: 'cloud', title: 'Azure Microsoft Customer Agreement', startMonths: -14, endDays: 300, valueMinor: 0, autoRenew: true, noticeDays: 30 },
  { key: 'aws-edp', vendor: 'Amazon Web Services', kind: 'cloud', title: 'AWS Enterprise Discount Program, 3 years', startMonths: -11, endDays: 760, valueMinor: 30_000_000, autoRenew: false, noticeDays: 120 },
  { key: 'adobe-vip', vendor: 'SoftwareONE', kind: 'software_licence', title: 'Adobe Acrobat and Creative Cloud (VIP)', startMonths: -11, endDays: 25, valueMinor: 2_447_616, autoRenew: false, noticeDays: 60 },
  { key: 'tableau', vendor: 'SoftwareONE', kind: 'software_licence', title: 'Tableau Desktop subscriptions', startMonths: -9, endDays: 95, valueMinor: 840_000, autoRenew: false, noticeDays: 60 },
  { key: 'jetbrains', vendor: 'SoftwareONE', kind: 'software_licence', title: 'JetBrains All Products Pack', startMonths: -2, endDays: 300, valueMinor: 779_000, autoRenew: true, noticeDays: 30 },
  { key: 'atlassian', vendor: 'SoftwareONE', kind: 'software_licence', title: 'Atlassian Cloud Premium (Jira Software)', startMonths: -5, endDays: 210, valueMinor: 523_440, autoRenew: true, noticeDays: 30 },
  { key: 'vsphere', vendor: 'SoftwareONE', kind: 'software_licence', title: 'VMware vSphere Foundation subscription', startMonths: -6, endDays: 910, valueMinor: 21_888_000, autoRenew: false, noticeDays: 120 },
  { key: 'rhel', vendor: 'SoftwareONE', kind: 'software_licence', title: 'Red Hat Enterprise Linux Server subscriptions', startMonths: -3, endDays: 270, valueMinor: 1_598_000, autoRenew: true, noticeDays: 60 },
  { key: 'crowdstrike', vendor: 'SoftwareONE', kind: 'software_licence', title: 'CrowdStrike Falcon Insight XDR', startMonths: -7, endDays: 150, valueMinor: 599_900, autoRenew: true, noticeDays: 60 },
  { key: 'fabrikam-desk', vendor: 'Fabrikam Office Supplies', kind: 'support', title: 'Desk-side support, Lisbon office', startMonths: -48, endDays: -300, valueMinor: 1_800_000, autoRenew: false, noticeDays: 60 },
];

/** Negotiated prices under a contract: a purchase request pays these rather than the list price. */
export const CONTRACT_PRICES: { contract: ContractKey; model?: ModelKey; product?: ProductKey; unitPriceMinor: number }[] = [
  { contract: 'dell-purchase', model: 'latitude', unitPriceMinor: 128_500 },
  { contract: 'apple-purchase', model: 'macbook', unitPriceMinor: 236_000 },
  { contract: 'adobe-vip', product: 'acrobat', unitPriceMinor: 21_500 },
  { contract: 'm365-ea', product: 'm365', unitPriceMinor: 44_900 },
];

export type ModelKey =
  | 'latitude' | 'thinkpad' | 'macbook' | 'optiplex' | 'ultrasharp' | 'iphone'
  | 'r760' | 'dl380' | 'nexus' | 'catalyst' | 'meraki' | 'aff' | 'fas';

export type SerialStyle = 'dell' | 'lenovo' | 'apple' | 'hpe' | 'cisco' | 'meraki' | 'netapp';

export interface HardwareModelSeed {
  key: ModelKey;
  manufacturer: string;
  name: string;
  category: 'laptop' | 'desktop' | 'server' | 'network' | 'storage' | 'monitor' | 'phone';
  vendor: string;
  listPriceMinor: number;
  warrantyMonths: number;
  usefulLifeMonths: number;
  depreciation: DepreciationMethod;
  serial: SerialStyle;
  /** The contract units of this model are bought or supported under. */
  contract: ContractKey | null;
  leaseMonthlyMinor?: number;
  supportMonthlyMinor?: number;
}

export const HARDWARE_MODELS: HardwareModelSeed[] = [
  { key: 'latitude', manufacturer: 'Dell', name: 'Latitude 7450', category: 'laptop', vendor: 'Dell Technologies', listPriceMinor: 145_000, warrantyMonths: 36, usefulLifeMonths: 36, depreciation: 'straight_line', serial: 'dell', contract: 'dell-purchase', leaseMonthlyMinor: 4_250 },
  { key: 'thinkpad', manufacturer: 'Lenovo', name: 'ThinkPad T14 Gen 5', category: 'laptop', vendor: 'Lenovo', listPriceMinor: 132_000, warrantyMonths: 36, usefulLifeMonths: 36, depreciation: 'straight_line', serial: 'lenovo', contract: 'lenovo-lease', leaseMonthlyMinor: 3_900 },
  { key: 'macbook', manufacturer: 'Apple', name: 'MacBook Pro 14-inch (M4 Pro)', category: 'laptop', vendor: 'Apple', listPriceMinor: 249_900, warrantyMonths: 12, usefulLifeMonths: 48, depreciation: 'straight_line', serial: 'apple', contract: 'apple-purchase' },
  { key: 'optiplex', manufacturer: 'Dell', name: 'OptiPlex 7020 Tower', category: 'desktop', vendor: 'Dell Technologies', listPriceMinor: 98_000, warrantyMonths: 36, usefulLifeMonths: 48, depreciation: 'straight_line', serial: 'dell', contract: 'dell-purchase' },
  { key: 'ultrasharp', manufacturer: 'Dell', name: 'UltraSharp U2724D', category: 'monitor', vendor: 'Dell Technologies', listPriceMinor: 42_000, warrantyMonths: 36, usefulLifeMonths: 60, depreciation: 'none', serial: 'dell', contract: 'dell-purchase' },
  { key: 'iphone', manufacturer: 'Apple', name: 'iPhone 16', category: 'phone', vendor: 'Apple', listPriceMinor: 96_900, warrantyMonths: 12, usefulLifeMonths: 24, depreciation: 'straight_line', serial: 'apple', contract: 'apple-purchase' },
  { key: 'r760', manufacturer: 'Dell', name: 'PowerEdge R760', category: 'server', vendor: 'Dell Technologies', listPriceMinor: 1_450_000, warrantyMonths: 36, usefulLifeMonths: 60, depreciation: 'declining_balance', serial: 'dell', contract: 'dell-purchase' },
  { key: 'dl380', manufacturer: 'HPE', name: 'ProLiant DL380 Gen11', category: 'server', vendor: 'Hewlett Packard Enterprise', listPriceMinor: 1_280_000, warrantyMonths: 36, usefulLifeMonths: 60, depreciation: 'straight_line', serial: 'hpe', contract: 'hpe-care', supportMonthlyMinor: 8_500 },
  { key: 'nexus', manufacturer: 'Cisco', name: 'Nexus 93180YC-FX3', category: 'network', vendor: 'Cisco Systems', listPriceMinor: 1_850_000, warrantyMonths: 12, usefulLifeMonths: 60, depreciation: 'straight_line', serial: 'cisco', contract: 'cisco-sntc', supportMonthlyMinor: 12_000 },
  { key: 'catalyst', manufacturer: 'Cisco', name: 'Catalyst 9300-48P', category: 'network', vendor: 'Cisco Systems', listPriceMinor: 890_000, warrantyMonths: 12, usefulLifeMonths: 60, depreciation: 'straight_line', serial: 'cisco', contract: 'cisco-sntc', supportMonthlyMinor: 4_500 },
  { key: 'meraki', manufacturer: 'Cisco', name: 'Meraki MR46', category: 'network', vendor: 'Cisco Systems', listPriceMinor: 110_000, warrantyMonths: 12, usefulLifeMonths: 60, depreciation: 'straight_line', serial: 'meraki', contract: 'cisco-sntc', supportMonthlyMinor: 1_250 },
  { key: 'aff', manufacturer: 'NetApp', name: 'AFF A250', category: 'storage', vendor: 'NetApp', listPriceMinor: 3_800_000, warrantyMonths: 36, usefulLifeMonths: 60, depreciation: 'declining_balance', serial: 'netapp', contract: 'netapp-support', supportMonthlyMinor: 31_000 },
  { key: 'fas', manufacturer: 'NetApp', name: 'FAS2820', category: 'storage', vendor: 'NetApp', listPriceMinor: 2_400_000, warrantyMonths: 36, usefulLifeMonths: 60, depreciation: 'straight_line', serial: 'netapp', contract: 'netapp-support', supportMonthlyMinor: 18_000 },
];

export type ProductKey = 'm365' | 'acrobat' | 'creative-cloud' | 'tableau' | 'jetbrains' | 'jira' | 'sql-server' | 'vsphere' | 'rhel' | 'crowdstrike';

export interface SoftwareProductSeed {
  key: ProductKey;
  publisher: string;
  name: string;
  vendor: string;
  metric: 'per_device' | 'per_user' | 'per_core' | 'subscription' | 'site';
  /** Per unit and year. */
  unitPriceMinor: number;
  serviceCategory: string;
  costCentre: CostCentreCode;
  entitlements: { contract: ContractKey; quantity: number; startMonths: number }[];
}

export const SOFTWARE_PRODUCTS: SoftwareProductSeed[] = [
  { key: 'm365', publisher: 'Microsoft', name: 'Microsoft 365 E3', vendor: 'Microsoft', metric: 'per_user', unitPriceMinor: 47_520, serviceCategory: 'Business Applications', costCentre: 'CC-1000',
    entitlements: [{ contract: 'm365-ea', quantity: 30, startMonths: -8 }, { contract: 'm365-ea', quantity: 5, startMonths: -2 }] },
  { key: 'acrobat', publisher: 'Adobe', name: 'Acrobat Pro', vendor: 'SoftwareONE', metric: 'per_user', unitPriceMinor: 23_988, serviceCategory: 'Business Applications', costCentre: 'CC-3000',
    entitlements: [{ contract: 'adobe-vip', quantity: 12, startMonths: -11 }] },
  { key: 'creative-cloud', publisher: 'Adobe', name: 'Creative Cloud All Apps', vendor: 'SoftwareONE', metric: 'per_user', unitPriceMinor: 107_988, serviceCategory: 'Media', costCentre: 'CC-5000',
    entitlements: [{ contract: 'adobe-vip', quantity: 20, startMonths: -11 }] },
  { key: 'tableau', publisher: 'Tableau', name: 'Tableau Desktop', vendor: 'SoftwareONE', metric: 'per_device', unitPriceMinor: 84_000, serviceCategory: 'Analytics', costCentre: 'CC-2000',
    entitlements: [{ contract: 'tableau', quantity: 10, startMonths: -9 }] },
  { key: 'jetbrains', publisher: 'JetBrains', name: 'All Products Pack', vendor: 'SoftwareONE', metric: 'per_user', unitPriceMinor: 77_900, serviceCategory: 'Developer Tools', costCentre: 'CC-2000',
    entitlements: [{ contract: 'jetbrains', quantity: 10, startMonths: -2 }] },
  { key: 'jira', publisher: 'Atlassian', name: 'Jira Software Cloud Premium', vendor: 'SoftwareONE', metric: 'subscription', unitPriceMinor: 17_448, serviceCategory: 'Developer Tools', costCentre: 'CC-5000',
    entitlements: [{ contract: 'atlassian', quantity: 30, startMonths: -5 }] },
  { key: 'sql-server', publisher: 'Microsoft', name: 'SQL Server 2022 Standard', vendor: 'Microsoft', metric: 'per_core', unitPriceMinor: 93_000, serviceCategory: 'Databases', costCentre: 'CC-1000',
    entitlements: [{ contract: 'sql-licence', quantity: 48, startMonths: -20 }, { contract: 'sql-licence', quantity: 16, startMonths: -6 }] },
  { key: 'vsphere', publisher: 'Broadcom', name: 'VMware vSphere Foundation', vendor: 'SoftwareONE', metric: 'per_core', unitPriceMinor: 19_000, serviceCategory: 'Compute', costCentre: 'CC-1000',
    entitlements: [{ contract: 'vsphere', quantity: 384, startMonths: -6 }] },
  { key: 'rhel', publisher: 'Red Hat', name: 'Red Hat Enterprise Linux Server', vendor: 'SoftwareONE', metric: 'per_device', unitPriceMinor: 79_900, serviceCategory: 'Compute', costCentre: 'CC-1000',
    entitlements: [{ contract: 'rhel', quantity: 20, startMonths: -3 }] },
  { key: 'crowdstrike', publisher: 'CrowdStrike', name: 'Falcon Insight XDR', vendor: 'SoftwareONE', metric: 'per_device', unitPriceMinor: 5_999, serviceCategory: 'Security', costCentre: 'CC-1000',
    entitlements: [{ contract: 'crowdstrike', quantity: 100, startMonths: -7 }] },
];


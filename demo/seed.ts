/**
 * Demo data for Northwind Analytics, a fictional 30-person analytics company that pays in EUR:
 * people, groups and roles; cost centres and budgets; vendors and contracts; the catalogue;
 * about 200 assets; a service map of about 300 configuration items behind five business
 * services; licences; three months of FOCUS cost records; approval rules, change models and
 * maintenance / blackout windows.
 *
 * Loaded in one transaction and only once: the marker person admin@northwind.example says the
 * data is there. A seeded PRNG makes every load produce the same rows; dates are relative to the
 * day of loading so warranties, leases and cost months look current.
 */
import { randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import { bookValue, type DepreciationMethod } from '../domain/depreciation';
import { hashApiKey } from '../platform/api-keys';

export type DemoPerson = { name: string; email: string; roles: string[]; apiKey: string };

const DOMAIN = 'northwind.example';
const CURRENCY = 'EUR';
const MARKER_EMAIL = `admin@${DOMAIN}`;
const SEED = 20261127;
const INSERT_CHUNK = 500;
/** Any fixed number: a second loader waits on it instead of racing the first one's inserts. */
const ADVISORY_LOCK_KEY = 73_014_552_019;

type Role = 'requester' | 'approver' | 'asset_manager' | 'process_owner' | 'admin';
type City = 'Amsterdam' | 'Berlin' | 'Lisbon';
type Site = 'ams-hq' | 'ams-dc' | 'ber' | 'lis';
type CostCentreCode = 'CC-1000' | 'CC-2000' | 'CC-3000' | 'CC-4000' | 'CC-5000';
type GroupName = 'Change Advisory Board' | 'Emergency CAB' | 'Finance' | 'Security' | 'Service Desk' | 'Infrastructure';
type ModelKey =
  | 'latitude' | 'thinkpad' | 'macbook' | 'optiplex' | 'ultrasharp' | 'iphone'
  | 'r760' | 'dl380' | 'nexus' | 'catalyst' | 'meraki' | 'aff' | 'fas';
type AssetState = 'on_order' | 'in_stock' | 'in_use' | 'in_maintenance' | 'in_transit' | 'missing' | 'retired';
type CiStatus = 'operational' | 'non_operational' | 'repair_in_progress';
type Row = Record<string, unknown>;

// ---------------------------------------------------------------------------------------------
// Organisation
// ---------------------------------------------------------------------------------------------

interface PersonSeed {
  login: string;
  name: string;
  title: string;
  city: City;
  manager: string | null;
  costCentre: CostCentreCode;
  laptop: 'latitude' | 'thinkpad' | 'macbook';
  monitors: number;
  phone?: boolean;
  desktop?: boolean;
}

const PEOPLE: PersonSeed[] = [
  { login: 'anna.devries', name: 'Anna de Vries', title: 'Chief Executive Officer', city: 'Amsterdam', manager: null, costCentre: 'CC-3000', laptop: 'macbook', monitors: 1, phone: true },
  { login: 'marco.rossi', name: 'Marco Rossi', title: 'Head of IT', city: 'Amsterdam', manager: 'anna.devries', costCentre: 'CC-1000', laptop: 'latitude', monitors: 1, phone: true },
  { login: 'sophie.laurent', name: 'Sophie Laurent', title: 'Chief Financial Officer', city: 'Amsterdam', manager: 'anna.devries', costCentre: 'CC-3000', laptop: 'latitude', monitors: 1, phone: true },
  { login: 'lukas.becker', name: 'Lukas Becker', title: 'Head of Data Engineering', city: 'Berlin', manager: 'anna.devries', costCentre: 'CC-2000', laptop: 'thinkpad', monitors: 1, phone: true },
  { login: 'emma.johansson', name: 'Emma Johansson', title: 'Head of Sales', city: 'Amsterdam', manager: 'anna.devries', costCentre: 'CC-4000', laptop: 'macbook', monitors: 1, phone: true },
  { login: 'priya.nair', name: 'Priya Nair', title: 'Head of Product', city: 'Amsterdam', manager: 'anna.devries', costCentre: 'CC-5000', laptop: 'macbook', monitors: 1, phone: true },
  { login: 'laura.romano', name: 'Laura Romano', title: 'People & Culture Manager', city: 'Lisbon', manager: 'anna.devries', costCentre: 'CC-3000', laptop: 'latitude', monitors: 1, phone: true },
  { login: 'jan.kowalski', name: 'Jan Kowalski', title: 'Infrastructure Lead', city: 'Amsterdam', manager: 'marco.rossi', costCentre: 'CC-1000', laptop: 'latitude', monitors: 2, phone: true },
  { login: 'fatima.elamrani', name: 'Fatima El Amrani', title: 'Service Desk Lead', city: 'Amsterdam', manager: 'marco.rossi', costCentre: 'CC-1000', laptop: 'latitude', monitors: 1, phone: true },
  { login: 'noah.schmidt', name: 'Noah Schmidt', title: 'Information Security Officer', city: 'Berlin', manager: 'marco.rossi', costCentre: 'CC-1000', laptop: 'thinkpad', monitors: 1, phone: true },
  { login: 'claire.dubois', name: 'Claire Dubois', title: 'IT Service Management Lead', city: 'Amsterdam', manager: 'marco.rossi', costCentre: 'CC-1000', laptop: 'latitude', monitors: 1, phone: true },
  { login: 'pieter.jansen', name: 'Pieter Jansen', title: 'IT Asset Manager', city: 'Amsterdam', manager: 'marco.rossi', costCentre: 'CC-1000', laptop: 'latitude', monitors: 1, phone: true },
  { login: 'ana.ferreira', name: 'Ana Ferreira', title: 'IT Asset Coordinator', city: 'Lisbon', manager: 'marco.rossi', costCentre: 'CC-1000', laptop: 'thinkpad', monitors: 1 },
  { login: 'admin', name: 'Ilse Bakker', title: 'ITSM Platform Administrator', city: 'Amsterdam', manager: 'marco.rossi', costCentre: 'CC-1000', laptop: 'latitude', monitors: 1 },
  { login: 'oliver.brown', name: 'Oliver Brown', title: 'Cloud Engineer', city: 'Amsterdam', manager: 'jan.kowalski', costCentre: 'CC-1000', laptop: 'latitude', monitors: 2, phone: true },
  { login: 'mehmet.yilmaz', name: 'Mehmet Yilmaz', title: 'Network Engineer', city: 'Amsterdam', manager: 'jan.kowalski', costCentre: 'CC-1000', laptop: 'latitude', monitors: 2, phone: true },
  { login: 'sara.lindqvist', name: 'Sara Lindqvist', title: 'Systems Engineer', city: 'Berlin', manager: 'jan.kowalski', costCentre: 'CC-1000', laptop: 'thinkpad', monitors: 2, phone: true },
  { login: 'daan.visser', name: 'Daan Visser', title: 'Service Desk Analyst', city: 'Amsterdam', manager: 'fatima.elamrani', costCentre: 'CC-1000', laptop: 'latitude', monitors: 1, phone: true, desktop: true },
  { login: 'chloe.martin', name: 'Chloé Martin', title: 'Service Desk Analyst', city: 'Lisbon', manager: 'fatima.elamrani', costCentre: 'CC-1000', laptop: 'thinkpad', monitors: 1 },
  { login: 'katarzyna.nowak', name: 'Katarzyna Nowak', title: 'Security Analyst', city: 'Berlin', manager: 'noah.schmidt', costCentre: 'CC-1000', laptop: 'thinkpad', monitors: 1, phone: true },
  { login: 'hugo.lambert', name: 'Hugo Lambert', title: 'Financial Controller', city: 'Amsterdam', manager: 'sophie.laurent', costCentre: 'CC-3000', laptop: 'latitude', monitors: 1, desktop: true },
  { login: 'elena.popescu', name: 'Elena Popescu', title: 'Accountant', city: 'Lisbon', manager: 'sophie.laurent', costCentre: 'CC-3000', laptop: 'latitude', monitors: 1, desktop: true },
  { login: 'felix.wagner', name: 'Felix Wagner', title: 'Data Engineer', city: 'Berlin', manager: 'lukas.becker', costCentre: 'CC-2000', laptop: 'thinkpad', monitors: 2, desktop: true },
  { login: 'aisha.khan', name: 'Aisha Khan', title: 'Senior Data Engineer', city: 'Berlin', manager: 'lukas.becker', costCentre: 'CC-2000', laptop: 'macbook', monitors: 2, desktop: true },
  { login: 'ruben.costa', name: 'Ruben Costa', title: 'Data Engineer', city: 'Lisbon', manager: 'lukas.becker', costCentre: 'CC-2000', laptop: 'thinkpad', monitors: 1, desktop: true },
  { login: 'liam.oconnor', name: "Liam O'Connor", title: 'Account Executive', city: 'Amsterdam', manager: 'emma.johansson', costCentre: 'CC-4000', laptop: 'macbook', monitors: 1, phone: true },
  { login: 'julia.schneider', name: 'Julia Schneider', title: 'Account Executive', city: 'Berlin', manager: 'emma.johansson', costCentre: 'CC-4000', laptop: 'latitude', monitors: 1, phone: true },
  { login: 'mateo.silva', name: 'Mateo Silva', title: 'Customer Success Manager', city: 'Lisbon', manager: 'emma.johansson', costCentre: 'CC-4000', laptop: 'latitude', monitors: 1, phone: true },
  { login: 'yuki.tanaka', name: 'Yuki Tanaka', title: 'Product Designer', city: 'Amsterdam', manager: 'priya.nair', costCentre: 'CC-5000', laptop: 'macbook', monitors: 2 },
  { login: 'hannah.mueller', name: 'Hannah Müller', title: 'Product Analyst', city: 'Berlin', manager: 'priya.nair', costCentre: 'CC-5000', laptop: 'macbook', monitors: 2 },
];

/** Roles beyond requester (everyone) and approver (managers and members of approving groups). */
const EXTRA_ROLES: Record<string, Role[]> = {
  'pieter.jansen': ['asset_manager'],
  'ana.ferreira': ['asset_manager'],
  'claire.dubois': ['process_owner'],
  admin: ['admin', 'process_owner'],
};

interface GroupSeed {
  name: GroupName;
  email: string;
  manager: string;
  members: string[];
  /** Members decide approval steps, so they hold the approver role. */
  approves: boolean;
}

const GROUPS: GroupSeed[] = [
  { name: 'Change Advisory Board', email: `cab@${DOMAIN}`, manager: 'claire.dubois', approves: true,
    members: ['claire.dubois', 'marco.rossi', 'jan.kowalski', 'noah.schmidt', 'fatima.elamrani', 'lukas.becker'] },
  { name: 'Emergency CAB', email: `ecab@${DOMAIN}`, manager: 'marco.rossi', approves: true,
    members: ['marco.rossi', 'jan.kowalski', 'noah.schmidt'] },
  { name: 'Finance', email: `finance@${DOMAIN}`, manager: 'sophie.laurent', approves: true,
    members: ['sophie.laurent', 'hugo.lambert', 'elena.popescu'] },
  { name: 'Security', email: `security@${DOMAIN}`, manager: 'noah.schmidt', approves: true,
    members: ['noah.schmidt', 'katarzyna.nowak'] },
  { name: 'Service Desk', email: `servicedesk@${DOMAIN}`, manager: 'fatima.elamrani', approves: false,
    members: ['fatima.elamrani', 'daan.visser', 'chloe.martin', 'pieter.jansen', 'ana.ferreira'] },
  { name: 'Infrastructure', email: `infrastructure@${DOMAIN}`, manager: 'jan.kowalski', approves: false,
    members: ['jan.kowalski', 'oliver.brown', 'mehmet.yilmaz', 'sara.lindqvist'] },
];

/** Monthly budgets leave room for a laptop or a server beyond the running costs, not for several servers. */
const COST_CENTRES: { code: CostCentreCode; name: string; owner: string; monthlyBudgetMinor: number }[] = [
  { code: 'CC-1000', name: 'IT Operations', owner: 'marco.rossi', monthlyBudgetMinor: 3_500_000 },
  { code: 'CC-2000', name: 'Data Platform', owner: 'lukas.becker', monthlyBudgetMinor: 1_200_000 },
  { code: 'CC-3000', name: 'Finance & Administration', owner: 'sophie.laurent', monthlyBudgetMinor: 600_000 },
  { code: 'CC-4000', name: 'Sales & Customer Success', owner: 'emma.johansson', monthlyBudgetMinor: 500_000 },
  { code: 'CC-5000', name: 'Analytics Products', owner: 'priya.nair', monthlyBudgetMinor: 1_000_000 },
];

/** Budgets exist for these months relative to the current one. */
const BUDGET_MONTHS = [-3, -2, -1, 0, 1, 2];

// ---------------------------------------------------------------------------------------------
// Suppliers and catalogue
// ---------------------------------------------------------------------------------------------

const VENDORS: { name: string; contactEmail: string; active: boolean }[] = [
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

type ContractKey =
  | 'dell-purchase' | 'dell-lease' | 'lenovo-lease' | 'apple-purchase' | 'hpe-care' | 'cisco-sntc' | 'netapp-support'
  | 'm365-ea' | 'sql-licence' | 'azure-mca' | 'aws-edp' | 'adobe-vip' | 'tableau' | 'jetbrains' | 'atlassian'
  | 'vsphere' | 'rhel' | 'crowdstrike' | 'fabrikam-desk';

interface ContractSeed {
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

const CONTRACTS: ContractSeed[] = [
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
const CONTRACT_PRICES: { contract: ContractKey; model?: ModelKey; product?: ProductKey; unitPriceMinor: number }[] = [
  { contract: 'dell-purchase', model: 'latitude', unitPriceMinor: 128_500 },
  { contract: 'apple-purchase', model: 'macbook', unitPriceMinor: 236_000 },
  { contract: 'adobe-vip', product: 'acrobat', unitPriceMinor: 21_500 },
  { contract: 'm365-ea', product: 'm365', unitPriceMinor: 44_900 },
];

type SerialStyle = 'dell' | 'lenovo' | 'apple' | 'hpe' | 'cisco' | 'meraki' | 'netapp';

interface HardwareModelSeed {
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

const HARDWARE_MODELS: HardwareModelSeed[] = [
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

type ProductKey = 'm365' | 'acrobat' | 'creative-cloud' | 'tableau' | 'jetbrains' | 'jira' | 'sql-server' | 'vsphere' | 'rhel' | 'crowdstrike';

interface SoftwareProductSeed {
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

const SOFTWARE_PRODUCTS: SoftwareProductSeed[] = [
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

// ---------------------------------------------------------------------------------------------
// Licence consumption: Tableau is over-deployed (14 installs on 10 licences), Creative Cloud is
// under-used (6 of 20 seats); every other product is compliant.
// ---------------------------------------------------------------------------------------------

const everyoneBut = (...logins: string[]) => PEOPLE.map((p) => p.login).filter((login) => !logins.includes(login));

const SEATS: { product: ProductKey; people: string[]; reclaimed?: string[] }[] = [
  { product: 'm365', people: everyoneBut() },
  { product: 'acrobat', people: ['anna.devries', 'sophie.laurent', 'hugo.lambert', 'elena.popescu', 'laura.romano', 'emma.johansson', 'liam.oconnor', 'julia.schneider', 'mateo.silva'] },
  { product: 'creative-cloud', people: ['yuki.tanaka', 'hannah.mueller', 'priya.nair', 'emma.johansson', 'liam.oconnor', 'mateo.silva'],
    reclaimed: ['julia.schneider', 'laura.romano'] },
  { product: 'jetbrains', people: ['lukas.becker', 'felix.wagner', 'aisha.khan', 'ruben.costa', 'oliver.brown', 'sara.lindqvist', 'hannah.mueller', 'admin'] },
  { product: 'jira', people: everyoneBut('anna.devries', 'laura.romano', 'elena.popescu') },
];

/** Tableau Desktop is installed on the in-use laptop of each of these people. */
const TABLEAU_LAPTOPS = [
  'lukas.becker', 'felix.wagner', 'aisha.khan', 'ruben.costa', 'priya.nair', 'yuki.tanaka', 'hannah.mueller',
  'emma.johansson', 'liam.oconnor', 'julia.schneider', 'mateo.silva', 'sophie.laurent', 'hugo.lambert', 'elena.popescu',
];

/** Server software, by hostname prefix; units are cores for per-core products. */
const SERVER_INSTALLS: { product: ProductKey; prefixes: string[]; units: number }[] = [
  { product: 'sql-server', prefixes: ['ams-sql'], units: 8 },
  { product: 'vsphere', prefixes: ['ams-esx', 'ber-esx'], units: 32 },
  { product: 'rhel', prefixes: ['ams-ch', 'ams-k8s', 'ams-pg', 'ams-bkp'], units: 1 },
];

/** The endpoint agent runs on every laptop, desktop and server that is still out there. */
const ENDPOINT_AGENT: ProductKey = 'crowdstrike';
const ENDPOINT_CATEGORIES = ['laptop', 'desktop', 'server'];
const DEPLOYED_STATES: AssetState[] = ['in_use', 'in_maintenance', 'missing'];

// ---------------------------------------------------------------------------------------------
// Hardware estate
// ---------------------------------------------------------------------------------------------

const SITE_LOCATIONS: Record<Site, string> = {
  'ams-hq': 'Amsterdam HQ',
  'ams-dc': 'Amsterdam DC (Equinix AM3)',
  ber: 'Berlin office',
  lis: 'Lisbon office',
};
const CITY_SITES: Record<City, Site> = { Amsterdam: 'ams-hq', Berlin: 'ber', Lisbon: 'lis' };

interface AssetPlan {
  key: string;
  model: ModelKey;
  state: AssetState;
  substate?: string;
  assignee?: string;
  site: Site;
  costCentre: CostCentreCode;
  /** Months since purchase, drawn from this range (ignored for leased units). */
  age: [number, number];
  contract?: ContractKey;
  retiredDaysAgo?: number;
}

type PoolEntry = Omit<AssetPlan, 'key'> & { count: number };

/** Everything that is not a person's everyday kit or a live piece of infrastructure. */
const DEVICE_POOL: PoolEntry[] = [
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
const SERVER_IN_MAINTENANCE: AssetPlan = { key: 'ams-sql-07', model: 'dl380', state: 'in_maintenance', site: 'ams-dc', costCentre: 'CC-1000', age: [20, 30] };

/** Live servers: each one is an asset in use and a server CI of the same name. */
const SERVER_GROUPS: { prefix: string; count: number; model: ModelKey; costCentre: CostCentreCode; age: [number, number] }[] = [
  { prefix: 'ams-esx', count: 10, model: 'r760', costCentre: 'CC-1000', age: [6, 40] },
  { prefix: 'ber-esx', count: 2, model: 'r760', costCentre: 'CC-1000', age: [12, 30] },
  { prefix: 'ams-sql', count: 6, model: 'dl380', costCentre: 'CC-1000', age: [20, 44] },
  { prefix: 'ams-pg', count: 2, model: 'dl380', costCentre: 'CC-1000', age: [10, 30] },
  { prefix: 'ams-ch', count: 6, model: 'r760', costCentre: 'CC-5000', age: [6, 24] },
  { prefix: 'ams-k8s', count: 6, model: 'r760', costCentre: 'CC-1000', age: [8, 30] },
  { prefix: 'ams-bkp', count: 2, model: 'dl380', costCentre: 'CC-1000', age: [24, 48] },
];

/** Live network devices; each depends on the devices of its uplink group. */
const NETWORK_GROUPS: { prefix: string; count: number; model: ModelKey; uplink?: string; uplinkAll?: boolean }[] = [
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

const STORAGE_ARRAYS: { name: string; model: ModelKey; uplinks: string[]; age: [number, number] }[] = [
  { name: 'ams-netapp-01', model: 'aff', uplinks: ['ams-dc-leaf-01', 'ams-dc-leaf-02'], age: [12, 30] },
  { name: 'ams-netapp-02', model: 'aff', uplinks: ['ams-dc-leaf-01', 'ams-dc-leaf-02'], age: [12, 30] },
  { name: 'ams-netapp-bkp-01', model: 'fas', uplinks: ['ams-dc-leaf-03', 'ams-dc-leaf-04'], age: [20, 40] },
  { name: 'ber-netapp-01', model: 'fas', uplinks: ['ber-sw-01', 'ber-sw-02'], age: [20, 40] },
];

/** Leased Dell laptops (the rest are bought); every ThinkPad comes from the Lenovo lease pool. */
const DELL_LEASED_LAPTOPS = ['claire.dubois', 'pieter.jansen', 'oliver.brown', 'mehmet.yilmaz', 'daan.visser'];

/** Bought so that their warranty ends 30 to 60 days from now (leased Dell laptops do too). */
const WARRANTY_ENDING_SOON: Record<string, number> = { 'laptop:hugo.lambert': 38, 'ams-esx-03': 52 };

// ---------------------------------------------------------------------------------------------
// Service map
// ---------------------------------------------------------------------------------------------

type Hosting = 'vm' | 'k8s' | 'ch' | 'sql' | 'pg' | 'ec2' | 'rds' | 'elasticache' | 'azure-vm' | 'azure-sql' | 'azure-app';
type CloudKind = 'ec2' | 'rds' | 'elasticache' | 's3' | 'cloudfront' | 'lambda' | 'alb' | 'nlb'
  | 'azure-vm' | 'azure-sql' | 'azure-app' | 'azure-storage' | 'appgw';

/** Physical hosting lands on the live servers with this hostname prefix. */
const PHYSICAL_HOSTS: Partial<Record<Hosting, string>> = { k8s: 'ams-k8s', ch: 'ams-ch', sql: 'ams-sql', pg: 'ams-pg' };

interface Workload {
  name: string;
  on: Hosting;
  /** Instances: VMs, servers or cloud instances it runs on. */
  n?: number;
  /** Instance size of cloud hosting, priced by CLOUD_HOURLY_LIST_MICRO. */
  size?: string;
  /** Databases or cloud resources of the same service it uses. */
  uses?: string[];
  supportGroup?: GroupName;
}

interface ServiceSeed {
  name: string;
  slug: string;
  criticality: 'tier_1' | 'tier_2' | 'tier_3' | 'tier_4';
  costCentre: CostCentreCode;
  owner: string;
  appOwner: string;
  supportGroup: GroupName;
  applications: Workload[];
  databases: Workload[];
  /** Cloud resources besides the workloads' own instances; load balancers among them front the service. */
  cloud: { name: string; kind: CloudKind; dailyMicro: number }[];
  /** On-premises HAProxy load balancers and the VMs they run on. */
  loadBalancers: { name: string; vms: string[] }[];
}

const SERVICES: ServiceSeed[] = [
  {
    name: 'Northwind Insights Platform', slug: 'insights', criticality: 'tier_1', costCentre: 'CC-5000',
    owner: 'priya.nair', appOwner: 'hannah.mueller', supportGroup: 'Infrastructure',
    applications: [
      { name: 'insights-web', on: 'vm', n: 3, uses: ['cdn-insights'] },
      { name: 'insights-api', on: 'vm', n: 3, uses: ['insights-postgres', 'insights-redis'] },
      { name: 'query-engine', on: 'ch', n: 6, uses: ['insights-clickhouse'] },
      { name: 'report-scheduler', on: 'k8s', n: 2, uses: ['insights-postgres'] },
      { name: 'auth-service', on: 'vm', n: 2, uses: ['identity-postgres'], supportGroup: 'Security' },
      { name: 'notification-service', on: 'ec2', n: 2, size: 't3.medium', uses: ['insights-redis'] },
      { name: 'export-service', on: 'ec2', n: 2, size: 'm6i.large', uses: ['nw-insights-exports'] },
      { name: 'admin-console', on: 'vm', n: 1, uses: ['insights-postgres'] },
      { name: 'usage-metering', on: 'k8s', n: 2, uses: ['metering-db'] },
      { name: 'search-service', on: 'vm', n: 2, uses: ['search-elasticsearch'] },
    ],
    databases: [
      { name: 'insights-postgres', on: 'pg', n: 1, uses: ['nw-insights-backups'] },
      { name: 'insights-clickhouse', on: 'ch', n: 3 },
      { name: 'insights-redis', on: 'vm', n: 2 },
      { name: 'identity-postgres', on: 'pg', n: 1 },
      { name: 'metering-db', on: 'rds', size: 'db.r6g.large' },
      { name: 'search-elasticsearch', on: 'vm', n: 3 },
    ],
    cloud: [
      { name: 'nw-insights-exports', kind: 's3', dailyMicro: 3_400_000 },
      { name: 'nw-insights-backups', kind: 's3', dailyMicro: 6_100_000 },
      { name: 'cdn-insights', kind: 'cloudfront', dailyMicro: 9_800_000 },
      { name: 'alb-insights-exports', kind: 'alb', dailyMicro: 1_900_000 },
    ],
    loadBalancers: [
      { name: 'lb-insights-web', vms: ['ams-haproxy-01', 'ams-haproxy-02'] },
      { name: 'lb-insights-api', vms: ['ams-haproxy-01', 'ams-haproxy-02'] },
    ],
  },
  {
    name: 'Customer Data Pipeline', slug: 'pipeline', criticality: 'tier_2', costCentre: 'CC-2000',
    owner: 'lukas.becker', appOwner: 'aisha.khan', supportGroup: 'Infrastructure',
    applications: [
      { name: 'ingest-gateway', on: 'ec2', n: 3, size: 'c6i.xlarge', uses: ['nw-raw-landing', 'ingest-authorizer'] },
      { name: 'kafka-connect', on: 'k8s', n: 3, uses: ['kafka-cluster'] },
      { name: 'stream-processor', on: 'k8s', n: 3, uses: ['kafka-cluster', 'nw-lakehouse'] },
      { name: 'batch-etl', on: 'ec2', n: 2, size: 'r6i.xlarge', uses: ['nw-lakehouse', 'pipeline-metadata-db'] },
      { name: 'airflow', on: 'vm', n: 2, uses: ['airflow-postgres'] },
      { name: 'data-quality-monitor', on: 'vm', n: 1, uses: ['pipeline-metadata-db'] },
      { name: 'schema-registry', on: 'k8s', n: 2, uses: ['kafka-cluster'] },
      { name: 'connector-hub', on: 'ec2', n: 2, size: 'm6i.large', uses: ['connector-db'] },
      { name: 'lakehouse-catalog', on: 'vm', n: 2, uses: ['catalog-postgres', 'nw-lakehouse'] },
      { name: 'feature-store', on: 'ec2', n: 1, size: 'r6i.xlarge', uses: ['feature-redis'] },
    ],
    databases: [
      { name: 'kafka-cluster', on: 'vm', n: 3 },
      { name: 'pipeline-metadata-db', on: 'rds', size: 'db.t4g.medium' },
      { name: 'airflow-postgres', on: 'pg', n: 1 },
      { name: 'connector-db', on: 'rds', size: 'db.t4g.medium' },
      { name: 'catalog-postgres', on: 'vm', n: 1 },
      { name: 'feature-redis', on: 'elasticache', size: 'cache.r6g.large' },
    ],
    cloud: [
      { name: 'nw-raw-landing', kind: 's3', dailyMicro: 4_700_000 },
      { name: 'nw-lakehouse', kind: 's3', dailyMicro: 12_300_000 },
      { name: 'ingest-authorizer', kind: 'lambda', dailyMicro: 850_000 },
      { name: 'nlb-ingest', kind: 'nlb', dailyMicro: 1_400_000 },
    ],
    loadBalancers: [],
  },
  {
    name: 'Finance & Billing', slug: 'finance', criticality: 'tier_2', costCentre: 'CC-3000',
    owner: 'sophie.laurent', appOwner: 'hugo.lambert', supportGroup: 'Infrastructure',
    applications: [
      { name: 'erp-finance', on: 'vm', n: 2, uses: ['erp-sql'] },
      { name: 'invoicing', on: 'azure-app', size: 'P1v3', uses: ['billing-db'] },
      { name: 'payment-connector', on: 'azure-app', size: 'P1v3', uses: ['billing-db'] },
      { name: 'expense-management', on: 'azure-app', size: 'P1v3', uses: ['expense-db'] },
      { name: 'payroll-interface', on: 'vm', n: 1, uses: ['erp-sql'] },
      { name: 'financial-reporting', on: 'vm', n: 2, uses: ['finance-dwh', 'stnwfinancearchive'] },
      { name: 'tax-engine', on: 'vm', n: 1, uses: ['erp-sql'] },
      { name: 'procurement-portal', on: 'azure-app', size: 'P1v3', uses: ['erp-sql'] },
      { name: 'budget-planner', on: 'vm', n: 1, uses: ['finance-dwh'] },
      { name: 'legacy-reporting', on: 'vm', n: 1, uses: ['finance-dwh'] },
    ],
    databases: [
      { name: 'erp-sql', on: 'sql', n: 2 },
      { name: 'finance-dwh', on: 'sql', n: 2 },
      { name: 'billing-db', on: 'azure-sql', size: 'GP_Gen5_2' },
      { name: 'expense-db', on: 'azure-sql', size: 'GP_S_Gen5_1' },
    ],
    cloud: [
      { name: 'stnwfinancearchive', kind: 'azure-storage', dailyMicro: 1_600_000 },
      { name: 'agw-finance', kind: 'appgw', dailyMicro: 5_900_000 },
    ],
    loadBalancers: [{ name: 'lb-erp', vms: ['ams-haproxy-03', 'ams-haproxy-04'] }],
  },
  {
    name: 'Sales CRM & Reporting', slug: 'sales', criticality: 'tier_3', costCentre: 'CC-4000',
    owner: 'emma.johansson', appOwner: 'mateo.silva', supportGroup: 'Service Desk',
    applications: [
      { name: 'crm', on: 'azure-vm', n: 2, size: 'Standard_D4s_v5', uses: ['crm-db'] },
      { name: 'sales-dashboards', on: 'vm', n: 1, uses: ['sales-mart'] },
      { name: 'quote-generator', on: 'azure-app', size: 'P1v3', uses: ['crm-db'] },
      { name: 'lead-scoring', on: 'k8s', n: 1, uses: ['sales-mart'] },
      { name: 'email-campaigns', on: 'azure-app', size: 'P1v3', uses: ['crm-db'] },
      { name: 'contract-repository', on: 'vm', n: 1, uses: ['contracts-db'] },
      { name: 'partner-portal', on: 'azure-app', size: 'P1v3', uses: ['partner-db'] },
      { name: 'customer-success-hub', on: 'vm', n: 1, uses: ['crm-db'] },
      { name: 'renewal-tracker', on: 'vm', n: 1, uses: ['sales-mart'] },
      { name: 'forecast-model', on: 'k8s', n: 1, uses: ['sales-mart'] },
    ],
    databases: [
      { name: 'crm-db', on: 'azure-sql', size: 'GP_Gen5_2' },
      { name: 'sales-mart', on: 'sql', n: 1 },
      { name: 'contracts-db', on: 'vm', n: 1 },
      { name: 'partner-db', on: 'azure-sql', size: 'GP_S_Gen5_1' },
    ],
    cloud: [{ name: 'agw-sales', kind: 'appgw', dailyMicro: 5_900_000 }],
    loadBalancers: [],
  },
  {
    name: 'Internal Collaboration', slug: 'collaboration', criticality: 'tier_4', costCentre: 'CC-1000',
    owner: 'marco.rossi', appOwner: 'fatima.elamrani', supportGroup: 'Service Desk',
    applications: [
      { name: 'intranet', on: 'vm', n: 2, uses: ['intranet-db'] },
      { name: 'wiki', on: 'vm', n: 1, uses: ['wiki-db'] },
      { name: 'file-share', on: 'vm', n: 2 },
      { name: 'chat-bridge', on: 'azure-vm', n: 1, size: 'Standard_D2s_v5' },
      { name: 'meeting-room-booking', on: 'vm', n: 1, uses: ['intranet-db'] },
      { name: 'service-portal', on: 'vm', n: 2, uses: ['itsm-db'] },
      { name: 'print-service', on: 'vm', n: 2 },
      { name: 'hr-portal', on: 'azure-app', size: 'P1v3', uses: ['hr-db'] },
      { name: 'learning-portal', on: 'azure-app', size: 'P1v3', uses: ['hr-db'] },
      { name: 'onboarding-tracker', on: 'vm', n: 1, uses: ['itsm-db'] },
    ],
    databases: [
      { name: 'intranet-db', on: 'vm', n: 1 },
      { name: 'wiki-db', on: 'vm', n: 1 },
      { name: 'itsm-db', on: 'pg', n: 1 },
      { name: 'hr-db', on: 'azure-sql', size: 'GP_S_Gen5_1' },
    ],
    cloud: [],
    loadBalancers: [{ name: 'lb-intranet', vms: ['ams-haproxy-03', 'ams-haproxy-04'] }],
  },
];

/** Shared infrastructure VMs (IT Operations); names starting ber- run in Berlin. */
const INFRASTRUCTURE_VMS: { name: string; environment?: string }[] = [
  ...['ams-haproxy-01', 'ams-haproxy-02', 'ams-haproxy-03', 'ams-haproxy-04'].map((name) => ({ name })),
  ...['ams-ad-01', 'ams-ad-02', 'ber-ad-01', 'ams-vcenter-01', 'ams-monitoring-01', 'ams-monitoring-02'].map((name) => ({ name })),
  ...['ams-backup-proxy-01', 'ams-jump-01', 'ams-log-01', 'ams-log-02', 'ams-patch-01', 'ams-pki-01'].map((name) => ({ name })),
  ...['ber-fileserver-01', 'legacy-ftp-01', 'ams-artifactory-01'].map((name) => ({ name })),
  ...['ams-ci-runner-01', 'ams-ci-runner-02', 'ams-ci-runner-03', 'ams-ci-runner-04'].map((name) => ({ name, environment: 'development' })),
  ...['dev-sandbox-01', 'dev-sandbox-02', 'dev-sandbox-03', 'dev-sandbox-04', 'dev-sandbox-05', 'dev-sandbox-06']
    .map((name) => ({ name, environment: 'development' })),
];

/** CIs that are not operational, by name; everything else is. */
const CI_STATUS: Record<string, CiStatus> = {
  'legacy-reporting': 'non_operational',
  'legacy-reporting-01': 'non_operational',
  'legacy-ftp-01': 'non_operational',
  'dev-sandbox-03': 'non_operational',
  'ams-hq-ap-04': 'non_operational',
  'print-service-02': 'repair_in_progress',
};

const AWS_ACCOUNT = '418295730164';
const AZURE_SUBSCRIPTION = 'c7b3e2a1-5d4f-4e6a-9b8c-2f1e0d3c4b5a';
/** Negotiated discount on AWS list prices under the Enterprise Discount Program. */
const AWS_DISCOUNT_PERCENT = 6;

const CLOUD_KINDS: Record<CloudKind, {
  provider: 'AWS' | 'Azure'; serviceName: string; serviceCategory: string; resourceType: string; ciClass: 'cloud_resource' | 'load_balancer';
}> = {
  ec2: { provider: 'AWS', serviceName: 'Amazon Elastic Compute Cloud', serviceCategory: 'Compute', resourceType: 'Instance', ciClass: 'cloud_resource' },
  rds: { provider: 'AWS', serviceName: 'Amazon Relational Database Service', serviceCategory: 'Databases', resourceType: 'DB Instance', ciClass: 'cloud_resource' },
  elasticache: { provider: 'AWS', serviceName: 'Amazon ElastiCache', serviceCategory: 'Databases', resourceType: 'Cache Cluster', ciClass: 'cloud_resource' },
  s3: { provider: 'AWS', serviceName: 'Amazon Simple Storage Service', serviceCategory: 'Storage', resourceType: 'Bucket', ciClass: 'cloud_resource' },
  cloudfront: { provider: 'AWS', serviceName: 'Amazon CloudFront', serviceCategory: 'Networking', resourceType: 'Distribution', ciClass: 'cloud_resource' },
  lambda: { provider: 'AWS', serviceName: 'AWS Lambda', serviceCategory: 'Compute', resourceType: 'Function', ciClass: 'cloud_resource' },
  alb: { provider: 'AWS', serviceName: 'Elastic Load Balancing', serviceCategory: 'Networking', resourceType: 'Application Load Balancer', ciClass: 'load_balancer' },
  nlb: { provider: 'AWS', serviceName: 'Elastic Load Balancing', serviceCategory: 'Networking', resourceType: 'Network Load Balancer', ciClass: 'load_balancer' },
  'azure-vm': { provider: 'Azure', serviceName: 'Virtual Machines', serviceCategory: 'Compute', resourceType: 'Virtual machine', ciClass: 'cloud_resource' },
  'azure-sql': { provider: 'Azure', serviceName: 'Azure SQL Database', serviceCategory: 'Databases', resourceType: 'SQL database', ciClass: 'cloud_resource' },
  'azure-app': { provider: 'Azure', serviceName: 'Azure App Service', serviceCategory: 'Compute', resourceType: 'App Service', ciClass: 'cloud_resource' },
  'azure-storage': { provider: 'Azure', serviceName: 'Storage', serviceCategory: 'Storage', resourceType: 'Storage account', ciClass: 'cloud_resource' },
  appgw: { provider: 'Azure', serviceName: 'Application Gateway', serviceCategory: 'Networking', resourceType: 'Application gateway', ciClass: 'load_balancer' },
};

/** List price per hour in millionths of a euro, by instance size. */
const CLOUD_HOURLY_LIST_MICRO: Record<string, number> = {
  't3.medium': 48_100,
  'm6i.large': 115_200,
  'c6i.xlarge': 194_400,
  'r6i.xlarge': 304_300,
  'db.t4g.medium': 80_200,
  'db.r6g.large': 301_500,
  'cache.r6g.large': 249_800,
  Standard_D2s_v5: 110_400,
  Standard_D4s_v5: 220_800,
  P1v3: 169_700,
  GP_Gen5_2: 505_300,
  GP_S_Gen5_1: 126_400,
};

// ---------------------------------------------------------------------------------------------
// Process configuration
// ---------------------------------------------------------------------------------------------

const APPROVAL_RULES: {
  process: 'change' | 'procurement'; stepOrder: number; name: string; appliesWhen: Record<string, unknown>;
  approverKind: 'manager' | 'cost_centre_owner' | 'service_owner' | 'group'; group?: GroupName;
  policy: 'any' | 'all' | 'quorum'; quorum?: number; onExpiry?: 'reject' | 'escalate';
}[] = [
  { process: 'change', stepOrder: 1, name: 'Manager', appliesWhen: {}, approverKind: 'manager', policy: 'any' },
  { process: 'change', stepOrder: 2, name: 'Service owners', appliesWhen: { minCriticality: 'tier_1' }, approverKind: 'service_owner', policy: 'all' },
  { process: 'change', stepOrder: 3, name: 'CAB', appliesWhen: { minRiskLevel: 'high' }, approverKind: 'group', group: 'Change Advisory Board', policy: 'quorum', quorum: 2 },
  { process: 'change', stepOrder: 3, name: 'Emergency CAB', appliesWhen: { changeType: 'emergency' }, approverKind: 'group', group: 'Emergency CAB', policy: 'any', onExpiry: 'escalate' },
  { process: 'change', stepOrder: 4, name: 'Finance', appliesWhen: { minCostMinor: 500_000 }, approverKind: 'group', group: 'Finance', policy: 'any' },
  { process: 'procurement', stepOrder: 1, name: 'Manager', appliesWhen: {}, approverKind: 'manager', policy: 'any' },
  { process: 'procurement', stepOrder: 2, name: 'Cost centre owner', appliesWhen: { minCostMinor: 100_000 }, approverKind: 'cost_centre_owner', policy: 'any' },
  { process: 'procurement', stepOrder: 3, name: 'Finance', appliesWhen: { anyOf: [{ minCostMinor: 1_000_000 }, { overBudget: true }] }, approverKind: 'group', group: 'Finance', policy: 'any' },
  { process: 'procurement', stepOrder: 4, name: 'Security', appliesWhen: { anyOf: [{ newVendor: true }, { offCatalogue: true }] }, approverKind: 'group', group: 'Security', policy: 'any' },
];

const CHANGE_MODELS: { name: string; description: string; riskCeiling: 'low' | 'moderate' }[] = [
  { name: 'Add memory to a server', riskCeiling: 'moderate',
    description: 'Install vendor-approved DIMMs in a rack server inside a maintenance window, after its workloads have been moved off; verify with the vendor diagnostics.' },
  { name: 'Replace a failed laptop', riskCeiling: 'low',
    description: 'Swap a user\'s failed laptop for an available one from stock, restore the profile, and send the failed unit for repair or disposal.' },
  { name: 'Patch an application server', riskCeiling: 'low',
    description: 'Apply the monthly operating-system security patches to one application server of a redundant pair and reboot it, one node at a time.' },
];

/** How long a process may sit in a state before it breaches its SLA, in minutes. */
const SLA_TARGETS: { process: 'change' | 'procurement' | 'asset_lifecycle'; state: string; minutes: number }[] = [
  { process: 'change', state: 'new', minutes: 60 },
  { process: 'change', state: 'assess', minutes: 4 * 60 },
  { process: 'change', state: 'authorize', minutes: 3 * 24 * 60 },
  { process: 'change', state: 'review', minutes: 5 * 24 * 60 },
  { process: 'procurement', state: 'budget_check', minutes: 3 * 24 * 60 },
  { process: 'procurement', state: 'authorize', minutes: 5 * 24 * 60 },
  { process: 'procurement', state: 'ordering', minutes: 21 * 24 * 60 },
  { process: 'procurement', state: 'partially_received', minutes: 21 * 24 * 60 },
  { process: 'asset_lifecycle', state: 'in_maintenance', minutes: 14 * 24 * 60 },
  { process: 'asset_lifecycle', state: 'in_transit', minutes: 7 * 24 * 60 },
  { process: 'asset_lifecycle', state: 'missing', minutes: 3 * 24 * 60 },
];

const MAINTENANCE_WEEKS = 8;

// ---------------------------------------------------------------------------------------------
// Helpers: PRNG, dates, money
// ---------------------------------------------------------------------------------------------

function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Random {
  /** An integer from min to max, both included. */
  int(min: number, max: number): number;
  chars(alphabet: string, length: number): string;
}

function createRandom(seed: number): Random {
  const next = mulberry32(seed);
  const int = (min: number, max: number) => min + Math.floor(next() * (max - min + 1));
  return { int, chars: (alphabet, length) => Array.from({ length }, () => alphabet[int(0, alphabet.length - 1)]).join('') };
}

const DIGITS = '0123456789';
const UPPER_ALNUM = 'ABCDEFGHJKLMNPQRSTUVWXYZ0123456789';
const HEX = '0123456789abcdef';
const DAY_MS = 86_400_000;

function startOfUtcDay(date: Date): Date {
  return new Date(Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), date.getUTCDate()));
}

function addDays(date: Date, days: number): Date {
  return new Date(date.getTime() + days * DAY_MS);
}

/** Same day of the month, clamped to the month's last day. */
function addMonths(date: Date, months: number): Date {
  const year = date.getUTCFullYear();
  const month = date.getUTCMonth() + months;
  const lastDay = new Date(Date.UTC(year, month + 1, 0)).getUTCDate();
  return new Date(Date.UTC(year, month, Math.min(date.getUTCDate(), lastDay)));
}

function monthStart(date: Date, offset = 0): Date {
  return new Date(Date.UTC(date.getUTCFullYear(), date.getUTCMonth() + offset, 1));
}

function isoDate(date: Date): string {
  return date.toISOString().slice(0, 10);
}

const pad2 = (n: number) => String(n).padStart(2, '0');

/** Integer division rounding down; exact for safe integers. */
function divideDown(numerator: number, denominator: number): number {
  if (!Number.isSafeInteger(numerator)) throw new RangeError(`${numerator} is not a safe integer`);
  return (numerator - (numerator % denominator)) / denominator;
}

const percentOf = (amount: number, percent: number) => divideDown(amount * percent, 100);

/** Millionths of a euro as the decimal string the numeric(20,6) cost columns take. */
function formatMicro(micro: number): string {
  if (!Number.isSafeInteger(micro) || micro < 0) throw new RangeError(`cannot format ${micro} micro-units`);
  const fraction = micro % 1_000_000;
  return `${(micro - fraction) / 1_000_000}.${String(fraction).padStart(6, '0')}`;
}

const MICRO_PER_MINOR = 10_000;

async function insertRows(trx: Knex.Transaction, table: string, rows: Row[]): Promise<void> {
  for (let i = 0; i < rows.length; i += INSERT_CHUNK) await trx(table).insert(rows.slice(i, i + INSERT_CHUNK));
}

function required<K, V>(map: Map<K, V>, key: K): V {
  const value = map.get(key);
  if (value === undefined) throw new Error(`demo data refers to unknown ${String(key)}`);
  return value;
}

const hostnames = (prefix: string, count: number) => Array.from({ length: count }, (_, i) => `${prefix}-${pad2(i + 1)}`);
const emailOf = (login: string) => `${login}@${DOMAIN}`;

// ---------------------------------------------------------------------------------------------
// Loading
// ---------------------------------------------------------------------------------------------

/** The demo people with their roles and deterministic API keys; the same whether or not they are loaded. */
export function demoPeople(): DemoPerson[] {
  const managers = new Set(PEOPLE.map((p) => p.manager));
  const groupApprovers = new Set(GROUPS.filter((g) => g.approves).flatMap((g) => g.members));
  const order: Role[] = ['requester', 'approver', 'asset_manager', 'process_owner', 'admin'];
  return PEOPLE.map((p) => {
    const roles = new Set<Role>(['requester', ...(EXTRA_ROLES[p.login] ?? [])]);
    if (managers.has(p.login) || groupApprovers.has(p.login)) roles.add('approver');
    return {
      name: p.name,
      email: emailOf(p.login),
      roles: order.filter((role) => roles.has(role)),
      apiKey: `af_demo_${p.login.replace(/\./g, '_')}`,
    };
  });
}

export async function loadDemoData(
  db: Knex,
  log: (line: string) => void = () => {},
  now: Date = new Date(),
): Promise<{ loaded: boolean; people: DemoPerson[] }> {
  const people = demoPeople();
  const loaded = await db.transaction(async (trx) => {
    await trx.raw('SELECT pg_advisory_xact_lock(?::bigint)', [ADVISORY_LOCK_KEY]);
    if (await trx('people').where({ email: MARKER_EMAIL }).first('id')) return false;
    await insertDemoData(trx, people, now, log);
    return true;
  });
  if (!loaded) log(`demo: ${MARKER_EMAIL} exists, so the demo data is already there; nothing loaded`);
  return { loaded, people };
}

interface Context {
  today: Date;
  person: Map<string, string>;
  group: Map<GroupName, string>;
  costCentre: Map<CostCentreCode, string>;
  vendor: Map<string, string>;
  contract: Map<ContractKey, { id: string; seed: ContractSeed; startsOn: Date; endsOn: Date }>;
  model: Map<ModelKey, { id: string; seed: HardwareModelSeed }>;
  product: Map<ProductKey, { id: string; seed: SoftwareProductSeed }>;
}

async function insertDemoData(trx: Knex.Transaction, people: DemoPerson[], now: Date, log: (line: string) => void): Promise<void> {
  const today = startOfUtcDay(now);
  const ctx: Context = {
    today, person: new Map(), group: new Map(), costCentre: new Map(), vendor: new Map(), contract: new Map(), model: new Map(), product: new Map(),
  };
  // One PRNG stream per section, so a row added to one section does not reshuffle the others.
  await insertOrganisation(trx, ctx, people);
  log(`demo: ${PEOPLE.length} people, ${GROUPS.length} groups`);
  await insertCostCentres(trx, ctx, createRandom(SEED + 1));
  log(`demo: ${COST_CENTRES.length} cost centres with ${BUDGET_MONTHS.length} monthly budgets each`);
  await insertSuppliersAndCatalogue(trx, ctx);
  log(`demo: ${VENDORS.length} vendors, ${CONTRACTS.length} contracts (${CONTRACT_PRICES.length} negotiated prices), ${HARDWARE_MODELS.length} hardware models, ${SOFTWARE_PRODUCTS.length} software products`);
  const assets = await insertAssets(trx, ctx, createRandom(SEED + 2));
  log(`demo: ${assets.size} assets`);
  const serviceMap = await insertServiceMap(trx, ctx, assets, createRandom(SEED + 3));
  log(`demo: ${serviceMap.ciCount} configuration items, ${serviceMap.relationshipCount} relationships`);
  const licences = await insertLicences(trx, ctx, assets, createRandom(SEED + 4));
  log(`demo: ${licences.entitlements} entitlements, ${licences.consumptions} consumptions`);
  const costRows = await insertCostRecords(trx, ctx, assets, serviceMap, createRandom(SEED + 5));
  log(`demo: ${costRows} cost records`);
  await insertProcessConfiguration(trx, ctx, now);
  log(`demo: ${APPROVAL_RULES.length} approval rules, ${CHANGE_MODELS.length} change models, ${SLA_TARGETS.length} SLA targets, ${MAINTENANCE_WEEKS + 1} schedule windows`);
}

async function insertOrganisation(trx: Knex.Transaction, ctx: Context, people: DemoPerson[]): Promise<void> {
  for (const p of PEOPLE) ctx.person.set(p.login, randomUUID());
  const apiKeys = new Map(people.map((p) => [p.email, p.apiKey]));
  await insertRows(trx, 'people', PEOPLE.map((p) => ({
    id: required(ctx.person, p.login),
    email: emailOf(p.login),
    name: p.name,
    title: p.title,
    location: p.city,
    manager_id: p.manager ? required(ctx.person, p.manager) : null,
    api_key_hash: hashApiKey(required(apiKeys, emailOf(p.login))),
  })));
  await insertRows(trx, 'person_roles', people.flatMap((p, i) =>
    p.roles.map((role) => ({ person_id: required(ctx.person, PEOPLE[i].login), role }))));

  for (const g of GROUPS) ctx.group.set(g.name, randomUUID());
  await insertRows(trx, 'groups', GROUPS.map((g) => ({
    id: required(ctx.group, g.name), name: g.name, email: g.email, manager_id: required(ctx.person, g.manager),
  })));
  await insertRows(trx, 'group_members', GROUPS.flatMap((g) =>
    g.members.map((login) => ({ group_id: required(ctx.group, g.name), person_id: required(ctx.person, login) }))));
}

async function insertCostCentres(trx: Knex.Transaction, ctx: Context, random: Random): Promise<void> {
  for (const cc of COST_CENTRES) ctx.costCentre.set(cc.code, randomUUID());
  await insertRows(trx, 'cost_centres', COST_CENTRES.map((cc) => ({
    id: required(ctx.costCentre, cc.code), code: cc.code, name: cc.name, owner_id: required(ctx.person, cc.owner),
  })));
  // Budgets move a few percent from month to month, in whole hundreds of euros.
  await insertRows(trx, 'budgets', COST_CENTRES.flatMap((cc) => BUDGET_MONTHS.map((offset) => {
    const amount = percentOf(cc.monthlyBudgetMinor, random.int(96, 104));
    return {
      cost_centre_id: required(ctx.costCentre, cc.code),
      period_start: isoDate(monthStart(ctx.today, offset)),
      amount_minor: amount - (amount % 10_000),
      currency: CURRENCY,
    };
  })));
}

async function insertSuppliersAndCatalogue(trx: Knex.Transaction, ctx: Context): Promise<void> {
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

// ---------------------------------------------------------------------------------------------
// Assets
// ---------------------------------------------------------------------------------------------

interface AssetRecord {
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
    const site = CITY_SITES[p.city];
    const kit = { state: 'in_use' as const, assignee: p.login, site, costCentre: p.costCentre };
    plans.push({ key: `laptop:${p.login}`, model: p.laptop, age: [2, 34], ...kit,
      ...(DELL_LEASED_LAPTOPS.includes(p.login) ? { contract: 'dell-lease' as const } : {}) });
    if (p.desktop) plans.push({ key: `desktop:${p.login}`, model: 'optiplex', age: [6, 40], ...kit });
    for (let i = 1; i <= p.monitors; i++) plans.push({ key: `monitor:${p.login}:${i}`, model: 'ultrasharp', age: [3, 48], ...kit });
    if (p.phone) plans.push({ key: `phone:${p.login}`, model: 'iphone', age: [2, 20], ...kit });
  }
  for (const { count, ...entry } of DEVICE_POOL) {
    for (let i = 1; i <= count; i++) {
      plans.push({ ...entry, key: `${entry.model}:${entry.state}${entry.substate ? `/${entry.substate}` : ''}:${i}` });
    }
  }
  plans.push(SERVER_IN_MAINTENANCE);
  for (const g of SERVER_GROUPS) {
    for (const name of hostnames(g.prefix, g.count)) {
      plans.push({ key: name, model: g.model, state: 'in_use', site: siteOfHostname(name), costCentre: g.costCentre, age: g.age });
    }
  }
  for (const g of NETWORK_GROUPS) {
    for (const name of hostnames(g.prefix, g.count)) {
      plans.push({ key: name, model: g.model, state: 'in_use', site: siteOfHostname(name), costCentre: 'CC-1000', age: [10, 56] });
    }
  }
  for (const s of STORAGE_ARRAYS) {
    plans.push({ key: s.name, model: s.model, state: 'in_use', site: siteOfHostname(s.name), costCentre: 'CC-1000', age: s.age });
  }
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

async function insertAssets(trx: Knex.Transaction, ctx: Context, random: Random): Promise<Map<string, AssetRecord>> {
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
    const managedBy = plan.site === 'lis' ? 'ana.ferreira' : 'pieter.jansen';
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
          method: model.category === 'server' ? 'Physical destruction of drives (shredding)' : 'NIST SP 800-88 purge (cryptographic erase)',
          certificateId: `WIPE-${retiredAt.getUTCFullYear()}-${random.chars(DIGITS, 5)}`,
        })
        : null,
    });
  }
  await insertRows(trx, 'assets', rows);
  return records;
}

// ---------------------------------------------------------------------------------------------
// Configuration items
// ---------------------------------------------------------------------------------------------

interface CloudResource {
  ciId: string;
  name: string;
  kind: CloudKind;
  resourceId: string;
  hourlyListMicro: number | null;
  dailyListMicro: number | null;
  serviceName: string;
  costCentre: CostCentreCode;
}

interface ServiceMapResult {
  ciCount: number;
  relationshipCount: number;
  cloud: CloudResource[];
  /** CI id by the asset key (hostname) behind it. */
  ciOfAsset: Map<string, string>;
}

function cloudResourceId(kind: CloudKind, name: string, slug: string, random: Random): string {
  const arn = (service: string, rest: string) => `arn:aws:${service}:eu-central-1:${AWS_ACCOUNT}:${rest}`;
  const azure = (type: string) => `/subscriptions/${AZURE_SUBSCRIPTION}/resourcegroups/rg-${slug}-prod/providers/${type}/${name}`;
  switch (kind) {
    case 'ec2': return arn('ec2', `instance/i-0${random.chars(HEX, 16)}`);
    case 'rds': return arn('rds', `db:${name}`);
    case 'elasticache': return arn('elasticache', `cluster:${name}`);
    case 's3': return `arn:aws:s3:::${name}`;
    case 'cloudfront': return `arn:aws:cloudfront::${AWS_ACCOUNT}:distribution/E${random.chars(UPPER_ALNUM, 13)}`;
    case 'lambda': return arn('lambda', `function:${name}`);
    case 'alb': return arn('elasticloadbalancing', `loadbalancer/app/${name}/${random.chars(HEX, 16)}`);
    case 'nlb': return arn('elasticloadbalancing', `loadbalancer/net/${name}/${random.chars(HEX, 16)}`);
    case 'azure-vm': return azure('microsoft.compute/virtualmachines');
    case 'azure-sql': return azure(`microsoft.sql/servers/sql-northwind-${slug}/databases`);
    case 'azure-app': return azure('microsoft.web/sites');
    case 'azure-storage': return azure('microsoft.storage/storageaccounts');
    case 'appgw': return azure('microsoft.network/applicationgateways');
  }
}

/** Cloud instances a workload runs on are named after it, as the providers' consoles would show them. */
function cloudInstanceNames(workload: Workload, kind: CloudKind): string[] {
  const count = workload.n ?? 1;
  switch (kind) {
    case 'azure-vm': return hostnames(`vm-${workload.name}`, count);
    case 'azure-app': return [`app-${workload.name}`];
    case 'azure-sql': return [`sqldb-${workload.name}`];
    case 'ec2': return hostnames(workload.name, count);
    default: return [`nw-${workload.name}`];
  }
}

async function insertServiceMap(
  trx: Knex.Transaction, ctx: Context, assets: Map<string, AssetRecord>, random: Random,
): Promise<ServiceMapResult> {
  const cis: Row[] = [];
  const ciByName = new Map<string, string>();
  const relationships: Row[] = [];
  const edges = new Set<string>();
  const cloud: CloudResource[] = [];
  const ciOfAsset = new Map<string, string>();
  const infra = required(ctx.group, 'Infrastructure');

  const addCi = (fields: {
    name: string; ciClass: string; owner: string; supportGroup: string; costCentre: CostCentreCode;
    criticality?: string; assetKey?: string; environment?: string;
  }): string => {
    if (ciByName.has(fields.name)) throw new Error(`demo CI ${fields.name} is defined twice`);
    const id = randomUUID();
    ciByName.set(fields.name, id);
    if (fields.assetKey) ciOfAsset.set(fields.assetKey, id);
    cis.push({
      id,
      name: fields.name,
      ci_class: fields.ciClass,
      operational_status: CI_STATUS[fields.name] ?? 'operational',
      criticality: fields.criticality ?? null,
      owner_id: required(ctx.person, fields.owner),
      support_group_id: fields.supportGroup,
      asset_id: fields.assetKey ? required(assets, fields.assetKey).id : null,
      cost_centre_id: required(ctx.costCentre, fields.costCentre),
      environment: fields.environment ?? 'production',
    });
    return id;
  };
  const link = (from: string, type: 'depends_on' | 'runs_on' | 'hosted_on' | 'uses', to: string) => {
    const key = `${from} ${type} ${to}`;
    if (edges.has(key)) return;
    edges.add(key);
    relationships.push({ from_ci_id: required(ciByName, from), to_ci_id: required(ciByName, to), type });
  };

  // Physical layer: network first, then storage and servers that depend on it.
  const networkByPrefix = new Map(NETWORK_GROUPS.map((g) => [g.prefix, hostnames(g.prefix, g.count)]));
  for (const g of NETWORK_GROUPS) {
    required(networkByPrefix, g.prefix).forEach((name, i) => {
      addCi({ name, ciClass: 'network_device', owner: 'mehmet.yilmaz', supportGroup: infra, costCentre: 'CC-1000', assetKey: name });
      if (!g.uplink) return;
      const uplinks = required(networkByPrefix, g.uplink);
      for (const uplink of g.uplinkAll ? uplinks : [uplinks[i % uplinks.length]]) link(name, 'depends_on', uplink);
    });
  }
  for (const s of STORAGE_ARRAYS) {
    addCi({ name: s.name, ciClass: 'storage', owner: 'sara.lindqvist', supportGroup: infra, costCentre: 'CC-1000', assetKey: s.name });
    for (const uplink of s.uplinks) link(s.name, 'depends_on', uplink);
  }
  const serversByPrefix = new Map<string, string[]>();
  let amsServerIndex = 0;
  for (const g of SERVER_GROUPS) {
    const names = hostnames(g.prefix, g.count);
    serversByPrefix.set(g.prefix, names);
    for (const name of names) {
      addCi({ name, ciClass: 'server', owner: 'jan.kowalski', supportGroup: infra, costCentre: g.costCentre, assetKey: name });
      const berlin = name.startsWith('ber-');
      const leaves = berlin ? ['ber-sw-01', 'ber-sw-02']
        : amsServerIndex++ % 2 === 0 ? ['ams-dc-leaf-01', 'ams-dc-leaf-02'] : ['ams-dc-leaf-03', 'ams-dc-leaf-04'];
      for (const leaf of leaves) link(name, 'depends_on', leaf);
    }
  }
  // Hypervisors keep their datastores on the NetApp arrays; backup servers write to the backup array.
  hostnames('ams-esx', 10).forEach((name, i) => link(name, 'depends_on', i < 5 ? 'ams-netapp-01' : 'ams-netapp-02'));
  hostnames('ber-esx', 2).forEach((name) => link(name, 'depends_on', 'ber-netapp-01'));
  hostnames('ams-bkp', 2).forEach((name) => link(name, 'depends_on', 'ams-netapp-bkp-01'));

  // Workloads spread over their hosts round-robin, so placement is stable and even.
  const cursors = new Map<string, number>();
  const nextHosts = (pool: string[], poolKey: string, count: number): string[] => {
    const start = cursors.get(poolKey) ?? 0;
    cursors.set(poolKey, start + count);
    return Array.from({ length: count }, (_, i) => pool[(start + i) % pool.length]);
  };
  const hypervisors = { ams: hostnames('ams-esx', 10), ber: hostnames('ber-esx', 2) };
  const addVm = (name: string, costCentre: CostCentreCode, environment = 'production') => {
    addCi({ name, ciClass: 'virtual_machine', owner: 'sara.lindqvist', supportGroup: infra, costCentre, environment });
    const site = name.startsWith('ber-') ? 'ber' : 'ams';
    link(name, 'hosted_on', nextHosts(hypervisors[site], site, 1)[0]);
  };
  for (const vm of INFRASTRUCTURE_VMS) addVm(vm.name, 'CC-1000', vm.environment);

  for (const service of SERVICES) {
    const serviceGroup = required(ctx.group, service.supportGroup);
    addCi({ name: service.name, ciClass: 'business_service', criticality: service.criticality, owner: service.owner, supportGroup: serviceGroup, costCentre: service.costCentre });

    const addCloud = (name: string, kind: CloudKind, pricing: { hourlyListMicro?: number; dailyListMicro?: number }) => {
      const ciId = addCi({ name, ciClass: CLOUD_KINDS[kind].ciClass, owner: 'oliver.brown', supportGroup: infra, costCentre: service.costCentre });
      cloud.push({
        ciId, name, kind, resourceId: cloudResourceId(kind, name, service.slug, random),
        hourlyListMicro: pricing.hourlyListMicro ?? null, dailyListMicro: pricing.dailyListMicro ?? null,
        serviceName: service.name, costCentre: service.costCentre,
      });
    };
    for (const resource of service.cloud) {
      addCloud(resource.name, resource.kind, { dailyListMicro: resource.dailyMicro });
      if (CLOUD_KINDS[resource.kind].ciClass === 'load_balancer') link(service.name, 'depends_on', resource.name);
    }
    for (const lb of service.loadBalancers) {
      addCi({ name: lb.name, ciClass: 'load_balancer', owner: 'mehmet.yilmaz', supportGroup: infra, costCentre: service.costCentre });
      link(service.name, 'depends_on', lb.name);
      for (const vm of lb.vms) link(lb.name, 'runs_on', vm);
    }

    const addWorkload = (workload: Workload, ciClass: 'application' | 'database') => {
      addCi({
        name: workload.name, ciClass, owner: service.appOwner, costCentre: service.costCentre,
        supportGroup: workload.supportGroup ? required(ctx.group, workload.supportGroup) : serviceGroup,
      });
      const count = workload.n ?? 1;
      const physicalPrefix = PHYSICAL_HOSTS[workload.on];
      if (workload.on === 'vm') {
        for (const vm of hostnames(workload.name, count)) {
          addVm(vm, service.costCentre);
          link(workload.name, 'runs_on', vm);
        }
      } else if (physicalPrefix) {
        for (const server of nextHosts(required(serversByPrefix, physicalPrefix), physicalPrefix, count)) link(workload.name, 'runs_on', server);
      } else {
        const kind = workload.on as CloudKind;
        const hourlyListMicro = CLOUD_HOURLY_LIST_MICRO[workload.size ?? ''];
        if (hourlyListMicro === undefined) throw new Error(`demo workload ${workload.name} has no priced size`);
        for (const name of cloudInstanceNames(workload, kind)) {
          addCloud(name, kind, { hourlyListMicro });
          link(workload.name, 'runs_on', name);
        }
      }
    };
    for (const database of service.databases) addWorkload(database, 'database');
    for (const application of service.applications) {
      addWorkload(application, 'application');
      link(service.name, 'depends_on', application.name);
    }
    for (const workload of [...service.databases, ...service.applications]) {
      for (const used of workload.uses ?? []) link(workload.name, 'uses', used);
    }
    // Every VM-hosted application has one staging VM next to production.
    for (const application of service.applications) {
      if (application.on === 'vm' && !CI_STATUS[application.name]) addVm(`${application.name}-stg-01`, service.costCentre, 'staging');
    }
  }

  await insertRows(trx, 'configuration_items', cis);
  await insertRows(trx, 'ci_relationships', relationships);
  return { ciCount: cis.length, relationshipCount: relationships.length, cloud, ciOfAsset };
}

// ---------------------------------------------------------------------------------------------
// Licences
// ---------------------------------------------------------------------------------------------

async function insertLicences(
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

// ---------------------------------------------------------------------------------------------
// Cost records (FOCUS)
// ---------------------------------------------------------------------------------------------

/** Costs cover the two previous calendar months and the current month to date. */
const COST_MONTHS = [-2, -1, 0];

async function insertCostRecords(
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
      const aws = kind.provider === 'AWS';
      row({
        sourceKey: `demo:${aws ? 'aws' : 'azure'}:${resource.name}:${dayKey}`,
        periodStart: day, periodEnd: addDays(day, 1), category: 'Usage',
        description: `${kind.resourceType} usage`,
        provider: kind.provider,
        publisher: aws ? 'Amazon Web Services' : 'Microsoft',
        invoiceIssuer: aws ? 'Amazon Web Services EMEA SARL' : 'Microsoft Ireland Operations Ltd',
        serviceName: kind.serviceName, serviceCategory: kind.serviceCategory,
        resourceId: resource.resourceId, resourceName: resource.name, resourceType: kind.resourceType,
        region: resource.kind === 'cloudfront' ? 'Global' : aws ? 'Europe (Frankfurt)' : 'West Europe',
        listMicro, billedMicro: aws ? listMicro - percentOf(listMicro, AWS_DISCOUNT_PERCENT) : listMicro,
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

// ---------------------------------------------------------------------------------------------
// Approval rules, change models, schedule windows
// ---------------------------------------------------------------------------------------------

/** The first quarter-end freeze that has not started yet: the last week of a quarter and the first two days of the next. */
function nextQuarterEndFreeze(now: Date): { name: string; startsAt: Date; endsAt: Date } {
  for (let quarter = Math.floor(now.getUTCMonth() / 3); ; quarter++) {
    const nextQuarterStart = new Date(Date.UTC(now.getUTCFullYear(), quarter * 3 + 3, 1));
    const startsAt = addDays(nextQuarterStart, -7);
    if (startsAt > now) {
      const year = startsAt.getUTCFullYear();
      return { name: `Q${Math.floor(startsAt.getUTCMonth() / 3) + 1} ${year} quarter-end change freeze`, startsAt, endsAt: addDays(nextQuarterStart, 2) };
    }
  }
}

async function insertProcessConfiguration(trx: Knex.Transaction, ctx: Context, now: Date): Promise<void> {
  await insertRows(trx, 'approval_rules', APPROVAL_RULES.map((r) => ({
    process: r.process,
    step_order: r.stepOrder,
    name: r.name,
    applies_when: JSON.stringify(r.appliesWhen),
    approver_kind: r.approverKind,
    group_id: r.group ? required(ctx.group, r.group) : null,
    policy: r.policy,
    quorum: r.quorum ?? null,
    on_expiry: r.onExpiry ?? 'reject',
  })));
  await insertRows(trx, 'change_models', CHANGE_MODELS.map((m) => ({ name: m.name, description: m.description, risk_ceiling: m.riskCeiling })));
  await insertRows(trx, 'sla_targets', SLA_TARGETS.map((t) => ({ process: t.process, state: t.state, target_minutes: t.minutes })));

  // Saturday 22:00 to Sunday 04:00 UTC, starting with the first such window still ahead.
  let saturday = addDays(ctx.today, (6 - ctx.today.getUTCDay() + 7) % 7);
  if (saturday.getTime() + 22 * 3_600_000 <= now.getTime()) saturday = addDays(saturday, 7);
  const windows: Row[] = Array.from({ length: MAINTENANCE_WEEKS }, (_, week) => {
    const startsAt = new Date(addDays(saturday, week * 7).getTime() + 22 * 3_600_000);
    return { kind: 'maintenance', name: 'Weekly maintenance window', starts_at: startsAt.toISOString(), ends_at: new Date(startsAt.getTime() + 6 * 3_600_000).toISOString() };
  });
  const freeze = nextQuarterEndFreeze(now);
  windows.push({ kind: 'blackout', name: freeze.name, starts_at: freeze.startsAt.toISOString(), ends_at: freeze.endsAt.toISOString() });
  await insertRows(trx, 'schedule_windows', windows);
}

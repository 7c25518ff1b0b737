/**
 * Northwind Analytics, a fictional 30-person analytics company that pays in EUR: its people,
 * their managers and roles, its groups, and its cost centres with their monthly budgets.
 */

export const DOMAIN = 'northwind.example';
export const CURRENCY = 'EUR';

export type Role = 'requester' | 'approver' | 'asset_manager' | 'process_owner' | 'admin';
export type City = 'Amsterdam' | 'Berlin' | 'Lisbon';

/** Where each office reads its clocks: Lisbon is an hour behind the other two. */
export const TIME_ZONE_OF_CITY: Record<City, string> = {
  Amsterdam: 'Europe/Amsterdam',
  Berlin: 'Europe/Berlin',
  Lisbon: 'Europe/Lisbon',
};

export type CostCentreCode = 'CC-1000' | 'CC-2000' | 'CC-3000' | 'CC-4000' | 'CC-5000';
export type GroupName = 'Change Advisory Board' | 'Emergency CAB' | 'Finance' | 'Security' | 'Service Desk' | 'Infrastructure';

export interface PersonSeed {
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

export const PEOPLE: PersonSeed[] = [
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
export const EXTRA_ROLES: Record<string, Role[]> = {
  'pieter.jansen': ['asset_manager'],
  'ana.ferreira': ['asset_manager'],
  'claire.dubois': ['process_owner'],
  admin: ['admin', 'process_owner'],
};

export interface GroupSeed {
  name: GroupName;
  email: string;
  manager: string;
  members: string[];
  /** Members decide approval steps, so they hold the approver role. */
  approves: boolean;
}

export const GROUPS: GroupSeed[] = [
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

/** The asset managers settle what discovery cannot decide: members of the "Data stewards" group the schema seeds. */
export const DATA_STEWARDS = ['pieter.jansen', 'ana.ferreira'];

/** Monthly budgets leave room for a laptop or a server beyond the running costs, not for several servers. */
export const COST_CENTRES: { code: CostCentreCode; name: string; owner: string; monthlyBudgetMinor: number }[] = [
  { code: 'CC-1000', name: 'IT Operations', owner: 'marco.rossi', monthlyBudgetMinor: 3_500_000 },
  { code: 'CC-2000', name: 'Data Platform', owner: 'lukas.becker', monthlyBudgetMinor: 1_200_000 },
  { code: 'CC-3000', name: 'Finance & Administration', owner: 'sophie.laurent', monthlyBudgetMinor: 600_000 },
  { code: 'CC-4000', name: 'Sales & Customer Success', owner: 'emma.johansson', monthlyBudgetMinor: 500_000 },
  { code: 'CC-5000', name: 'Analytics Products', owner: 'priya.nair', monthlyBudgetMinor: 1_000_000 },
];

/** Budgets exist for these months relative to the current one. */
export const BUDGET_MONTHS = [-3, -2, -1, 0, 1, 2];

/** Cost records cover the two previous calendar months and the current month to date. */
export const COST_MONTHS = [-2, -1, 0];

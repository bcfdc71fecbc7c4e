// Default accounts and sites, and the deterministic Jira issues generated for each site.

import type { SimAccount, SimSite } from './types';

/** The default sites. Their cloudIds are fixed so the sandbox and tests can name them. */
export const DEFAULT_SITES: readonly SimSite[] = Object.freeze([
  {
    id: 'a1b2c3d4-0001-4000-8000-000000000001',
    name: 'sandbox',
    url: 'https://sandbox.atlassian.net',
    scopes: ['read:jira-work', 'read:jira-user'],
    avatarUrl: 'https://site-admin-avatar-cdn.prod.public.atl-paas.net/avatars/240/rocket.png',
  },
  {
    id: 'a1b2c3d4-0002-4000-8000-000000000002',
    name: 'other',
    url: 'https://other.atlassian.net',
    scopes: ['read:jira-work', 'read:jira-user'],
    avatarUrl: 'https://site-admin-avatar-cdn.prod.public.atl-paas.net/avatars/240/lightbulb.png',
  },
]);

/** The default accounts: `sim-user-1` reaches site 1, `sim-user-2` reaches sites 1 and 2. */
export const DEFAULT_ACCOUNTS: readonly SimAccount[] = Object.freeze([
  {
    accountId: 'sim-user-1',
    name: 'Sim User One',
    email: 'sim-user-1@example.com',
    siteIds: [DEFAULT_SITES[0].id],
  },
  {
    accountId: 'sim-user-2',
    name: 'Sim User Two',
    email: 'sim-user-2@example.com',
    siteIds: [DEFAULT_SITES[0].id, DEFAULT_SITES[1].id],
  },
]);

/** One generated issue, before it is shaped into a Jira answer. */
export interface SimIssue {
  id: string;
  key: string;
  summary: string;
  status: string;
  issueType: string;
  assignee: string | null;
}

const SUMMARIES = [
  'Renew the signing certificate',
  'Macro renders blank after an hour',
  'Add retry budget to the importer',
  'Document the disconnect flow',
  'Flaky login on Safari',
  'Move the cron to the worker pool',
  'Audit OAuth scopes',
];
const STATUSES = ['To Do', 'In Progress', 'Done'];
const TYPES = ['Task', 'Bug', 'Story'];

/** The project key of a site: the first four letters of its name (`sandbox` gives `SAND`). */
export function projectKey(site: SimSite): string {
  const letters = site.name.replace(/[^A-Za-z]/g, '').toUpperCase();
  return letters.slice(0, 4) || 'SIM';
}

/** The site's issues, `KEY-1` to `KEY-n`, the same on every run. Assignees cycle through the names given and nobody. */
export function generateIssues(site: SimSite, count: number, assignees: readonly string[]): SimIssue[] {
  const key = projectKey(site);
  const people: (string | null)[] = [...assignees, null];
  return Array.from({ length: count }, (_, i) => ({
    id: String(10000 + i),
    key: `${key}-${i + 1}`,
    summary: `${SUMMARIES[i % SUMMARIES.length]} (#${i + 1})`,
    status: STATUSES[i % STATUSES.length],
    issueType: TYPES[i % TYPES.length],
    assignee: people[i % people.length],
  }));
}

// The search/jql subset: parameter validation, field selection and nextPageToken paging over generated issues.

import type { SimIssue } from './fixtures';

/** The fields the simulator knows. Unknown field names are ignored, as Jira does. */
export const ISSUE_FIELDS = ['summary', 'status', 'assignee', 'issuetype'] as const;
type IssueField = (typeof ISSUE_FIELDS)[number];

const DEFAULT_MAX_RESULTS = 50;
const MAX_RESULTS_CAP = 100;

/** A validated search. */
export interface SearchQuery {
  offset: number;
  maxResults: number;
  fields: ReadonlySet<IssueField>;
}

/** The raw parameters, from a query string or a JSON body. */
export interface SearchInput {
  jql?: unknown;
  maxResults?: unknown;
  nextPageToken?: unknown;
  fields?: unknown;
}

/** The page answer. `nextPageToken` is absent on the last page. */
export interface SearchPage {
  issues: {
    id: string;
    key: string;
    self: string;
    fields: Partial<Record<IssueField, unknown>>;
  }[];
  nextPageToken?: string;
  isLast: boolean;
}

/** Validates a search for one site; any JQL is accepted and ignored (ORDER BY included). */
export function parseSearch(
  input: SearchInput,
  cloudId: string,
): { ok: true; query: SearchQuery } | { ok: false; message: string } {
  if (input.jql !== undefined && typeof input.jql !== 'string')
    return { ok: false, message: 'jql must be a string.' };
  const maxResults = parseMaxResults(input.maxResults);
  if (maxResults === undefined) return { ok: false, message: 'maxResults must be a positive integer.' };
  const offset = input.nextPageToken === undefined ? 0 : decodePageToken(input.nextPageToken, cloudId);
  if (offset === undefined) return { ok: false, message: 'The nextPageToken is invalid.' };
  const fields = parseFields(input.fields);
  if (fields === undefined) return { ok: false, message: 'fields must be a list of field names.' };
  return { ok: true, query: { offset, maxResults, fields } };
}

/** One page of the site's issues; `selfBase` is the gateway URL of the site's REST API, ending in `/rest/api/3`. */
export function searchPage(
  issues: readonly SimIssue[],
  query: SearchQuery,
  selfBase: string,
  cloudId: string,
): SearchPage {
  const end = Math.min(issues.length, query.offset + query.maxResults);
  const page = issues.slice(query.offset, end).map((issue) => ({
    id: issue.id,
    key: issue.key,
    self: `${selfBase}/issue/${issue.id}`,
    fields: pickFields(issue, query.fields),
  }));
  const isLast = end >= issues.length;
  return isLast
    ? { issues: page, isLast }
    : { issues: page, nextPageToken: encodePageToken(end, cloudId), isLast };
}

function pickFields(issue: SimIssue, fields: ReadonlySet<IssueField>): Partial<Record<IssueField, unknown>> {
  const all: Record<IssueField, unknown> = {
    summary: issue.summary,
    status: { name: issue.status },
    assignee: issue.assignee === null ? null : { displayName: issue.assignee },
    issuetype: { name: issue.issueType },
  };
  return Object.fromEntries(ISSUE_FIELDS.filter((f) => fields.has(f)).map((f) => [f, all[f]]));
}

function parseMaxResults(value: unknown): number | undefined {
  if (value === undefined) return DEFAULT_MAX_RESULTS;
  const n = typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 1) return undefined;
  // Jira silently caps large pages rather than refusing them.
  return Math.min(n, MAX_RESULTS_CAP);
}

// `fields` is `a,b` or repeated in a query string, an array in a body. `*all` and `*navigable` select
// every field, `-name` removes one. Absent means every field.
function parseFields(value: unknown): ReadonlySet<IssueField> | undefined {
  if (value === undefined) return new Set(ISSUE_FIELDS);
  const list = typeof value === 'string' ? [value] : value;
  if (!Array.isArray(list) || !list.every((v): v is string => typeof v === 'string')) return undefined;
  const selected = new Set<IssueField>();
  const names = list.flatMap((v) => v.split(',')).map((v) => v.trim());
  for (const name of names) {
    if (name === '*all' || name === '*navigable') ISSUE_FIELDS.forEach((f) => selected.add(f));
    else if (isField(name)) selected.add(name);
  }
  for (const name of names) {
    if (name.startsWith('-') && isField(name.slice(1))) selected.delete(name.slice(1) as IssueField);
  }
  return selected;
}

function isField(name: string): name is IssueField {
  return (ISSUE_FIELDS as readonly string[]).includes(name);
}

// Opaque to callers; bound to the site so a token of one site is refused by another.
function encodePageToken(offset: number, cloudId: string): string {
  return Buffer.from(JSON.stringify({ c: cloudId, o: offset }), 'utf8').toString('base64url');
}

function decodePageToken(token: unknown, cloudId: string): number | undefined {
  if (typeof token !== 'string' || token === '') return undefined;
  try {
    const parsed: unknown = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
    if (typeof parsed !== 'object' || parsed === null) return undefined;
    const { c, o } = parsed as { c?: unknown; o?: unknown };
    return c === cloudId && typeof o === 'number' && Number.isSafeInteger(o) && o > 0 ? o : undefined;
  } catch {
    return undefined;
  }
}

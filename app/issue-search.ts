// The macro's Jira query: its parameters, the search/jql call through `req.jira`, and what the
// answer means for the view.

import type { JiraRequestContext } from 'jira-token-rotation';

/** The macro's parameters, after defaults and bounds. */
export interface MacroParams {
  jql: string;
  maxResults: number;
}

/** One row of the issue table. */
export interface IssueRow {
  key: string;
  summary: string;
  status: string;
  type: string;
  assignee: string;
}

/** What a search means for the macro. */
export type SearchOutcome =
  | { kind: 'issues'; issues: IssueRow[]; more: boolean }
  /** Jira refused the query (400): its messages are for the page author. */
  | { kind: 'invalid_query'; messages: string[] }
  /** Jira refused even a fresh token (401/403): the grant no longer reaches this site. */
  | { kind: 'refused'; status: number }
  /** Rate limited, failing, or unreachable. */
  | { kind: 'unavailable'; retryAfterSeconds: number };

export const DEFAULT_JQL = 'order by created DESC';
const MAX_JQL_LENGTH = 2_000;
const DEFAULT_MAX_RESULTS = 10;
const MAX_RESULTS = 50;
const FIELDS = 'summary,status,assignee,issuetype';

/** Reads `jql` and `maxResults` from the macro URL; anything odd falls back to the defaults. */
export function macroParams(query: Record<string, unknown>): MacroParams {
  const jql = typeof query.jql === 'string' && query.jql.trim() !== '' ? query.jql.trim() : DEFAULT_JQL;
  const n =
    typeof query.maxResults === 'string' && /^\d{1,3}$/.test(query.maxResults) ? Number(query.maxResults) : 0;
  return {
    jql: jql.slice(0, MAX_JQL_LENGTH),
    maxResults: n >= 1 ? Math.min(n, MAX_RESULTS) : DEFAULT_MAX_RESULTS,
  };
}

/** Runs the search; network failures and Jira's answers become outcomes, token errors are thrown. */
export async function searchIssues(jira: JiraRequestContext, params: MacroParams): Promise<SearchOutcome> {
  const query = new URLSearchParams({
    jql: params.jql,
    maxResults: String(params.maxResults),
    fields: FIELDS,
  });
  const response = await jira.fetch(`/rest/api/3/search/jql?${query.toString()}`);
  const body: unknown = await response.json().catch(() => null);
  if (response.status === 200 && body && typeof body === 'object') {
    const { issues, isLast } = body as { issues?: unknown; isLast?: unknown };
    if (Array.isArray(issues)) return { kind: 'issues', issues: issues.map(toRow), more: isLast === false };
  }
  if (response.status === 400) {
    const messages = (body as { errorMessages?: unknown } | null)?.errorMessages;
    return {
      kind: 'invalid_query',
      messages: Array.isArray(messages) ? messages.filter((m): m is string => typeof m === 'string') : [],
    };
  }
  if (response.status === 401 || response.status === 403) return { kind: 'refused', status: response.status };
  const retryAfter = Number(response.headers.get('retry-after'));
  return {
    kind: 'unavailable',
    retryAfterSeconds: Number.isInteger(retryAfter) && retryAfter > 0 && retryAfter <= 3600 ? retryAfter : 5,
  };
}

function toRow(issue: unknown): IssueRow {
  const { key, fields } = (issue ?? {}) as { key?: unknown; fields?: Record<string, unknown> };
  const named = (value: unknown, field: 'name' | 'displayName'): string => {
    const name = (value as Record<string, unknown> | null | undefined)?.[field];
    return typeof name === 'string' ? name : '';
  };
  return {
    key: typeof key === 'string' ? key : '',
    summary: typeof fields?.summary === 'string' ? fields.summary : '',
    status: named(fields?.status, 'name'),
    type: named(fields?.issuetype, 'name'),
    assignee: named(fields?.assignee, 'displayName') || 'Unassigned',
  };
}

// The macro's search: parameters, and what each answer of Jira means for the page.

import type { JiraRequestContext } from 'jira-token-rotation';
import { DEFAULT_JQL, macroParams, searchIssues } from '../../app/issue-search';

function jiraAnswering(status: number, body: unknown, headers: Record<string, string> = {}) {
  const paths: string[] = [];
  const jira: JiraRequestContext = {
    accessToken: 'unused',
    expiresAt: 0,
    cloudId: 'cloud',
    fetch: async (path) => {
      paths.push(path);
      return new Response(JSON.stringify(body), { status, headers });
    },
  };
  return { jira, paths };
}

describe('macroParams', () => {
  test('defaults and bounds', () => {
    expect(macroParams({})).toEqual({ jql: DEFAULT_JQL, maxResults: 10 });
    expect(macroParams({ jql: '  project = X  ', maxResults: '999' })).toEqual({
      jql: 'project = X',
      maxResults: 50,
    });
    expect(macroParams({ jql: ['a', 'b'], maxResults: '-1' })).toEqual({ jql: DEFAULT_JQL, maxResults: 10 });
    expect(macroParams({ jql: 'x'.repeat(3000) }).jql).toHaveLength(2000);
  });
});

describe('searchIssues', () => {
  const params = { jql: 'project = X', maxResults: 2 };

  test('200: rows from the fields, through /rest/api/3/search/jql', async () => {
    const { jira, paths } = jiraAnswering(200, {
      issues: [
        {
          key: 'X-1',
          fields: { summary: 'One', status: { name: 'Done' }, issuetype: { name: 'Bug' }, assignee: null },
        },
        { key: 'X-2', fields: { summary: 'Two', assignee: { displayName: 'Ann' } } },
      ],
      isLast: false,
    });
    expect(await searchIssues(jira, params)).toEqual({
      kind: 'issues',
      more: true,
      issues: [
        { key: 'X-1', summary: 'One', status: 'Done', type: 'Bug', assignee: 'Unassigned' },
        { key: 'X-2', summary: 'Two', status: '', type: '', assignee: 'Ann' },
      ],
    });
    expect(paths).toEqual([
      '/rest/api/3/search/jql?jql=project+%3D+X&maxResults=2&fields=summary%2Cstatus%2Cassignee%2Cissuetype',
    ]);
  });

  test('400: the query is invalid, with Jira messages', async () => {
    const { jira } = jiraAnswering(400, { errorMessages: ['Bad JQL', 7] });
    expect(await searchIssues(jira, params)).toEqual({ kind: 'invalid_query', messages: ['Bad JQL'] });
  });

  test.each([401, 403])('%i (after the retry with a fresh token): refused', async (status) => {
    const { jira } = jiraAnswering(status, {});
    expect(await searchIssues(jira, params)).toEqual({ kind: 'refused', status });
  });

  test('429 and 5xx: unavailable, with Jira Retry-After when sane', async () => {
    expect(await searchIssues(jiraAnswering(429, {}, { 'retry-after': '30' }).jira, params)).toEqual({
      kind: 'unavailable',
      retryAfterSeconds: 30,
    });
    expect(await searchIssues(jiraAnswering(502, {}, { 'retry-after': 'soon' }).jira, params)).toEqual({
      kind: 'unavailable',
      retryAfterSeconds: 5,
    });
  });
});

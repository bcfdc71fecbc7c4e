// The sites a grant reaches, and which one belongs to a Confluence site.

import { grantedSites as granted, siteOfTenant } from '../../src/consent/granted-sites';

const grantedSites = (resources: unknown[]) => granted(resources, 'read:jira-work');

const resource = (id: string, url: string, scopes = ['read:jira-work', 'read:jira-user']) => ({
  id,
  url,
  scopes,
  name: `site ${id}`,
});

describe('grantedSites', () => {
  test('keeps the well-formed resources that grant read:jira-work, as origins', () => {
    expect(
      grantedSites([
        resource('a', 'https://acme.atlassian.net/'),
        resource('b', 'https://beta.atlassian.net', ['read:me']),
        null,
        42,
        { id: 'c' },
        resource('', 'https://empty.atlassian.net'),
        resource('d', 'not a url'),
      ]),
    ).toEqual([{ cloudId: 'a', url: 'https://acme.atlassian.net', name: 'site a' }]);
  });
});

describe('siteOfTenant', () => {
  const sites = grantedSites([
    resource('b', 'https://other.atlassian.net'),
    resource('a', 'https://acme.atlassian.net'),
  ]);

  test('the site on the origin of the Confluence base URL, whatever the order', () => {
    expect(siteOfTenant(sites, 'https://acme.atlassian.net/wiki')?.cloudId).toBe('a');
    expect(siteOfTenant([...sites].reverse(), 'https://acme.atlassian.net/wiki')?.cloudId).toBe('a');
  });

  test('none on that origin, a look-alike host, or a bad base URL: none', () => {
    expect(siteOfTenant(sites, 'https://elsewhere.atlassian.net/wiki')).toBeUndefined();
    expect(
      siteOfTenant(
        grantedSites([resource('x', 'https://acme.atlassian.net.evil.com')]),
        'https://acme.atlassian.net/wiki',
      ),
    ).toBeUndefined();
    expect(siteOfTenant(sites, 'not a url')).toBeUndefined();
  });
});

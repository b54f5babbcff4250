import { deriveGithubRepoUrl, parseGithubRepository } from '../../src/text/github-repo';

describe('parseGithubRepository', () => {
  it.each([
    ['acme/shop-web', 'acme', 'shop-web'],
    ['https://github.com/acme/shop-web', 'acme', 'shop-web'],
    ['https://github.com/acme/shop-web.git', 'acme', 'shop-web'],
    ['git@github.com:acme/shop.web.git', 'acme', 'shop.web'],
    ['https://www.github.com/acme/shop-web/issues/12', 'acme', 'shop-web'],
  ])('reads %s', (value, owner, name) => {
    expect(parseGithubRepository(value)).toEqual({ owner, name });
  });

  it.each([
    ['not a repo'],
    ['https://gist.github.com/acme/abc123'],
    ['https://github.com/orgs/acme/people'],
    ['https://gitlab.com/acme/shop'],
    [42],
    [undefined],
  ])('rejects %p', (value) => {
    expect(parseGithubRepository(value)).toBeUndefined();
  });
});

describe('deriveGithubRepoUrl', () => {
  it('names the one repository the items point at, from repo fields and issue URLs', () => {
    expect(
      deriveGithubRepoUrl([
        { repo: 'acme/shop-web' },
        { githubIssueUrl: 'https://github.com/Acme/Shop-Web/issues/12' },
        { text: 'no link here' },
      ]),
    ).toBe('https://github.com/acme/shop-web');
  });

  it('is absent when the items point at several repositories or none', () => {
    expect(deriveGithubRepoUrl([{ repo: 'acme/web' }, { repo: 'acme/api' }])).toBeUndefined();
    expect(deriveGithubRepoUrl([{ text: 'plain text' }, {}])).toBeUndefined();
    expect(deriveGithubRepoUrl([])).toBeUndefined();
  });

  it('falls back to github.com links in the text when no item declares a repository', () => {
    expect(
      deriveGithubRepoUrl([
        { text: 'Same as https://github.com/acme/shop-web/issues/<num>.' },
        { title: 'see github.com/acme/shop-web' },
      ]),
    ).toBe('https://github.com/acme/shop-web');
  });

  it('trusts declared repositories over links in the text', () => {
    expect(
      deriveGithubRepoUrl([
        { repo: 'acme/shop-web', text: 'like https://github.com/facebook/react/issues/1' },
      ]),
    ).toBe('https://github.com/acme/shop-web');
  });

  it('reads a repository from metadata', () => {
    expect(deriveGithubRepoUrl([{ metadata: { repository: { full_name: 'acme/api' } } }])).toBe(
      'https://github.com/acme/api',
    );
  });
});

import { CoreApp, DataQueryRequest, MetricFindValue, ScopedVars } from '@grafana/data';
import { lastValueFrom } from 'rxjs';

import { DataSource, parseVariableQuery } from './datasource';
import { FakeTemplateSrv } from './testing/fakeTemplateSrv';
import { fakeInstanceSettings } from './testing/fakes';
import { WoodpeckerQuery, WoodpeckerVariableQuery } from './types';

const settings = fakeInstanceSettings({ windowDays: 3 });

function setup(variables = {}) {
  const templateSrv = new FakeTemplateSrv(variables);
  const ds = new DataSource(settings, templateSrv);
  const getResource = jest.fn();
  ds.getResource = getResource;
  return { ds, templateSrv, getResource };
}

describe('DataSource', () => {
  it('starts a new query as a summary and leaves the rest to the data source defaults', () => {
    const { ds } = setup();
    expect(ds.getDefaultQuery(CoreApp.Dashboard)).toEqual({ queryType: 'summary' });
    expect(ds.getDefaultQuery(CoreApp.Explore)).toEqual({ queryType: 'summary' });
  });

  it('skips hidden queries only', () => {
    const { ds } = setup();
    expect(ds.filterQuery({ refId: 'A' })).toBe(true);
    expect(ds.filterQuery({ refId: 'A', hide: true })).toBe(false);
  });

  describe('applyTemplateVariables', () => {
    const variables = {
      repo: ['org/app', 'org/api'],
      single: 'org/web',
      env: 'production',
      allRepos: ['org/app', 'org/api', 'org/web'],
      wildcard: '*',
      interval: '1h',
    };

    it('expands a multi-value variable into one array entry per value', () => {
      const { ds } = setup(variables);
      const out = ds.applyTemplateVariables({ refId: 'A', repos: ['$repo'] }, {});
      expect(out.repos).toEqual(['org/app', 'org/api']);
    });

    it('mixes variables, literal values and ${var} / [[var]] syntax, dropping duplicates', () => {
      const { ds } = setup(variables);
      const out = ds.applyTemplateVariables(
        { refId: 'A', repos: ['${repo}', 'org/app', '[[single]]'], environments: ['$env', 'staging'] },
        {}
      );
      expect(out.repos).toEqual(['org/app', 'org/api', 'org/web']);
      expect(out.environments).toEqual(['production', 'staging']);
    });

    it('expands "All" (every option) into the full list', () => {
      const { ds } = setup(variables);
      expect(ds.applyTemplateVariables({ refId: 'A', repos: ['$allRepos'] }, {}).repos).toEqual([
        'org/app',
        'org/api',
        'org/web',
      ]);
    });

    it('turns an "All" variable with a wildcard custom value into an empty list (= all repos)', () => {
      const { ds } = setup(variables);
      expect(ds.applyTemplateVariables({ refId: 'A', repos: ['$wildcard', 'org/x'] }, {}).repos).toEqual([]);
      expect(
        ds.applyTemplateVariables({ refId: 'A', branches: ['$b'] }, { b: { text: 'All', value: '$__all' } }).branches
      ).toEqual([]);
    });

    it('prefers scoped variables (repeated panels) over dashboard variables', () => {
      const { ds } = setup(variables);
      const scoped: ScopedVars = { repo: { text: 'org/one', value: 'org/one' } };
      expect(ds.applyTemplateVariables({ refId: 'A', repos: ['$repo'] }, scoped).repos).toEqual(['org/one']);
    });

    it('expands every list field and the durations, and keeps numbers and flags', () => {
      const { ds } = setup({
        ...variables,
        events: ['deployment', 'tag'],
        steps: 'deploy',
        statuses: ['failure', 'killed'],
        group: 'repo',
      });
      const query: WoodpeckerQuery = {
        refId: 'A',
        queryType: 'mttr',
        events: ['$events'],
        deploySteps: ['$steps', 'deploy-*'],
        changeEvents: ['$events'],
        failureStatuses: ['$statuses'],
        groupBy: ['$group' as 'repo'],
        bucket: '$interval',
        rolling: '30d',
        windowDays: 2,
        flakyMinutes: 0,
        minSample: 3,
        includeSuperseded: true,
      };
      expect(ds.applyTemplateVariables(query, {})).toEqual({
        refId: 'A',
        queryType: 'mttr',
        events: ['deployment', 'tag'],
        deploySteps: ['deploy', 'deploy-*'],
        changeEvents: ['deployment', 'tag'],
        failureStatuses: ['failure', 'killed'],
        groupBy: ['repo'],
        bucket: '1h',
        rolling: '30d',
        windowDays: 2,
        flakyMinutes: 0,
        minSample: 3,
        includeSuperseded: true,
      });
    });

    it('interpolates a summary metric, and drops one that expands to nothing', () => {
      const { ds } = setup({ ...variables, metric: 'oldest_open_seconds' });
      const query: WoodpeckerQuery = { refId: 'A', queryType: 'summary', metric: '$metric' };
      expect(ds.applyTemplateVariables(query, {})).toEqual({ ...query, metric: 'oldest_open_seconds' });
      expect(ds.applyTemplateVariables({ ...query, metric: 'p50_seconds' }, {}).metric).toBe('p50_seconds');
      expect(ds.applyTemplateVariables({ ...query, metric: ' ' }, {})).toEqual({ refId: 'A', queryType: 'summary' });
    });

    it('sends no keys the query did not have, and an empty bucket is dropped', () => {
      const { ds } = setup(variables);
      expect(ds.applyTemplateVariables({ refId: 'A', queryType: 'summary', bucket: '' }, {})).toEqual({
        refId: 'A',
        queryType: 'summary',
      });
    });

    it('keeps * in deploy steps, where it is a glob, but not in other lists', () => {
      const { ds } = setup(variables);
      const out = ds.applyTemplateVariables({ refId: 'A', deploySteps: ['*'], changeEvents: ['*'] }, {});
      expect(out.deploySteps).toEqual(['*']);
      expect(out.changeEvents).toEqual([]);
      expect(
        ds.applyTemplateVariables({ refId: 'A', deploySteps: ['$s'] }, { s: { text: 'All', value: '$__all' } })
          .deploySteps
      ).toEqual([]);
    });

    it('drops values of a variable that has none selected', () => {
      const { ds } = setup({ none: [] as string[] });
      expect(ds.applyTemplateVariables({ refId: 'A', repos: ['$none'] }, {}).repos).toEqual([]);
    });
  });

  it('interpolates queries for Explore and keeps the data source reference', () => {
    const { ds } = setup({ repo: ['a/b', 'c/d'] });
    const [out] = ds.interpolateVariablesInQueries([{ refId: 'A', repos: ['$repo'] }], {});
    expect(out.repos).toEqual(['a/b', 'c/d']);
    expect(out.datasource).toEqual({ type: 'dorakit-woodpecker-datasource', uid: 'wp' });
  });

  it('describes a query in one line with the data source defaults', () => {
    const { ds } = setup();
    expect(
      ds.getQueryDisplayText({ refId: 'A', queryType: 'mttr', bucket: '1d', rolling: '30d', groupBy: ['repo'] })
    ).toBe(
      'MTTR p50/p90/mean per 1d, rolling 30d, by repo · repos: all · environments: all · events: deployment · failures: failure, error · flaky < 5m · recovery window 3d'
    );
  });

  describe('resources', () => {
    it('lists repos without parameters, sorted', async () => {
      const { ds, getResource } = setup();
      getResource.mockResolvedValue(['org/web', 'org/api']);
      await expect(ds.getRepos()).resolves.toEqual(['org/api', 'org/web']);
      expect(getResource).toHaveBeenCalledWith('repos', undefined);
    });

    it('asks for environments and branches of the expanded repos, comma-separated', async () => {
      const { ds, getResource } = setup({ repo: ['a/b', 'c/d'] });
      getResource.mockResolvedValue(['production']);
      await ds.getEnvironments(['$repo']);
      expect(getResource).toHaveBeenCalledWith('environments', { repos: 'a/b,c/d' });
      await ds.getBranches(['x/y']);
      expect(getResource).toHaveBeenCalledWith('branches', { repos: 'x/y' });
      await ds.getBranches([]);
      expect(getResource).toHaveBeenLastCalledWith('branches', undefined);
    });

    it('rejects an answer that is not a list', async () => {
      const { ds, getResource } = setup();
      getResource.mockResolvedValue({ error: 'boom' });
      await expect(ds.getRepos()).rejects.toThrow('expected a list of names');
    });
  });

  describe('template variables', () => {
    it('parses the plain-text variable query forms', () => {
      expect(parseVariableQuery('repos')).toEqual({ refId: 'variable', kind: 'repos', repos: [] });
      expect(parseVariableQuery('environments(org/app, $repo)')).toEqual({
        refId: 'variable',
        kind: 'environments',
        repos: ['org/app', '$repo'],
      });
      expect(parseVariableQuery(' Branches ( a/b ) ')).toEqual({ refId: 'variable', kind: 'branches', repos: ['a/b'] });
    });

    it('answers MetricFindValues through the custom variable support', async () => {
      const { ds, getResource } = setup({ repo: ['a/b', 'c/d'] });
      getResource.mockResolvedValue(['staging', 'production']);
      const target: WoodpeckerVariableQuery = { refId: 'variable', kind: 'environments', repos: ['$repo'] };
      const request = { targets: [target], scopedVars: {} } as unknown as DataQueryRequest<WoodpeckerVariableQuery>;
      const variables = ds.variables as unknown as {
        query: (r: DataQueryRequest<WoodpeckerVariableQuery>) => import('rxjs').Observable<{ data: MetricFindValue[] }>;
      };
      const response = await lastValueFrom(variables.query(request));
      expect(response.data).toEqual([
        { text: 'production', value: 'production' },
        { text: 'staging', value: 'staging' },
      ]);
      expect(getResource).toHaveBeenCalledWith('environments', { repos: 'a/b,c/d' });
    });

    it('accepts the plain-text form in metricFindQuery', async () => {
      const { ds, getResource } = setup();
      getResource.mockResolvedValue(['main']);
      await expect(ds.metricFindQuery('branches(org/app)')).resolves.toEqual([{ text: 'main', value: 'main' }]);
      expect(getResource).toHaveBeenCalledWith('branches', { repos: 'org/app' });
    });
  });

  describe('annotations', () => {
    it('turns any saved annotation into an incidents query', () => {
      const { ds } = setup();
      const prepared = ds.annotations!.prepareAnnotation!({
        name: 'Incidents',
        enable: true,
        iconColor: 'red',
        target: { refId: 'Anno', queryType: 'mttr', repos: ['org/app'] },
      });
      expect(prepared.target).toEqual({ refId: 'Anno', queryType: 'incidents', repos: ['org/app'] });
      expect(ds.annotations!.prepareQuery!(prepared)).toEqual({
        refId: 'Anno',
        queryType: 'incidents',
        repos: ['org/app'],
      });
      const legacy = ds.annotations!.prepareAnnotation!({ name: 'Old', enable: true, iconColor: 'red' });
      expect(legacy.target).toEqual({ refId: 'Anno', queryType: 'incidents' });
      expect(ds.annotations!.getDefaultQuery!()).toEqual({ queryType: 'incidents' });
      expect(ds.annotations!.QueryEditor).toBeDefined();
    });
  });
});

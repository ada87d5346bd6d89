import { describeQuery } from './describe';

describe('describeQuery', () => {
  it('says what a trends query plots, per bucket and rolling', () => {
    const text = describeQuery({ queryType: 'trends', bucket: '1w', rolling: '30d', groupBy: ['repo'] });
    expect(text).toContain(
      'Deploy frequency, lead time, change failure, rework and recovery per 1w, rolling 30d, by repo'
    );
    expect(text).toContain('events: deployment · change events: push');
  });

  it('describes a changes table without recovery options', () => {
    expect(describeQuery({ queryType: 'changes', deploySteps: ['deploy-*'] }, { changeEvents: ['push', 'tag'] })).toBe(
      'Changes and their lead time · repos: all · environments: all · events: deployment · deploy steps: deploy-* · change events: push, tag'
    );
  });

  it('names the deploy steps of the data source, and no change events for recovery queries', () => {
    const text = describeQuery({ queryType: 'incidents' }, { deploySteps: ['deploy'] });
    expect(text).toContain('events: deployment · deploy steps: deploy · failures: failure, error');
    expect(text).not.toContain('change events');
  });

  it('says no recovery options for deploys either', () => {
    expect(describeQuery({ queryType: 'deploys' })).toBe(
      'Deploy pipelines · repos: all · environments: all · events: deployment'
    );
  });

  it('names the metric of a summary reduced to one number per group', () => {
    expect(
      describeQuery({ queryType: 'summary', groupBy: ['repo', 'environment'], metric: 'oldest_open_seconds' })
    ).toContain(
      'Summary of recovery, deploys and lead time by repo and environment, metric oldest_open_seconds · repos: all'
    );
    expect(describeQuery({ queryType: 'summary' })).not.toContain('metric');
  });

  it('keeps the MTTR wording', () => {
    expect(describeQuery({ queryType: 'mttr' })).toContain('MTTR p50/p90/mean per panel interval');
  });
});

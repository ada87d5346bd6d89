import { describeQuery } from './describe';

describe('describeQuery', () => {
  it('says what a trends query plots, per bucket and rolling', () => {
    const text = describeQuery({ queryType: 'trends', bucket: '1w', rolling: '30d', groupBy: ['repo'] });
    expect(text).toContain('Deploy frequency, change failure, rework and recovery per 1w, rolling 30d, by repo');
    expect(text).toContain('events: deployment');
  });

  it('keeps the MTTR wording', () => {
    expect(describeQuery({ queryType: 'mttr' })).toContain('MTTR p50/p90/mean per panel interval');
  });
});

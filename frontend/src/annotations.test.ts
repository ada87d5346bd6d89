import { createDataFrame, FieldType } from '@grafana/data';
import { lastValueFrom } from 'rxjs';

import { incidentsToAnnotations } from './annotations';
import { DataSource } from './datasource';
import { FakeTemplateSrv } from './testing/fakeTemplateSrv';

const T0 = Date.UTC(2026, 0, 10, 12, 0, 0);
const NOW = T0 + 10 * 3600_000;

/** An `incidents` frame as the backend sends it (field names of issue 4). */
function incidentsFrame() {
  return createDataFrame({
    refId: 'Anno',
    fields: [
      { name: 'repo', type: FieldType.string, values: ['org/app', 'org/api', 'org/app', 'org/web'] },
      { name: 'environment', type: FieldType.string, values: ['production', 'staging', 'production', ''] },
      { name: 'status', type: FieldType.string, values: ['resolved', 'open', 'superseded', 'resolved'] },
      { name: 'failed_at', type: FieldType.time, values: [T0, T0 + 3600_000, T0 + 60_000, T0 + 7200_000] },
      { name: 'recovered_at', type: FieldType.time, values: [T0 + 5400_000, null, null, T0 + 7380_000] },
      { name: 'recovery_seconds', type: FieldType.number, values: [5400, null, null, 180] },
      { name: 'flaky', type: FieldType.boolean, values: [false, false, false, true] },
      { name: 'chain_failures', type: FieldType.number, values: [3, 1, null, 1] },
      { name: 'pipeline', type: FieldType.number, values: [41, 7, 42, 12] },
      { name: 'recovered_by', type: FieldType.number, values: [44, null, null, 13] },
      {
        name: 'url',
        type: FieldType.string,
        values: ['https://ci.example.com/repos/1/pipeline/41', 'javascript:alert(1)', '', 'https://ci.example.com/repos/3/pipeline/12'],
      },
    ],
  });
}

describe('incidentsToAnnotations', () => {
  const events = incidentsToAnnotations([incidentsFrame()], NOW);

  it('maps a resolved incident to a region from failure to recovery', () => {
    expect(events[0]).toEqual({
      time: T0,
      timeEnd: T0 + 5400_000,
      isRegion: true,
      title: 'org/app · production',
      text:
        'Recovered in 1h 30m<br>3 failed deploys in a row<br>Recovered by pipeline #44<br>' +
        '<a href="https://ci.example.com/repos/1/pipeline/41" target="_blank" rel="noopener noreferrer">Pipeline #41</a>',
      tags: ['resolved'],
      color: 'green',
    });
  });

  it('runs an open incident up to now, and links only http(s) URLs', () => {
    expect(events[1]).toMatchObject({
      time: T0 + 3600_000,
      timeEnd: NOW,
      isRegion: true,
      title: 'org/api · staging',
      tags: ['open'],
      color: 'red',
    });
    expect(events[1].text).toBe('Open for 9h 00m<br>Pipeline #7');
  });

  it('shows a superseded failure without recovery as a point', () => {
    expect(events[2]).toMatchObject({ time: T0 + 60_000, timeEnd: T0 + 60_000, isRegion: false, tags: ['superseded'] });
  });

  it('tags flaky incidents and titles an incident without environment with its repo', () => {
    expect(events[3]).toMatchObject({ title: 'org/web', tags: ['resolved', 'flaky'] });
    expect(events[3].text).toContain('Recovered in 3m');
  });

  it('escapes HTML from the data', () => {
    const frame = createDataFrame({
      fields: [
        { name: 'repo', type: FieldType.string, values: ['a/b'] },
        { name: 'status', type: FieldType.string, values: ['<b>x</b>'] },
        { name: 'failed_at', type: FieldType.time, values: [T0] },
        { name: 'pipeline', type: FieldType.string, values: ['<img src=x onerror=alert(1)>'] },
      ],
    });
    const [event] = incidentsToAnnotations([frame], NOW);
    expect(event.text).not.toContain('<img');
    expect(event.text).not.toContain('<b>');
  });

  it('ignores frames that are not incident tables', () => {
    const mttr = createDataFrame({
      fields: [
        { name: 'time', type: FieldType.time, values: [T0] },
        { name: 'p50_seconds', type: FieldType.number, values: [60] },
      ],
    });
    expect(incidentsToAnnotations([mttr], NOW)).toEqual([]);
  });

  it('is what the data source uses to process annotation results', async () => {
    const ds = new DataSource(
      { id: 1, uid: 'wp', type: 't', name: 'n', jsonData: {}, meta: {}, access: 'proxy', readOnly: false } as never,
      new FakeTemplateSrv()
    );
    const processed = await lastValueFrom(
      ds.annotations!.processEvents!({ name: 'x', enable: true, iconColor: 'red' }, [incidentsFrame()])
    );
    expect(processed).toHaveLength(4);
    expect(processed![0].title).toBe('org/app · production');
  });
});

import { AnnotationEvent, DataFrame, Field, FieldType, textUtil } from '@grafana/data';

import { formatDuration, isHttpUrl } from './format';

/** Status colours: open incidents red, recovered green, superseded grey. */
const STATUS_COLORS: Record<string, string> = {
  open: 'red',
  resolved: 'green',
  superseded: 'gray',
};

function fieldByName(frame: DataFrame, name: string): Field | undefined {
  return frame.fields.find((f) => f.name === name);
}

function toMillis(value: unknown): number | undefined {
  if (value === null || value === undefined || value === '') {
    return undefined;
  }
  if (typeof value === 'number') {
    return Number.isFinite(value) ? value : undefined;
  }
  if (value instanceof Date) {
    return value.getTime();
  }
  const parsed = Date.parse(String(value));
  return Number.isNaN(parsed) ? undefined : parsed;
}

function str(value: unknown): string {
  return value === null || value === undefined ? '' : String(value);
}

/** True if the frame looks like an `incidents` frame. */
export function isIncidentsFrame(frame: DataFrame): boolean {
  const failedAt = fieldByName(frame, 'failed_at');
  return !!failedAt && (failedAt.type === FieldType.time || failedAt.type === FieldType.number) && !!fieldByName(frame, 'repo');
}

/**
 * Maps rows of `incidents` frames to region annotations: failure → recovery,
 * an open incident runs until `now`. Title "repo · environment", tags
 * [status, "flaky"?], text with the recovery time and a link to the failing
 * pipeline. Frames that are not incident tables are ignored.
 */
export function incidentsToAnnotations(frames: DataFrame[], now: number = Date.now()): AnnotationEvent[] {
  const events: AnnotationEvent[] = [];
  for (const frame of frames) {
    if (!isIncidentsFrame(frame)) {
      continue;
    }
    const get = (name: string, i: number) => fieldByName(frame, name)?.values[i];
    for (let i = 0; i < frame.length; i++) {
      const failedAt = toMillis(get('failed_at', i));
      if (failedAt === undefined) {
        continue;
      }
      const repo = str(get('repo', i));
      const environment = str(get('environment', i));
      const status = str(get('status', i)) || 'resolved';
      const recoveredAt = toMillis(get('recovered_at', i));
      const flaky = get('flaky', i) === true;
      const pipeline = str(get('pipeline', i));
      const url = str(get('url', i));
      const recoveredBy = str(get('recovered_by', i));
      const chain = Number(get('chain_failures', i));
      const recoverySeconds = get('recovery_seconds', i);

      let timeEnd: number;
      if (recoveredAt !== undefined) {
        timeEnd = recoveredAt;
      } else if (status === 'open') {
        timeEnd = Math.max(now, failedAt);
      } else {
        timeEnd = failedAt;
      }

      const lines: string[] = [];
      if (status === 'open') {
        lines.push(`Open for ${formatDuration((now - failedAt) / 1000)}`);
      } else if (typeof recoverySeconds === 'number') {
        lines.push(`Recovered in ${formatDuration(recoverySeconds)}`);
      } else {
        lines.push(`Status: ${textUtil.escapeHtml(status)}`);
      }
      if (Number.isFinite(chain) && chain > 1) {
        lines.push(`${chain} failed deploys in a row`);
      }
      if (recoveredBy !== '') {
        lines.push(`Recovered by pipeline #${textUtil.escapeHtml(recoveredBy)}`);
      }
      if (pipeline !== '') {
        const label = `Pipeline #${textUtil.escapeHtml(pipeline)}`;
        lines.push(
          isHttpUrl(url) ? `<a href="${textUtil.escapeHtml(url)}" target="_blank" rel="noopener noreferrer">${label}</a>` : label
        );
      }

      const tags = [status];
      if (flaky) {
        tags.push('flaky');
      }

      events.push({
        time: failedAt,
        timeEnd,
        isRegion: timeEnd > failedAt,
        title: environment !== '' ? `${repo} · ${environment}` : repo,
        text: lines.join('<br>'),
        tags,
        color: STATUS_COLORS[status],
      });
    }
  }
  return events;
}

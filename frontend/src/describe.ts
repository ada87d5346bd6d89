import { appliesTo } from './queryFields';
import { SETTINGS_DEFAULTS, WoodpeckerOptions, WoodpeckerQuery } from './types';

function list(values: string[] | undefined, fallback: string): string {
  return values && values.length > 0 ? values.join(', ') : fallback;
}

/** A series query's head: what per which bucket, rolling, grouped. */
function perBucket(what: string, query: Partial<WoodpeckerQuery>): string {
  let head = `${what} per ${query.bucket || 'panel interval'}`;
  if (query.rolling) {
    head += `, rolling ${query.rolling}`;
  }
  if (query.groupBy?.length) {
    head += `, by ${query.groupBy.join(' and ')}`;
  }
  return head;
}

/**
 * One line saying what a query asks for, e.g.
 * "MTTR p50/p90/mean per 1d, rolling 30d, by repo · repos: all · environments: production · events: deployment · window 7d".
 * Fields the query leaves out show the data source's defaults.
 */
export function describeQuery(query: Partial<WoodpeckerQuery>, settings: WoodpeckerOptions = {}): string {
  const type = query.queryType ?? 'summary';
  const parts: string[] = [];

  switch (type) {
    case 'mttr':
      parts.push(perBucket('MTTR p50/p90/mean', query));
      break;
    case 'trends':
      parts.push(perBucket('Deploy frequency, lead time, change failure, rework and recovery', query));
      break;
    case 'summary': {
      let head = 'Summary of recovery, deploys and lead time';
      if (query.groupBy?.length) {
        head += ` by ${query.groupBy.join(' and ')}`;
      }
      if (query.metric) {
        head += `, metric ${query.metric}`;
      }
      parts.push(head);
      break;
    }
    case 'incidents':
      parts.push(query.includeSuperseded ? 'Incidents, superseded included' : 'Incidents');
      break;
    case 'deploys':
      parts.push('Deploy pipelines');
      break;
    case 'changes':
      parts.push('Changes and their lead time');
      break;
  }

  parts.push(`repos: ${list(query.repos, 'all')}`);
  const environments = query.environments?.length ? query.environments : settings.environments;
  parts.push(`environments: ${list(environments, 'all')}`);
  const branches = query.branches?.length ? query.branches : settings.branches;
  if (branches?.length) {
    parts.push(`branches: ${branches.join(', ')}`);
  }
  const events = query.events?.length ? query.events : (settings.events ?? SETTINGS_DEFAULTS.events);
  parts.push(`events: ${list(events, 'all')}`);
  const steps = query.deploySteps?.length ? query.deploySteps : settings.deploySteps;
  if (steps?.length) {
    parts.push(`deploy steps: ${steps.join(', ')}`);
  }
  if (appliesTo(type, 'changeEvents')) {
    const changeEvents = query.changeEvents?.length
      ? query.changeEvents
      : (settings.changeEvents ?? SETTINGS_DEFAULTS.changeEvents);
    parts.push(`change events: ${list(changeEvents, 'none')}`);
  }
  if (appliesTo(type, 'windowDays')) {
    const statuses = query.failureStatuses?.length
      ? query.failureStatuses
      : (settings.failureStatuses ?? SETTINGS_DEFAULTS.failureStatuses);
    parts.push(`failures: ${list(statuses, 'none')}`);
    const flaky = query.flakyMinutes ?? settings.flakyMinutes ?? SETTINGS_DEFAULTS.flakyMinutes;
    parts.push(`flaky < ${flaky}m`);
    const windowDays = query.windowDays ?? settings.windowDays ?? SETTINGS_DEFAULTS.windowDays;
    parts.push(`recovery window ${windowDays}d`);
  }
  return parts.join(' · ');
}

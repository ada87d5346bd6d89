import { DataSourceJsonData, SelectableValue } from '@grafana/data';
import { DataQuery } from '@grafana/schema';

import contract from './contract.json';

/** The query types the backend answers. */
export type QueryType = 'incidents' | 'mttr' | 'trends' | 'summary' | 'deploys' | 'changes';

export type OpenIncidents = 'exclude' | 'censor';

export type GroupByKey = 'repo' | 'environment';

/**
 * The query JSON sent to the backend. camelCase, every field optional: a field
 * left out falls back to the data source's default (jsonData) on the backend.
 */
export interface WoodpeckerQuery extends DataQuery {
  queryType?: QueryType;
  /** Repo full names ("org/app"); empty = every repo the token lists. */
  repos?: string[];
  environments?: string[];
  branches?: string[];
  events?: string[];
  /** Workflow or step names, or globs with `*` and `?`, that are the deploy; empty = the whole pipeline. */
  deploySteps?: string[];
  /** Events whose pipelines are changes for lead time. */
  changeEvents?: string[];
  failureStatuses?: string[];
  windowDays?: number;
  flakyMinutes?: number;
  minSample?: number;
  openIncidents?: OpenIncidents;
  /** Grafana-style duration (`1d`, `6h`); default: the panel interval. */
  bucket?: string;
  /** Grafana-style duration of the rolling window (`30d`); optional. */
  rolling?: string;
  groupBy?: GroupByKey[];
  includeSuperseded?: boolean;
  /** `summary` only: reduce the summary to this one numeric field per group (for alert rules). */
  metric?: string;
}

/** Data source settings (jsonData); each is a default any query may override. */
export interface WoodpeckerOptions extends DataSourceJsonData {
  events?: string[];
  deploySteps?: string[];
  changeEvents?: string[];
  branches?: string[];
  environments?: string[];
  failureStatuses?: string[];
  windowDays?: number;
  flakyMinutes?: number;
  minSample?: number;
  openIncidents?: OpenIncidents;
  maxConcurrency?: number;
  timeoutSeconds?: number;
  queryTimeoutSeconds?: number;
  failureBackoffSeconds?: number;
  maxCachedPipelines?: number;
  maxPipelinesPerRepo?: number;
  /** Learn from Woodpecker's user feed which repos changed; off: ask every repo. */
  userFeed?: boolean;
  /** Serve the built-in demo history instead of a Woodpecker server. */
  demo?: boolean;
  /** The store Grafana replicas share (Redis or Valkey), e.g. redis://10.0.0.5:6379/0. */
  redisUrl?: string;
  redisUser?: string;
}

/** Secrets: sent to the backend only, never returned to the browser. */
export interface WoodpeckerSecureJsonData {
  token?: string;
  redisPassword?: string;
}

/**
 * Defaults the backend applies when jsonData leaves a setting out. They come
 * from `contract.json`, which the backend writes and its tests check
 * (`tests/contract.rs`), so the two cannot drift.
 */
export const SETTINGS_DEFAULTS = {
  ...contract.defaults,
  deploySteps: contract.defaults.deploySteps as string[],
  openIncidents: contract.defaults.openIncidents as OpenIncidents,
};

/** What a pipeline's deploy is when no deploy steps are set. */
export const WHOLE_PIPELINE = 'the whole pipeline';

/**
 * The placeholder of a field left empty: what applies then, as "default: …",
 * so a default never looks like a value the user chose. `none` names an
 * empty list (e.g. "the whole pipeline").
 */
export function defaultPlaceholder(value: number | string | string[], none = 'none'): string {
  return `default: ${Array.isArray(value) ? value.join(', ') || none : value}`;
}

export const DEFAULT_QUERY: Partial<WoodpeckerQuery> = {
  queryType: 'summary',
};

export const QUERY_TYPES: Array<SelectableValue<QueryType>> = [
  {
    label: 'Summary',
    value: 'summary',
    description: 'One row: MTTR p50/p90/mean, open incidents, deploys, change failure rate, lead time',
  },
  { label: 'MTTR', value: 'mttr', description: 'Time series of recovery time (p50, p90, mean) per bucket' },
  {
    label: 'Trends',
    value: 'trends',
    description:
      'Time series of every key per bucket: deploy frequency, lead time p50, change failure rate, rework rate, recovery p50',
  },
  { label: 'Incidents', value: 'incidents', description: 'Table of failed deployments and their recovery' },
  { label: 'Deploys', value: 'deploys', description: 'Table of the deploy pipelines the metrics are built from' },
  {
    label: 'Changes',
    value: 'changes',
    description: 'Table of changes, the deploy that delivered each and its lead time; waiting changes too',
  },
];

/** Woodpecker pipeline events. */
export const WOODPECKER_EVENTS = [
  'push',
  'pull_request',
  'pull_request_closed',
  'pull_request_metadata',
  'tag',
  'release',
  'deployment',
  'cron',
  'manual',
];

/** Pipeline statuses that may count as a failed deploy (the backend accepts exactly these). */
export const FAILURE_STATUSES = ['failure', 'error', 'killed', 'canceled', 'declined', 'blocked'];

/**
 * Numeric summary fields a `summary` query's `metric` may name. Written by
 * the backend into `contract.json`, so the editor offers exactly what it accepts.
 */
export const SUMMARY_METRICS: string[] = contract.columns.summaryMetrics;

/** A readable label for a summary field: `oldest_open_seconds` → "Oldest open (seconds)". */
export function metricLabel(name: string): string {
  const seconds = name.endsWith('_seconds');
  const words = (seconds ? name.slice(0, -'_seconds'.length) : name).split('_').join(' ');
  const label = words.charAt(0).toUpperCase() + words.slice(1);
  return seconds ? `${label} (seconds)` : label;
}

export const GROUP_BY_KEYS: GroupByKey[] = ['repo', 'environment'];

/** What a template-variable query asks for. */
export type VariableQueryKind = 'repos' | 'environments' | 'branches';

export interface WoodpeckerVariableQuery extends DataQuery {
  kind: VariableQueryKind;
  /** For environments/branches: limit to these repos (may hold variables); empty = all repos. */
  repos?: string[];
}

/** Backend resource paths (CallResource) used by the editors and variables. */
export type ResourcePath = 'repos' | 'environments' | 'branches';

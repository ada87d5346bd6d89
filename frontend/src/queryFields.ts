import { QueryType, WoodpeckerQuery } from './types';

type Field = keyof WoodpeckerQuery;

/** What picks the deploys: every type reads these. */
const DEPLOY_FIELDS: Field[] = ['repos', 'environments', 'branches', 'events', 'deploySteps'];
/** What makes an incident and its recovery statistics. */
const RECOVERY_FIELDS: Field[] = ['failureStatuses', 'windowDays', 'flakyMinutes', 'minSample', 'openIncidents'];

/**
 * The query fields each type reads on the backend (src/plugin/run.rs): the
 * editor shows only these, and a type switch drops the others so the saved
 * query says nothing it does not use.
 */
const TYPE_FIELDS: Record<QueryType, Field[]> = {
  summary: [...DEPLOY_FIELDS, ...RECOVERY_FIELDS, 'changeEvents', 'groupBy', 'metric'],
  mttr: [...DEPLOY_FIELDS, ...RECOVERY_FIELDS, 'bucket', 'rolling', 'groupBy'],
  trends: [...DEPLOY_FIELDS, ...RECOVERY_FIELDS, 'changeEvents', 'bucket', 'rolling', 'groupBy'],
  incidents: [...DEPLOY_FIELDS, ...RECOVERY_FIELDS, 'includeSuperseded'],
  deploys: DEPLOY_FIELDS,
  changes: [...DEPLOY_FIELDS, 'changeEvents'],
};

const TYPED_FIELDS = new Set(Object.values(TYPE_FIELDS).flat());

export function appliesTo(type: QueryType, field: Field): boolean {
  return TYPE_FIELDS[type].includes(field);
}

/** The query switched to `type`: fields of other types dropped, Grafana's own (refId, datasource, …) kept. */
export function withType(query: WoodpeckerQuery, type: QueryType): WoodpeckerQuery {
  const next: WoodpeckerQuery = { ...query, queryType: type };
  for (const key of Object.keys(next) as Field[]) {
    if (TYPED_FIELDS.has(key) && !appliesTo(type, key)) {
      delete next[key];
    }
  }
  return next;
}

import { ScopedVars } from '@grafana/data';
import { TemplateSrv } from '@grafana/runtime';

import { GroupByKey, WoodpeckerQuery } from './types';

/** Joins the values of a multi-value variable; a control character no repo, branch or environment name holds. */
const SEP = '\u001f';

/**
 * Values that stand for "everything" when a variable's custom "All" value is
 * one of them. An empty list means "no filter" to the backend, so a list that
 * contains one of these becomes empty.
 */
const ALL_VALUES = new Set(['*', '.*', '$__all']);

/** In a list of globs (deploy steps) `*` is a pattern, so only Grafana's own "All" value means everything. */
const GLOB_ALL_VALUES = new Set(['$__all']);

/**
 * Expands template variables in a list of strings. A multi-value or "All"
 * variable becomes one entry per value; duplicates and empty strings are
 * dropped. When any entry expands to a wildcard "All" value, the whole list
 * becomes [] (= no filter).
 */
export function expandList(
  templateSrv: TemplateSrv,
  items: string[] | undefined,
  scopedVars?: ScopedVars,
  allValues = ALL_VALUES
): string[] | undefined {
  if (!items) {
    return items;
  }
  const out: string[] = [];
  for (const item of items) {
    const replaced = templateSrv.replace(item, scopedVars, (value: unknown) => {
      const values = Array.isArray(value) ? value : [value];
      return values.map((v) => String(v ?? '')).join(SEP);
    });
    for (const value of replaced.split(SEP)) {
      const v = value.trim();
      if (allValues.has(v)) {
        return [];
      }
      if (v !== '' && !out.includes(v)) {
        out.push(v);
      }
    }
  }
  return out;
}

function expandString(templateSrv: TemplateSrv, value: string | undefined, scopedVars?: ScopedVars) {
  if (value === undefined) {
    return undefined;
  }
  const replaced = templateSrv.replace(value, scopedVars).trim();
  return replaced === '' ? undefined : replaced;
}

/**
 * The query with every template variable expanded: list fields become arrays
 * of concrete values, duration fields and the metric are interpolated (`$__interval` works).
 * Numeric fields and flags pass through unchanged.
 */
export function interpolateQuery(
  templateSrv: TemplateSrv,
  query: WoodpeckerQuery,
  scopedVars?: ScopedVars
): WoodpeckerQuery {
  const out: WoodpeckerQuery = {
    ...query,
    repos: expandList(templateSrv, query.repos, scopedVars),
    environments: expandList(templateSrv, query.environments, scopedVars),
    branches: expandList(templateSrv, query.branches, scopedVars),
    events: expandList(templateSrv, query.events, scopedVars),
    deploySteps: expandList(templateSrv, query.deploySteps, scopedVars, GLOB_ALL_VALUES),
    changeEvents: expandList(templateSrv, query.changeEvents, scopedVars),
    failureStatuses: expandList(templateSrv, query.failureStatuses, scopedVars),
    groupBy: expandList(templateSrv, query.groupBy, scopedVars) as GroupByKey[] | undefined,
    bucket: expandString(templateSrv, query.bucket, scopedVars),
    rolling: expandString(templateSrv, query.rolling, scopedVars),
    metric: expandString(templateSrv, query.metric, scopedVars),
  };
  // Keep the JSON minimal: no `"bucket": undefined` keys.
  for (const key of Object.keys(out) as Array<keyof WoodpeckerQuery>) {
    if (out[key] === undefined) {
      delete out[key];
    }
  }
  return out;
}

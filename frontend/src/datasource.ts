import {
  AnnotationQuery,
  CoreApp,
  DataFrame,
  DataSourceInstanceSettings,
  MetricFindValue,
  ScopedVars,
} from '@grafana/data';
import { DataSourceWithBackend, getTemplateSrv, TemplateSrv } from '@grafana/runtime';
import { of } from 'rxjs';

import { incidentsToAnnotations } from './annotations';
import { AnnotationQueryEditor } from './components/AnnotationQueryEditor';
import { describeQuery } from './describe';
import { expandList, interpolateQuery } from './templating';
import { WoodpeckerVariableSupport } from './variables';
import {
  DEFAULT_QUERY,
  ResourcePath,
  VariableQueryKind,
  WoodpeckerOptions,
  WoodpeckerQuery,
  WoodpeckerVariableQuery,
} from './types';

export class DataSource extends DataSourceWithBackend<WoodpeckerQuery, WoodpeckerOptions> {
  readonly settings: WoodpeckerOptions;

  constructor(
    instanceSettings: DataSourceInstanceSettings<WoodpeckerOptions>,
    private readonly templateSrv: TemplateSrv = getTemplateSrv()
  ) {
    super(instanceSettings);
    this.settings = instanceSettings.jsonData ?? {};
    this.variables = new WoodpeckerVariableSupport(this);
    this.annotations = {
      // Saved annotation JSON from any version becomes an `incidents` query.
      prepareAnnotation: (json: AnnotationQuery<WoodpeckerQuery>) => {
        const target: WoodpeckerQuery = { refId: 'Anno', ...(json.target ?? {}), queryType: 'incidents' };
        return { ...json, target };
      },
      prepareQuery: (anno: AnnotationQuery<WoodpeckerQuery>) =>
        anno.target ? { ...anno.target, queryType: 'incidents' } : undefined,
      processEvents: (_anno: AnnotationQuery<WoodpeckerQuery>, frames: DataFrame[]) =>
        of(incidentsToAnnotations(frames)),
      getDefaultQuery: () => ({ queryType: 'incidents' }),
      QueryEditor: AnnotationQueryEditor,
    };
  }

  /** A new query: `summary`; every other field inherits the data source's defaults on the backend. */
  getDefaultQuery(_app: CoreApp): Partial<WoodpeckerQuery> {
    return { ...DEFAULT_QUERY };
  }

  filterQuery(query: WoodpeckerQuery): boolean {
    return !query.hide;
  }

  /** Expands template variables; multi-value and "All" variables become arrays. */
  applyTemplateVariables(query: WoodpeckerQuery, scopedVars: ScopedVars): WoodpeckerQuery {
    return interpolateQuery(this.templateSrv, query, scopedVars);
  }

  /** Explore and query history: the same interpolation, keeping the data source reference. */
  interpolateVariablesInQueries(queries: WoodpeckerQuery[], scopedVars: ScopedVars | {}): WoodpeckerQuery[] {
    return queries.map((query) => ({
      ...this.applyTemplateVariables(query, scopedVars as ScopedVars),
      datasource: this.getRef(),
    }));
  }

  getQueryDisplayText(query: WoodpeckerQuery): string {
    return describeQuery(query, this.settings);
  }

  /** Repos visible to the token (`GET repos`). */
  async getRepos(): Promise<string[]> {
    return this.fetchList('repos');
  }

  /** Environments seen in the deploys of these repos (`GET environments?repos=a/b,c/d`); variables are expanded. */
  async getEnvironments(repos?: string[], scopedVars?: ScopedVars): Promise<string[]> {
    return this.fetchList('environments', repos, scopedVars);
  }

  /** Branches of these repos (`GET branches?repos=a/b,c/d`); variables are expanded. */
  async getBranches(repos?: string[], scopedVars?: ScopedVars): Promise<string[]> {
    return this.fetchList('branches', repos, scopedVars);
  }

  async fetchList(path: ResourcePath, repos?: string[], scopedVars?: ScopedVars): Promise<string[]> {
    const expanded = expandList(this.templateSrv, repos, scopedVars) ?? [];
    const params = path !== 'repos' && expanded.length > 0 ? { repos: expanded.join(',') } : undefined;
    const result: unknown = await this.getResource(path, params);
    if (!Array.isArray(result)) {
      throw new Error(`Unexpected answer from the plugin backend for "${path}": expected a list of names.`);
    }
    return result.map((v) => String(v)).sort((a, b) => a.localeCompare(b));
  }

  /**
   * Values for template variables: repos, environments or branches. Also
   * accepts the plain-text forms `repos`, `environments(org/app,$repo)` and
   * `branches($repo)`.
   */
  async metricFindQuery(query: WoodpeckerVariableQuery | string, options?: { scopedVars?: ScopedVars }) {
    const parsed = typeof query === 'string' ? parseVariableQuery(query) : query;
    const kind: VariableQueryKind = parsed.kind ?? 'repos';
    const values = await this.fetchList(kind, parsed.repos, options?.scopedVars);
    return values.map((value): MetricFindValue => ({ text: value, value }));
  }

  /** The repos, environments and branches template variables of the dashboard, as `$name`. */
  getVariableNames(): string[] {
    return this.templateSrv.getVariables().map((v) => `$${v.name}`);
  }
}

/** `repos`, `environments`, `environments(a/b, $repo)`, `branches(a/b)`. */
export function parseVariableQuery(text: string): WoodpeckerVariableQuery {
  const match = /^\s*(repos|environments|branches)\s*(?:\((.*)\))?\s*$/i.exec(text);
  if (!match) {
    return { refId: 'variable', kind: 'repos' };
  }
  const repos = (match[2] ?? '')
    .split(',')
    .map((r) => r.trim())
    .filter((r) => r !== '');
  return { refId: 'variable', kind: match[1].toLowerCase() as VariableQueryKind, repos };
}

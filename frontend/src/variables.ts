import { CustomVariableSupport, DataQueryRequest, DataQueryResponse } from '@grafana/data';
import { from, map, Observable } from 'rxjs';

import { VariableQueryEditor } from './components/VariableQueryEditor';
import type { DataSource } from './datasource';
import { WoodpeckerVariableQuery } from './types';

/**
 * Query variables: repos, environments or branches (optionally of some repos,
 * which may themselves be variables, e.g. environments of `$repo`). Answers
 * `MetricFindValue`s ({text, value}).
 */
export class WoodpeckerVariableSupport extends CustomVariableSupport<DataSource, WoodpeckerVariableQuery> {
  editor = VariableQueryEditor;

  constructor(private readonly datasource: DataSource) {
    super();
  }

  query(request: DataQueryRequest<WoodpeckerVariableQuery>): Observable<DataQueryResponse> {
    const [target] = request.targets;
    const query: WoodpeckerVariableQuery = target ?? { refId: 'variable', kind: 'repos' };
    return from(this.datasource.metricFindQuery(query, { scopedVars: request.scopedVars })).pipe(
      map((values) => ({ data: values }))
    );
  }
}

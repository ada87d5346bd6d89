import React from 'react';
import { AnnotationQuery, QueryEditorProps } from '@grafana/data';

import type { DataSource } from '../datasource';
import { WoodpeckerQuery } from '../types';
import { QueryEditor } from './QueryEditor';

type Props = QueryEditorProps<DataSource, WoodpeckerQuery> & {
  annotation?: AnnotationQuery<WoodpeckerQuery>;
  onAnnotationChange?: (annotation: AnnotationQuery<WoodpeckerQuery>) => void;
};

/**
 * Annotation queries are `incidents` queries: each incident becomes a region
 * from the failure to its recovery (open ones run until now).
 */
export function AnnotationQueryEditor(props: Props) {
  const { annotation, onAnnotationChange } = props;
  const stored = annotation?.target ?? props.query;
  const query: WoodpeckerQuery = { ...stored, refId: stored?.refId ?? 'Anno', queryType: 'incidents' };

  const onChange = (next: WoodpeckerQuery) => {
    const target = { ...next, queryType: 'incidents' as const };
    if (annotation && onAnnotationChange) {
      onAnnotationChange({ ...annotation, target });
    } else {
      props.onChange(target);
    }
  };

  return <QueryEditor {...props} query={query} onChange={onChange} fixedQueryType="incidents" />;
}

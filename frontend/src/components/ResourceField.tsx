import React from 'react';
import { InlineField } from '@grafana/ui';

import { ListSelect } from './ListSelect';
import type { ResourceList } from './useResourceList';

interface Props {
  label: string;
  tooltip: string;
  inputId: string;
  labelWidth: number;
  /** The backend resource the options come from; its error shows under the field. */
  list: ResourceList;
  value: string[] | undefined;
  variables: string[];
  placeholder: string;
  onChange: (values: string[]) => void;
}

/** A labelled multi-select of a backend resource (repos, environments, branches) that accepts `$variables`. */
export function ResourceField({
  label,
  tooltip,
  inputId,
  labelWidth,
  list,
  value,
  variables,
  placeholder,
  onChange,
}: Props) {
  return (
    <InlineField label={label} labelWidth={labelWidth} tooltip={tooltip} invalid={!!list.error} error={list.error}>
      <ListSelect
        inputId={inputId}
        aria-label={label}
        value={value}
        options={list.values}
        variables={variables}
        isLoading={list.loading}
        placeholder={placeholder}
        onChange={onChange}
      />
    </InlineField>
  );
}

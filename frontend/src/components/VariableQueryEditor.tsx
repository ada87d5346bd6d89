import React, { useMemo } from 'react';
import { QueryEditorProps } from '@grafana/data';
import { InlineField, InlineFieldRow, RadioButtonGroup, Stack, Text } from '@grafana/ui';

import type { DataSource } from '../datasource';
import { VariableQueryKind, WoodpeckerOptions, WoodpeckerQuery, WoodpeckerVariableQuery } from '../types';
import { ResourceField } from './ResourceField';
import { useResourceList } from './useResourceList';

type Props = QueryEditorProps<DataSource, WoodpeckerQuery, WoodpeckerOptions, WoodpeckerVariableQuery>;

const KINDS: Array<{ label: string; value: VariableQueryKind; description: string }> = [
  { label: 'Repos', value: 'repos', description: 'Repositories the token can see' },
  { label: 'Environments', value: 'environments', description: 'Deploy environments of the chosen repos' },
  { label: 'Branches', value: 'branches', description: 'Branches of the chosen repos' },
];

/** Editor of a query variable: repos, or environments/branches of some repos (which may be `$repo`). */
export function VariableQueryEditor({ query, onChange, datasource }: Props) {
  const kind: VariableQueryKind = query.kind ?? 'repos';
  const variables = useMemo(() => datasource.getVariableNames(), [datasource]);
  const repos = useResourceList(datasource, 'repos');

  const change = (patch: Partial<WoodpeckerVariableQuery>) => {
    onChange({ ...query, refId: query.refId ?? 'variable', kind, ...patch });
  };

  return (
    <Stack direction="column" gap={1}>
      <InlineFieldRow>
        <InlineField label="Values" labelWidth={16} tooltip="What the variable lists">
          <RadioButtonGroup<VariableQueryKind>
            options={KINDS}
            value={kind}
            onChange={(v) => change({ kind: v })}
            aria-label="Variable values"
          />
        </InlineField>
      </InlineFieldRow>
      {kind !== 'repos' && (
        <InlineFieldRow>
          <ResourceField
            label="Of repos"
            labelWidth={16}
            tooltip="Only the environments or branches of these repos (e.g. $repo). Empty: all repos."
            inputId="variable-repos"
            list={repos}
            value={query.repos}
            variables={variables}
            placeholder="All repos"
            onChange={(v) => change({ repos: v })}
          />
        </InlineFieldRow>
      )}
      <Text variant="bodySmall" color="secondary">
        {kind === 'repos'
          ? 'Lists every repository (org/name) the token can see.'
          : `Lists the ${kind} of ${query.repos?.length ? query.repos.join(', ') : 'all repos'}.`}
      </Text>
    </Stack>
  );
}

import React from 'react';
import { QueryEditorHelpProps } from '@grafana/data';
import { Button, Stack, Text } from '@grafana/ui';

import { WoodpeckerQuery } from '../types';

interface Example {
  title: string;
  description: string;
  query: Omit<WoodpeckerQuery, 'refId'>;
}

export const EXAMPLES: Example[] = [
  {
    title: 'MTTR at a glance',
    description: 'p50/p90/mean recovery time, open incidents, deploys and change failure rate of all repos.',
    query: { queryType: 'summary' },
  },
  {
    title: 'MTTR per repo',
    description: 'One summary row per repo and environment; a table or bar gauge shows who recovers slowly.',
    query: { queryType: 'summary', groupBy: ['repo', 'environment'] },
  },
  {
    title: 'MTTR trend, 30 days rolling',
    description: 'Daily points, each over the 30 days before it; smooth enough for a trend line or an alert.',
    query: { queryType: 'mttr', bucket: '1d', rolling: '30d' },
  },
  {
    title: 'Incidents of the selected repos',
    description: 'Table of failed deploys and their recovery; $repo is a repos variable.',
    query: { queryType: 'incidents', repos: ['$repo'] },
  },
  {
    title: 'Production deploys',
    description: 'The deploy pipelines behind the numbers, to check what counts.',
    query: { queryType: 'deploys', environments: ['production'] },
  },
  {
    title: 'Changes and their lead time',
    description: 'Each change (push) with the deploy that delivered it and its lead time; waiting changes too.',
    query: { queryType: 'changes' },
  },
];

/** The query help ("cheat sheet") shown in Explore and the query editor. */
export function QueryHelp({ onClickExample, query }: QueryEditorHelpProps<WoodpeckerQuery>) {
  return (
    <Stack direction="column" gap={2}>
      <Text element="h3">Woodpecker DORA cheat sheet</Text>
      <Text element="p">
        An incident is a failed deploy of a repo and environment; it is resolved by the next successful deploy within
        the recovery window. Failures that follow it before the recovery are superseded. Incidents resolved faster than
        the flaky threshold stay out of the statistics. Empty repos means every repo the token can see; every option
        left empty falls back to the data source settings.
      </Text>
      <ul>
        <li>
          <b>Summary</b>: p50, p90 and mean recovery seconds, open/superseded/flaky counts, deploys, change failure rate
          and DORA band. Good for stat panels and alert rules.
        </li>
        <li>
          <b>MTTR</b>: a time series per bucket (default: the panel interval), optionally over a rolling window and per
          repo or environment.
        </li>
        <li>
          <b>Incidents</b>: one row per incident with a link to the failing pipeline; also usable as annotations.
        </li>
        <li>
          <b>Deploys</b>: the deploy pipelines the metrics are built from.
        </li>
        <li>
          <b>Changes</b>: the pipelines of the change events (default push), each with the successful deploy that
          delivered it and its lead time; a change not yet delivered is waiting.
        </li>
      </ul>
      {EXAMPLES.map((example) => (
        <Stack key={example.title} direction="row" gap={2} alignItems="center">
          <Button
            size="sm"
            variant="secondary"
            onClick={() => onClickExample({ ...example.query, refId: query?.refId ?? 'A' })}
          >
            Use
          </Button>
          <Stack direction="column" gap={0}>
            <Text weight="medium">{example.title}</Text>
            <Text variant="bodySmall" color="secondary">
              {example.description}
            </Text>
          </Stack>
        </Stack>
      ))}
    </Stack>
  );
}

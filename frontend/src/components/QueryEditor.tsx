import React, { useMemo, useState } from 'react';
import { QueryEditorProps, SelectableValue } from '@grafana/data';
import {
  Collapse,
  InlineField,
  InlineFieldRow,
  InlineSwitch,
  RadioButtonGroup,
  Select,
  Stack,
  Text,
} from '@grafana/ui';

import type { DataSource } from '../datasource';
import { describeQuery } from '../describe';
import { appliesTo, withType } from '../queryFields';
import {
  defaultPlaceholder,
  FAILURE_STATUSES,
  GROUP_BY_KEYS,
  GroupByKey,
  metricLabel,
  QUERY_TYPES,
  QueryType,
  SETTINGS_DEFAULTS,
  SUMMARY_METRICS,
  WHOLE_PIPELINE,
  WOODPECKER_EVENTS,
  WoodpeckerOptions,
  WoodpeckerQuery,
} from '../types';
import { durationError, numberError } from '../validation';
import { InlineInput } from './InlineInput';
import { ListSelect } from './ListSelect';
import { OpenIncidentsSelect } from './OpenIncidentsSelect';
import { ResourceField } from './ResourceField';
import { useResourceList } from './useResourceList';

export type Props = QueryEditorProps<DataSource, WoodpeckerQuery, WoodpeckerOptions> & {
  /** Hide the query type choice and use this type (annotations use `incidents`). */
  fixedQueryType?: QueryType;
};

const LABEL_WIDTH = 16;
/** The options' labels are longer ("Failure statuses"); at 16 they wrap onto two lines and overlap the row below. */
const OPTION_LABEL_WIDTH = 20;
/** The empty choice of the Metric select: the whole summary table. */
export const ALL_FIELDS_LABEL = 'All fields (table)';

/**
 * Options of the Metric select: the whole table, the numeric summary fields
 * the backend accepts (contract.json), the dashboard's variables, and a saved
 * value that is none of these so it stays visible.
 */
export function metricOptions(variables: string[], saved?: string): Array<SelectableValue<string>> {
  const options: Array<SelectableValue<string>> = [
    { label: ALL_FIELDS_LABEL, value: '', description: 'Every summary column, one row per group' },
    ...SUMMARY_METRICS.map((name) => ({ label: metricLabel(name), value: name, description: name })),
    ...variables.map((v) => ({ label: v, value: v, description: 'Template variable' })),
  ];
  if (saved && !options.some((o) => o.value === saved)) {
    options.push({ label: saved, value: saved });
  }
  return options;
}

/** A typed number, or undefined for an empty field. */
function parseNumber(text: string): number | undefined {
  return text.trim() === '' ? undefined : Number(text);
}

export function QueryEditor(props: Props) {
  const { query, onChange, onRunQuery, datasource, fixedQueryType } = props;
  const settings = datasource.settings;
  const queryType: QueryType = fixedQueryType ?? query.queryType ?? 'summary';
  const applies = (field: keyof WoodpeckerQuery) => appliesTo(queryType, field);
  const [optionsOpen, setOptionsOpen] = useState(false);

  const variables = useMemo(() => datasource.getVariableNames(), [datasource]);
  const repos = useResourceList(datasource, 'repos');
  const environments = useResourceList(datasource, 'environments', query.repos);
  const branches = useResourceList(datasource, 'branches', query.repos);

  const save = (next: WoodpeckerQuery, run: boolean) => {
    onChange(next);
    if (run) {
      onRunQuery();
    }
  };

  const change = (patch: Partial<WoodpeckerQuery>, run = true) => {
    const next: WoodpeckerQuery = { ...query, ...patch };
    for (const key of Object.keys(patch) as Array<keyof WoodpeckerQuery>) {
      const v = next[key];
      if (v === undefined || (Array.isArray(v) && v.length === 0 && key !== 'repos')) {
        delete next[key];
      }
    }
    save(next, run);
  };

  const recovery = applies('windowDays');
  const windowDefault = settings.windowDays ?? SETTINGS_DEFAULTS.windowDays;
  const flakyDefault = settings.flakyMinutes ?? SETTINGS_DEFAULTS.flakyMinutes;
  const minSampleDefault = settings.minSample ?? SETTINGS_DEFAULTS.minSample;
  const statusesDefault = settings.failureStatuses ?? SETTINGS_DEFAULTS.failureStatuses;
  const eventsDefault = settings.events ?? SETTINGS_DEFAULTS.events;
  const stepsDefault = settings.deploySteps ?? SETTINGS_DEFAULTS.deploySteps;
  const changeEventsDefault = settings.changeEvents ?? SETTINGS_DEFAULTS.changeEvents;
  const openDefault = settings.openIncidents ?? SETTINGS_DEFAULTS.openIncidents;

  const steps = query.deploySteps?.length ? query.deploySteps : stepsDefault;
  const optionsSummary = [
    ...(recovery
      ? [
          `window ${query.windowDays ?? windowDefault}d`,
          `flaky < ${query.flakyMinutes ?? flakyDefault}m`,
          `min sample ${query.minSample ?? minSampleDefault}`,
          `failures: ${(query.failureStatuses?.length ? query.failureStatuses : statusesDefault).join(', ')}`,
        ]
      : []),
    `events: ${(query.events?.length ? query.events : eventsDefault).join(', ')}`,
    ...(steps.length ? [`deploy steps: ${steps.join(', ')}`] : []),
    ...(applies('changeEvents')
      ? [`change events: ${(query.changeEvents?.length ? query.changeEvents : changeEventsDefault).join(', ')}`]
      : []),
  ].join(' · ');

  return (
    <Stack direction="column" gap={1}>
      {!fixedQueryType && (
        <InlineFieldRow>
          <InlineField label="Query type" labelWidth={LABEL_WIDTH} tooltip="What the query returns">
            <RadioButtonGroup<QueryType>
              options={QUERY_TYPES}
              value={queryType}
              onChange={(v) => save(withType(query, v), true)}
              aria-label="Query type"
            />
          </InlineField>
        </InlineFieldRow>
      )}

      <InlineFieldRow>
        <ResourceField
          label="Repos"
          labelWidth={LABEL_WIDTH}
          tooltip="Repositories (org/name). Empty: every repository the token can see. Accepts $variables."
          inputId="query-repos"
          list={repos}
          value={query.repos}
          variables={variables}
          placeholder="All repos"
          onChange={(v) => change({ repos: v })}
        />
        <ResourceField
          label="Environments"
          labelWidth={LABEL_WIDTH}
          tooltip="Deployment environments (Woodpecker deploy target). Empty: the data source's setting, or all. Accepts $variables."
          inputId="query-environments"
          list={environments}
          value={query.environments}
          variables={variables}
          placeholder={defaultPlaceholder(settings.environments ?? [], 'all environments')}
          onChange={(v) => change({ environments: v })}
        />
        <ResourceField
          label="Branches"
          labelWidth={LABEL_WIDTH}
          tooltip="Branches whose pipelines count. Empty: the data source's setting, or all. Accepts $variables."
          inputId="query-branches"
          list={branches}
          value={query.branches}
          variables={variables}
          placeholder={defaultPlaceholder(settings.branches ?? [], 'all branches')}
          onChange={(v) => change({ branches: v })}
        />
      </InlineFieldRow>

      {applies('groupBy') && (
        <InlineFieldRow>
          {applies('bucket') && (
            <InlineInput
              id="query-bucket"
              label="Bucket"
              labelWidth={LABEL_WIDTH}
              tooltip="Length of each point of the series (1h, 1d, 1w; at least 1m). Empty: the panel's interval, never under 1m."
              aria-label="Bucket"
              width={14}
              value={query.bucket ?? ''}
              placeholder="auto"
              error={durationError(query.bucket)}
              onChange={(text) => change({ bucket: text || undefined }, false)}
              onBlur={onRunQuery}
            />
          )}
          {applies('rolling') && (
            <InlineInput
              id="query-rolling"
              label="Rolling"
              labelWidth={LABEL_WIDTH}
              tooltip="Each point summarises the incidents of this trailing window (e.g. 30d; at least 1m) instead of its bucket alone."
              aria-label="Rolling"
              width={14}
              value={query.rolling ?? ''}
              placeholder="off"
              error={durationError(query.rolling)}
              onChange={(text) => change({ rolling: text || undefined }, false)}
              onBlur={onRunQuery}
            />
          )}
          <InlineField
            label="Group by"
            labelWidth={LABEL_WIDTH}
            tooltip="One series (or row) per repo and/or environment."
          >
            <ListSelect
              inputId="query-group-by"
              aria-label="Group by"
              value={query.groupBy}
              options={GROUP_BY_KEYS}
              allowCustomValue={false}
              width={30}
              placeholder="No grouping"
              onChange={(v) => change({ groupBy: v as GroupByKey[] })}
            />
          </InlineField>
          {applies('metric') && (
            <InlineField
              label="Metric"
              labelWidth={LABEL_WIDTH}
              tooltip="One number per group (repo/environment as labels) instead of the table: the shape alert rules need."
            >
              {/* Select (deprecated in favour of Combobox) as in ListSelect: Combobox measures text on a
                  canvas and virtualises its menu, neither of which renders in jsdom tests. */}
              {/* eslint-disable-next-line @typescript-eslint/no-deprecated */}
              <Select<string>
                inputId="query-metric"
                aria-label="Metric"
                width={40}
                options={metricOptions(variables, query.metric)}
                value={query.metric ?? ''}
                onChange={(option: SelectableValue<string>) => change({ metric: option.value || undefined })}
              />
            </InlineField>
          )}
        </InlineFieldRow>
      )}

      {applies('includeSuperseded') && (
        <InlineFieldRow>
          <InlineField
            label="Superseded"
            labelWidth={LABEL_WIDTH}
            tooltip="Also list the later failures of a chain, each pointing at the incident it belongs to (superseded_by)."
          >
            <InlineSwitch
              id="query-include-superseded"
              aria-label="Include superseded"
              value={!!query.includeSuperseded}
              onChange={(e) => change({ includeSuperseded: e.currentTarget.checked || undefined })}
            />
          </InlineField>
        </InlineFieldRow>
      )}

      <Collapse
        label={
          <Stack gap={2} alignItems="center">
            <span>Options</span>
            {!optionsOpen && (
              <Text variant="bodySmall" color="secondary">
                {optionsSummary}
              </Text>
            )}
          </Stack>
        }
        isOpen={optionsOpen}
        onToggle={() => setOptionsOpen(!optionsOpen)}
      >
        {recovery && (
          <InlineFieldRow>
            <InlineInput
              id="query-window-days"
              label="Recovery window"
              labelWidth={OPTION_LABEL_WIDTH}
              tooltip="Days: a success within this many days of the first failure resolves the incident; later, it stays open."
              aria-label="Recovery window days"
              type="number"
              width={16}
              value={query.windowDays === undefined ? '' : String(query.windowDays)}
              placeholder={defaultPlaceholder(windowDefault)}
              suffix="d"
              error={numberError('windowDays', query.windowDays)}
              onChange={(text) => change({ windowDays: parseNumber(text) }, false)}
              onBlur={onRunQuery}
            />
            <InlineInput
              id="query-flaky-minutes"
              label="Flaky below"
              labelWidth={OPTION_LABEL_WIDTH}
              tooltip="Minutes: an incident resolved this fast is flagged flaky and left out of MTTR statistics."
              aria-label="Flaky minutes"
              type="number"
              width={16}
              value={query.flakyMinutes === undefined ? '' : String(query.flakyMinutes)}
              placeholder={defaultPlaceholder(flakyDefault)}
              suffix="m"
              error={numberError('flakyMinutes', query.flakyMinutes)}
              onChange={(text) => change({ flakyMinutes: parseNumber(text) }, false)}
              onBlur={onRunQuery}
            />
            <InlineInput
              id="query-min-sample"
              label="Min sample"
              labelWidth={OPTION_LABEL_WIDTH}
              tooltip="With fewer incidents than this, p50/p90/mean are left empty (null), never 0."
              aria-label="Minimum sample"
              type="number"
              width={16}
              value={query.minSample === undefined ? '' : String(query.minSample)}
              placeholder={defaultPlaceholder(minSampleDefault)}
              error={numberError('minSample', query.minSample)}
              onChange={(text) => change({ minSample: parseNumber(text) }, false)}
              onBlur={onRunQuery}
            />
          </InlineFieldRow>
        )}
        <InlineFieldRow>
          {recovery && (
            <InlineField
              label="Failure statuses"
              labelWidth={OPTION_LABEL_WIDTH}
              tooltip="Pipeline statuses that count as a failed deploy. Empty: the data source's setting."
            >
              <ListSelect
                inputId="query-failure-statuses"
                aria-label="Failure statuses"
                value={query.failureStatuses}
                options={FAILURE_STATUSES}
                allowCustomValue={false}
                width={30}
                placeholder={defaultPlaceholder(statusesDefault)}
                onChange={(v) => change({ failureStatuses: v })}
              />
            </InlineField>
          )}
          {recovery && (
            <InlineField
              label="Open incidents"
              labelWidth={OPTION_LABEL_WIDTH}
              tooltip="Exclude: statistics over resolved incidents only. Censor: open incidents count as recovering at or after the window."
            >
              <OpenIncidentsSelect
                inputId="query-open-incidents"
                value={query.openIncidents}
                fallback={openDefault}
                width={30}
                onChange={(v) => change({ openIncidents: v })}
              />
            </InlineField>
          )}
        </InlineFieldRow>
        <InlineFieldRow>
          <InlineField
            label="Events"
            labelWidth={OPTION_LABEL_WIDTH}
            tooltip="Woodpecker events that count as a deploy. Empty: the data source's setting."
          >
            <ListSelect
              inputId="query-events"
              aria-label="Events"
              value={query.events}
              options={WOODPECKER_EVENTS}
              variables={variables}
              allowCustomValue={false}
              width={30}
              placeholder={defaultPlaceholder(eventsDefault)}
              onChange={(v) => change({ events: v })}
            />
          </InlineField>
          <InlineField
            label="Deploy steps"
            labelWidth={OPTION_LABEL_WIDTH}
            tooltip="Workflow or step names, or globs with * and ? (deploy, deploy-*), that are the deploy inside a pipeline: its outcome and time come from them. Empty: the data source's setting, or the whole pipeline."
          >
            <ListSelect
              inputId="query-deploy-steps"
              aria-label="Deploy steps"
              value={query.deploySteps}
              options={[]}
              variables={variables}
              width={30}
              placeholder={defaultPlaceholder(stepsDefault, WHOLE_PIPELINE)}
              onChange={(v) => change({ deploySteps: v })}
            />
          </InlineField>
          {applies('changeEvents') && (
            <InlineField
              label="Change events"
              labelWidth={OPTION_LABEL_WIDTH}
              tooltip="Woodpecker events whose pipelines are changes for lead time: each is delivered by the next successful deploy of its branch. Empty: the data source's setting."
            >
              <ListSelect
                inputId="query-change-events"
                aria-label="Change events"
                value={query.changeEvents}
                options={WOODPECKER_EVENTS}
                variables={variables}
                allowCustomValue={false}
                width={30}
                placeholder={defaultPlaceholder(changeEventsDefault)}
                onChange={(v) => change({ changeEvents: v })}
              />
            </InlineField>
          )}
        </InlineFieldRow>
      </Collapse>

      <div data-testid="query-preview">
        <Text variant="bodySmall" color="secondary">
          {describeQuery({ ...query, queryType }, settings)}
        </Text>
      </div>
    </Stack>
  );
}

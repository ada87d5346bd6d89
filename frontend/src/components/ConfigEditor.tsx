import React, { ChangeEvent, useState } from 'react';
import { DataSourcePluginOptionsEditorProps } from '@grafana/data';
import {
  Divider,
  FieldSet,
  InlineField,
  InlineFieldRow,
  InlineSwitch,
  Input,
  RadioButtonGroup,
  SecretInput,
  Stack,
  Text,
} from '@grafana/ui';

import { isHttpUrl } from '../format';
import {
  FAILURE_STATUSES,
  OpenIncidents,
  SETTINGS_DEFAULTS,
  WOODPECKER_EVENTS,
  WoodpeckerOptions,
  WoodpeckerSecureJsonData,
} from '../types';
import { ListSelect } from './ListSelect';
import { numberError as numberInputError, OPEN_INCIDENT_OPTIONS } from './QueryEditor';

export type Props = DataSourcePluginOptionsEditorProps<WoodpeckerOptions, WoodpeckerSecureJsonData>;

const LABEL_WIDTH = 24;

/** The message shown under the URL field, or undefined when the URL is fine. */
export function urlError(url: string | undefined): string | undefined {
  const value = (url ?? '').trim();
  if (value === '') {
    return 'Enter the address of your Woodpecker server, e.g. https://ci.example.com.';
  }
  if (!isHttpUrl(value)) {
    return 'The Woodpecker URL must be an http:// or https:// address, e.g. https://ci.example.com.';
  }
  return undefined;
}

type NumericKey = 'windowDays' | 'flakyMinutes' | 'minSample' | 'maxConcurrency' | 'timeoutSeconds';

interface NumericSetting {
  key: NumericKey;
  label: string;
  tooltip: string;
  min: number;
  /** Whole numbers only. */
  whole: boolean;
  /** The value must be above `min` rather than at least `min`. */
  exclusive?: boolean;
}

const NUMERIC_SETTINGS: NumericSetting[] = [
  {
    key: 'windowDays',
    label: 'Recovery window (days)',
    tooltip:
      'A success within this many days of the first failure resolves the incident; without one it stays open. Default 7.',
    min: 0,
    whole: false,
    exclusive: true,
  },
  {
    key: 'flakyMinutes',
    label: 'Flaky below (minutes)',
    tooltip: 'Incidents resolved faster than this are flagged flaky and left out of MTTR statistics. Default 5.',
    min: 0,
    whole: false,
  },
  {
    key: 'minSample',
    label: 'Minimum sample',
    tooltip:
      'With fewer incidents than this, p50/p90/mean are left empty instead of showing a misleading number. Default 5.',
    min: 1,
    whole: true,
  },
  {
    key: 'maxConcurrency',
    label: 'Concurrent requests',
    tooltip: 'How many repos are read from Woodpecker at the same time. Default 8.',
    min: 1,
    whole: true,
  },
  {
    key: 'timeoutSeconds',
    label: 'Timeout (seconds)',
    tooltip: 'How long one request to Woodpecker may take before it fails. Default 30.',
    min: 1,
    whole: true,
  },
];

export function ConfigEditor(props: Props) {
  const { options, onOptionsChange } = props;
  const jsonData = options.jsonData ?? {};
  const secureJsonFields = options.secureJsonFields ?? {};
  const demo = !!jsonData.demo;
  // Show the URL message once the user has touched the field, or when a URL is saved but invalid.
  const [urlTouched, setUrlTouched] = useState(false);
  const urlMessage = urlError(options.url);
  const showUrlError = !!urlMessage && (urlTouched || (options.url ?? '') !== '');

  const setJsonData = (patch: Partial<WoodpeckerOptions>) => {
    const next: WoodpeckerOptions = { ...jsonData, ...patch };
    for (const key of Object.keys(patch) as Array<keyof WoodpeckerOptions>) {
      if (next[key] === undefined) {
        delete next[key];
      }
    }
    onOptionsChange({ ...options, jsonData: next });
  };

  const onUrlChange = (event: ChangeEvent<HTMLInputElement>) => {
    onOptionsChange({ ...options, url: event.currentTarget.value });
  };

  const onTokenChange = (event: ChangeEvent<HTMLInputElement>) => {
    onOptionsChange({
      ...options,
      secureJsonData: { ...options.secureJsonData, token: event.currentTarget.value },
    });
  };

  const onTokenReset = () => {
    onOptionsChange({
      ...options,
      secureJsonFields: { ...options.secureJsonFields, token: false },
      secureJsonData: { ...options.secureJsonData, token: '' },
    });
  };

  const numberValue = (key: NumericKey) => {
    const v = jsonData[key];
    return v === undefined ? '' : String(v);
  };

  const numberError = (setting: NumericSetting) =>
    numberInputError(jsonData[setting.key], setting.min, setting.whole, setting.exclusive);

  return (
    <Stack direction="column" gap={2}>
      <FieldSet label="Connection">
        <InlineField
          label="Built-in demo data"
          labelWidth={LABEL_WIDTH}
          tooltip="Serve a built-in demo history instead of reading a Woodpecker server: try the dashboards without a server or token."
        >
          <InlineSwitch
            id="config-demo"
            aria-label="Built-in demo data"
            value={demo}
            onChange={(e) => setJsonData({ demo: e.currentTarget.checked || undefined })}
          />
        </InlineField>
        {!demo && (
          <>
            <InlineField
              label="Woodpecker URL"
              labelWidth={LABEL_WIDTH}
              tooltip="The address of your Woodpecker server, the one you open in the browser (http or https)."
              invalid={showUrlError}
              error={showUrlError ? urlMessage : undefined}
              required
            >
              <Input
                id="config-url"
                aria-label="Woodpecker URL"
                width={48}
                value={options.url ?? ''}
                placeholder="https://ci.example.com"
                onChange={onUrlChange}
                onBlur={() => setUrlTouched(true)}
              />
            </InlineField>
            <InlineField
              label="Token"
              labelWidth={LABEL_WIDTH}
              tooltip="A Woodpecker personal access token (User settings → CLI & API). Stored encrypted; never shown again."
              required
            >
              <SecretInput
                id="config-token"
                aria-label="Token"
                width={48}
                isConfigured={!!secureJsonFields.token}
                value={options.secureJsonData?.token ?? ''}
                placeholder="Personal access token"
                onChange={onTokenChange}
                onReset={onTokenReset}
              />
            </InlineField>
          </>
        )}
        {demo && (
          <Text variant="bodySmall" color="secondary">
            Demo mode: queries read a built-in history of example repositories; no URL or token is used.
          </Text>
        )}
      </FieldSet>

      <Divider />

      <FieldSet label="What counts as a deploy">
        <Text variant="bodySmall" color="secondary">
          Defaults for every query; a query may override them. Empty branches or environments include every one; empty
          events, change events or statuses fall back to the defaults.
        </Text>
        <InlineField
          label="Events"
          labelWidth={LABEL_WIDTH}
          tooltip="Woodpecker pipeline events that count as a deploy. Default: deployment."
        >
          <ListSelect
            inputId="config-events"
            aria-label="Events"
            value={jsonData.events ?? SETTINGS_DEFAULTS.events}
            options={WOODPECKER_EVENTS}
            onChange={(v) => setJsonData({ events: v.length ? v : undefined })}
            width={48}
          />
        </InlineField>
        <InlineField
          label="Deploy steps"
          labelWidth={LABEL_WIDTH}
          tooltip="Workflow or step names, or globs with * and ? (deploy, deploy-*). Their outcome and finish are the deploy's; a pipeline where none ran deployed nothing. Empty: the whole pipeline."
        >
          <ListSelect
            inputId="config-deploy-steps"
            aria-label="Deploy steps"
            value={jsonData.deploySteps}
            options={[]}
            placeholder="Whole pipeline (type a name or glob)"
            onChange={(v) => setJsonData({ deploySteps: v.length ? v : undefined })}
            width={48}
          />
        </InlineField>
        <Text variant="bodySmall" color="secondary">
          Deploy steps: only these workflows or steps make the deploy, so a failed test before a skipped deploy is no
          failed deploy.
        </Text>
        <InlineField
          label="Change events"
          labelWidth={LABEL_WIDTH}
          tooltip="Woodpecker pipeline events whose pipelines are changes for lead time. Default: push."
        >
          <ListSelect
            inputId="config-change-events"
            aria-label="Change events"
            value={jsonData.changeEvents ?? SETTINGS_DEFAULTS.changeEvents}
            options={WOODPECKER_EVENTS}
            onChange={(v) => setJsonData({ changeEvents: v.length ? v : undefined })}
            width={48}
          />
        </InlineField>
        <Text variant="bodySmall" color="secondary">
          Change events: their pipelines are the changes; lead time runs from one&apos;s creation to the first
          successful deploy that ships it.
        </Text>
        <InlineField
          label="Branches"
          labelWidth={LABEL_WIDTH}
          tooltip="Only pipelines of these branches count (e.g. main). Empty: every branch."
        >
          <ListSelect
            inputId="config-branches"
            aria-label="Branches"
            value={jsonData.branches}
            options={[]}
            placeholder="All branches (type to add)"
            onChange={(v) => setJsonData({ branches: v.length ? v : undefined })}
            width={48}
          />
        </InlineField>
        <InlineField
          label="Environments"
          labelWidth={LABEL_WIDTH}
          tooltip="Only deploys to these environments count (e.g. production). Empty: every environment."
        >
          <ListSelect
            inputId="config-environments"
            aria-label="Environments"
            value={jsonData.environments}
            options={[]}
            placeholder="All environments (type to add)"
            onChange={(v) => setJsonData({ environments: v.length ? v : undefined })}
            width={48}
          />
        </InlineField>
        <InlineField
          label="Failure statuses"
          labelWidth={LABEL_WIDTH}
          tooltip="Pipeline statuses that make a deploy failed. Default: failure and error; add killed to count cancelled deploys."
        >
          <ListSelect
            inputId="config-failure-statuses"
            aria-label="Failure statuses"
            value={jsonData.failureStatuses ?? SETTINGS_DEFAULTS.failureStatuses}
            options={FAILURE_STATUSES}
            allowCustomValue={false}
            onChange={(v) => setJsonData({ failureStatuses: v.length ? v : undefined })}
            width={48}
          />
        </InlineField>
        <InlineField
          label="Open incidents"
          labelWidth={LABEL_WIDTH}
          tooltip="Exclude: statistics over resolved incidents only (the classic rule). Censor: open incidents count as still recovering, so a long outage raises the median."
        >
          <RadioButtonGroup<OpenIncidents>
            options={OPEN_INCIDENT_OPTIONS}
            value={jsonData.openIncidents ?? SETTINGS_DEFAULTS.openIncidents}
            onChange={(v) => setJsonData({ openIncidents: v })}
          />
        </InlineField>
        <InlineFieldRow>
          <Stack direction="column" gap={0}>
            {NUMERIC_SETTINGS.map((setting) => (
              <InlineField
                key={setting.key}
                label={setting.label}
                labelWidth={LABEL_WIDTH}
                tooltip={setting.tooltip}
                invalid={!!numberError(setting)}
                error={numberError(setting)}
              >
                <Input
                  id={`config-${setting.key}`}
                  aria-label={setting.label}
                  type="number"
                  width={16}
                  min={setting.min}
                  value={numberValue(setting.key)}
                  placeholder={String(SETTINGS_DEFAULTS[setting.key])}
                  onChange={(e) => {
                    const text = e.currentTarget.value.trim();
                    setJsonData({ [setting.key]: text === '' ? undefined : Number(text) });
                  }}
                />
              </InlineField>
            ))}
          </Stack>
        </InlineFieldRow>
      </FieldSet>
    </Stack>
  );
}

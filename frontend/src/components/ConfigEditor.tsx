import React, { ChangeEvent, useState } from 'react';
import { DataSourcePluginOptionsEditorProps } from '@grafana/data';
import { Box, Divider, Field, FieldSet, Input, SecretInput, Stack, Switch, Text, TextLink } from '@grafana/ui';

import { isHttpUrl } from '../format';
import {
  defaultPlaceholder,
  FAILURE_STATUSES,
  SETTINGS_DEFAULTS,
  WHOLE_PIPELINE,
  WOODPECKER_EVENTS,
  WoodpeckerOptions,
  WoodpeckerSecureJsonData,
} from '../types';
import { NumberKey } from '../validation';
import { ListSelect } from './ListSelect';
import { NumberSetting } from './NumberSetting';
import { OpenIncidentsSelect } from './OpenIncidentsSelect';
import { useErrorOnBlur } from './useErrorOnBlur';

export type Props = DataSourcePluginOptionsEditorProps<WoodpeckerOptions, WoodpeckerSecureJsonData>;

const WIDTH = 48;

/** Where Woodpecker's web UI creates personal access tokens (user menu › Personal access token). */
export const TOKEN_PAGE = '/user/cli-and-api';

/** The shared store's address message, as the backend checks it; undefined when fine or unset. */
export function redisUrlError(url: string | undefined): string | undefined {
  const value = (url ?? '').trim();
  if (value === '') {
    return undefined;
  }
  if (!/^(redis|valkey):\/\/[^/?#]+/.test(value)) {
    return 'Enter a redis:// or valkey:// address, such as redis://10.0.0.5:6379/0.';
  }
  if (/^[a-z]+:\/\/[^/]*@/.test(value)) {
    return 'Leave the credentials out of the address: use the user and password fields.';
  }
  return undefined;
}

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

type ListKey = 'events' | 'deploySteps' | 'changeEvents' | 'branches' | 'environments' | 'failureStatuses';

interface ListSetting {
  key: ListKey;
  label: string;
  description: string;
  /** Known values; none means any typed value. */
  options: string[];
  /** What applies when unset, as the placeholder says it. */
  placeholder: string;
}

const DEPLOY_LISTS: ListSetting[] = [
  {
    key: 'events',
    label: 'Events',
    description: 'Woodpecker pipeline events that count as a deploy.',
    options: WOODPECKER_EVENTS,
    placeholder: defaultPlaceholder(SETTINGS_DEFAULTS.events),
  },
  {
    key: 'deploySteps',
    label: 'Deploy steps',
    description:
      'Workflow or step names, or globs with * and ? (deploy, deploy-*), that make the deploy: their outcome and finish are its own, so a failed test before a skipped deploy is no failed deploy.',
    options: [],
    placeholder: defaultPlaceholder(SETTINGS_DEFAULTS.deploySteps, WHOLE_PIPELINE),
  },
  {
    key: 'changeEvents',
    label: 'Change events',
    description:
      "Events whose pipelines are changes: lead time runs from one's creation to the first successful deploy that ships it.",
    options: WOODPECKER_EVENTS,
    placeholder: defaultPlaceholder(SETTINGS_DEFAULTS.changeEvents),
  },
  {
    key: 'branches',
    label: 'Branches',
    description: 'Only pipelines of these branches count (e.g. main). Type a name to add it.',
    options: [],
    placeholder: defaultPlaceholder([], 'every branch'),
  },
  {
    key: 'environments',
    label: 'Environments',
    description: 'Only deploys to these environments count (e.g. production). Type a name to add it.',
    options: [],
    placeholder: defaultPlaceholder([], 'every environment'),
  },
  {
    key: 'failureStatuses',
    label: 'Failure statuses',
    description: 'Pipeline statuses that make a deploy failed; add killed to count cancelled deploys.',
    options: FAILURE_STATUSES,
    placeholder: defaultPlaceholder(SETTINGS_DEFAULTS.failureStatuses),
  },
];

interface NumberSettingInfo {
  key: NumberKey;
  label: string;
  description: string;
}

const RECOVERY_NUMBERS: NumberSettingInfo[] = [
  {
    key: 'windowDays',
    label: 'Recovery window (days)',
    description:
      'A success within this many days of the first failure resolves the incident; without one it stays open.',
  },
  {
    key: 'flakyMinutes',
    label: 'Flaky below (minutes)',
    description: 'Incidents resolved faster than this are flagged flaky and left out of MTTR statistics.',
  },
  {
    key: 'minSample',
    label: 'Minimum sample',
    description: 'With fewer incidents than this, p50/p90/mean are left empty instead of showing a misleading number.',
  },
];

const ADVANCED_NUMBERS: NumberSettingInfo[] = [
  {
    key: 'maxConcurrency',
    label: 'Concurrent requests',
    description:
      'How many requests this data source sends to Woodpecker at the same time (pages, repositories and workflow trees together).',
  },
  {
    key: 'timeoutSeconds',
    label: 'Request timeout (seconds)',
    description: 'How long one request to Woodpecker may take, per attempt; failed requests are retried with backoff.',
  },
  {
    key: 'queryTimeoutSeconds',
    label: 'Query timeout (seconds)',
    description: "How long one query may take in all; keep it under the 30 s of Grafana's alert evaluation.",
  },
  {
    key: 'failureBackoffSeconds',
    label: 'Failure backoff (seconds)',
    description:
      'After Woodpecker fails, how long the failure is shared with the next queries before it is asked again.',
  },
  {
    key: 'maxCachedPipelines',
    label: 'Cached pipelines',
    description: 'Pipelines kept in memory across all repositories; the least recently used repositories go first.',
  },
  {
    key: 'maxPipelinesPerRepo',
    label: 'Pipelines per repository',
    description: 'Most pipelines read for one repository: a guard against servers whose pages never end.',
  },
];

/** The token field's help: where Woodpecker creates tokens, linked once the URL is known. */
function TokenDescription({ url }: { url: string }) {
  const base = url.trim().replace(/\/+$/, '');
  return (
    <>
      A Woodpecker personal access token. Create one in Woodpecker: user menu › Personal access token
      {isHttpUrl(base) ? (
        <>
          {' '}
          (
          <TextLink href={`${base}${TOKEN_PAGE}`} external inline>
            {`${base}${TOKEN_PAGE}`}
          </TextLink>
          )
        </>
      ) : (
        ` (<server>${TOKEN_PAGE})`
      )}
      . Stored encrypted; Grafana never shows it again.
    </>
  );
}

/**
 * The data source settings. Only what the user sets is saved: an unset
 * setting is absent from jsonData and the backend applies its default,
 * shown here as "default: …".
 */
export function ConfigEditor(props: Props) {
  const { options, onOptionsChange } = props;
  const jsonData = options.jsonData ?? {};
  const secureJsonFields = options.secureJsonFields ?? {};
  const demo = !!jsonData.demo;
  // The URL message: once the user has left the field, or at once for a saved URL that is invalid.
  const [urlTouched, setUrlTouched] = useState(false);
  const url = useErrorOnBlur(urlError(options.url));
  const urlMessage = urlTouched || (options.url ?? '') !== '' ? url.error : undefined;
  const redisUrl = useErrorOnBlur(redisUrlError(jsonData.redisUrl));

  const setJsonData = (patch: Partial<WoodpeckerOptions>) => {
    const next: WoodpeckerOptions = { ...jsonData, ...patch };
    for (const key of Object.keys(patch) as Array<keyof WoodpeckerOptions>) {
      const v = next[key];
      if (v === undefined || (Array.isArray(v) && v.length === 0)) {
        delete next[key];
      }
    }
    onOptionsChange({ ...options, jsonData: next });
  };

  const onUrlChange = (event: ChangeEvent<HTMLInputElement>) => {
    url.onTyping();
    onOptionsChange({ ...options, url: event.currentTarget.value });
  };

  // A secret is sent once and never shown again; reset clears it.
  const secretInput = (key: keyof WoodpeckerSecureJsonData, label: string, placeholder: string) => (
    <SecretInput
      id={`config-${key}`}
      aria-label={label}
      width={WIDTH}
      isConfigured={!!secureJsonFields[key]}
      value={options.secureJsonData?.[key] ?? ''}
      placeholder={placeholder}
      onChange={(event: ChangeEvent<HTMLInputElement>) =>
        onOptionsChange({
          ...options,
          secureJsonData: { ...options.secureJsonData, [key]: event.currentTarget.value },
        })
      }
      onReset={() =>
        onOptionsChange({
          ...options,
          secureJsonFields: { ...options.secureJsonFields, [key]: false },
          secureJsonData: { ...options.secureJsonData, [key]: '' },
        })
      }
    />
  );

  const numberSetting = ({ key, label, description }: NumberSettingInfo) => (
    <NumberSetting
      key={key}
      setting={key}
      label={label}
      description={description}
      value={jsonData[key]}
      onChange={(v) => setJsonData({ [key]: v })}
    />
  );

  return (
    <Stack direction="column" gap={1}>
      <FieldSet label="Connection">
        <Field
          label="Built-in demo data"
          description="Serve a built-in history of example repositories instead of reading a Woodpecker server: try the dashboards without a server or token."
        >
          <Switch
            id="config-demo"
            aria-label="Built-in demo data"
            value={demo}
            onChange={(e) => setJsonData({ demo: e.currentTarget.checked || undefined })}
          />
        </Field>
        {!demo && (
          <Field
            label="Woodpecker URL"
            description="The address of your Woodpecker server, the one you open in the browser (http or https)."
            invalid={!!urlMessage}
            error={urlMessage}
            required
          >
            <Input
              id="config-url"
              aria-label="Woodpecker URL"
              width={WIDTH}
              value={options.url ?? ''}
              placeholder="https://ci.example.com"
              onChange={onUrlChange}
              onBlur={() => {
                url.onBlur();
                setUrlTouched(true);
              }}
            />
          </Field>
        )}
        {demo && (
          <Text variant="bodySmall" color="secondary">
            Demo mode: queries read a built-in history of example repositories; no URL or token is used.
          </Text>
        )}
      </FieldSet>

      {!demo && (
        <FieldSet label="Authentication">
          <Field label="Token" description={<TokenDescription url={options.url ?? ''} />} required>
            {secretInput('token', 'Token', 'Personal access token')}
          </Field>
        </FieldSet>
      )}

      <Divider />

      <FieldSet label="What counts as a deploy">
        <Box marginBottom={2}>
          <Text variant="bodySmall" color="secondary">
            Defaults for every query; a query may override each of them.
          </Text>
        </Box>
        {DEPLOY_LISTS.map(({ key, label, description, options: known, placeholder }) => (
          <Field key={key} label={label} description={description}>
            <ListSelect
              inputId={`config-${key}`}
              aria-label={label}
              value={jsonData[key]}
              options={known}
              allowCustomValue={known.length === 0}
              placeholder={placeholder}
              onChange={(v) => setJsonData({ [key]: v })}
              width={WIDTH}
            />
          </Field>
        ))}
        <Field
          label="Open incidents"
          description="Exclude: statistics over resolved incidents only (the classic rule). Censor: open incidents count as still recovering, so a long outage raises the median."
        >
          <OpenIncidentsSelect
            inputId="config-openIncidents"
            value={jsonData.openIncidents}
            fallback={SETTINGS_DEFAULTS.openIncidents}
            width={WIDTH}
            onChange={(v) => setJsonData({ openIncidents: v })}
          />
        </Field>
        {RECOVERY_NUMBERS.map(numberSetting)}
      </FieldSet>

      <Divider />

      <FieldSet label="Advanced">
        <Box marginBottom={2}>
          <Text variant="bodySmall" color="secondary">
            How the data source reads Woodpecker. The defaults suit most servers.
          </Text>
        </Box>
        {ADVANCED_NUMBERS.map(numberSetting)}
        <Field
          label="Read the user feed"
          description={`One request tells which repositories have new pipelines, so only those are read again; pull-only repositories are always read. ${defaultPlaceholder(SETTINGS_DEFAULTS.userFeed ? 'on' : 'off')}.`}
        >
          <Switch
            id="config-userFeed"
            aria-label="Read the user feed"
            value={jsonData.userFeed ?? SETTINGS_DEFAULTS.userFeed}
            // Back at the default, the key goes: only a choice that differs is saved.
            onChange={(e) =>
              setJsonData({
                userFeed: e.currentTarget.checked === SETTINGS_DEFAULTS.userFeed ? undefined : e.currentTarget.checked,
              })
            }
          />
        </Field>
        <Field
          label="Shared store (Redis)"
          description="For Grafana in high availability: the replicas share what they read from Woodpecker through this Redis or Valkey, so each page is read once between them. Empty: each replica reads on its own."
          invalid={!!redisUrl.error}
          error={redisUrl.error}
        >
          <Input
            id="config-redisUrl"
            aria-label="Shared store (Redis)"
            width={WIDTH}
            value={jsonData.redisUrl ?? ''}
            placeholder="redis://10.0.0.5:6379/0"
            onChange={(e) => {
              redisUrl.onTyping();
              setJsonData({ redisUrl: e.currentTarget.value.trim() || undefined });
            }}
            onBlur={redisUrl.onBlur}
          />
        </Field>
        {!!jsonData.redisUrl && (
          <>
            <Field label="Redis user" description="The Redis ACL user, if the server has one.">
              <Input
                id="config-redisUser"
                aria-label="Redis user"
                width={WIDTH}
                value={jsonData.redisUser ?? ''}
                placeholder="default"
                onChange={(e) => setJsonData({ redisUser: e.currentTarget.value.trim() || undefined })}
              />
            </Field>
            <Field label="Redis password" description="Sent to the backend only; never shown again.">
              {secretInput('redisPassword', 'Redis password', 'Password')}
            </Field>
          </>
        )}
      </FieldSet>
    </Stack>
  );
}

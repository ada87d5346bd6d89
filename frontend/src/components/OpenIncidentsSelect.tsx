import React from 'react';
import { SelectableValue } from '@grafana/data';
import { Select } from '@grafana/ui';

import { defaultPlaceholder, OpenIncidents } from '../types';

const OPTIONS: Array<SelectableValue<OpenIncidents>> = [
  { label: 'Exclude', value: 'exclude', description: 'Statistics over resolved incidents only' },
  { label: 'Censor', value: 'censor', description: 'Open incidents count as still recovering' },
];

export interface OpenIncidentsSelectProps {
  inputId: string;
  value: OpenIncidents | undefined;
  /** What applies when `value` is unset, shown as "default: …" so it never looks chosen. */
  fallback: OpenIncidents;
  width: number;
  onChange: (value: OpenIncidents | undefined) => void;
}

/** How open incidents count; clearable, so a choice can go back to the default. */
export function OpenIncidentsSelect({ inputId, value, fallback, width, onChange }: OpenIncidentsSelectProps) {
  return (
    // Select (deprecated in favour of Combobox) as in ListSelect: Combobox does not render in jsdom tests.
    // eslint-disable-next-line @typescript-eslint/no-deprecated
    <Select<OpenIncidents>
      inputId={inputId}
      aria-label="Open incidents"
      width={width}
      options={OPTIONS}
      value={value ?? null}
      placeholder={defaultPlaceholder(fallback)}
      isClearable
      onChange={(option: SelectableValue<OpenIncidents> | null) => onChange(option?.value)}
    />
  );
}

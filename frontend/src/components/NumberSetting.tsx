import React from 'react';
import { Field, Input } from '@grafana/ui';

import { defaultPlaceholder, SETTINGS_DEFAULTS } from '../types';
import { NumberKey, numberError } from '../validation';
import { useErrorOnBlur } from './useErrorOnBlur';

export interface NumberSettingProps {
  setting: NumberKey;
  label: string;
  description: string;
  value: number | undefined;
  onChange: (value: number | undefined) => void;
}

/** A numeric data source setting: the backend's default as placeholder, its bounds checked on blur. */
export function NumberSetting({ setting, label, description, value, onChange }: NumberSettingProps) {
  const shown = useErrorOnBlur(numberError(setting, value));
  return (
    <Field label={label} description={description} invalid={!!shown.error} error={shown.error}>
      <Input
        id={`config-${setting}`}
        aria-label={label}
        type="number"
        width={24}
        value={value === undefined ? '' : String(value)}
        placeholder={defaultPlaceholder(SETTINGS_DEFAULTS[setting])}
        onChange={(e) => {
          shown.onTyping();
          const text = e.currentTarget.value.trim();
          onChange(text === '' ? undefined : Number(text));
        }}
        onBlur={shown.onBlur}
      />
    </Field>
  );
}

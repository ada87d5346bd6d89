import React from 'react';
import { InlineField, Input } from '@grafana/ui';

import { useErrorOnBlur } from './useErrorOnBlur';

export interface InlineInputProps {
  id: string;
  label: string;
  labelWidth: number;
  tooltip: string;
  'aria-label': string;
  width: number;
  value: string;
  placeholder: string;
  suffix?: string;
  type?: 'number' | 'text';
  /** What is wrong with `value`, shown once the user leaves the field. */
  error: string | undefined;
  onChange: (text: string) => void;
  onBlur: () => void;
}

/** A query option typed as text: an inline label and an input whose error shows on blur. */
export function InlineInput({ id, label, labelWidth, tooltip, error, onChange, onBlur, ...input }: InlineInputProps) {
  const shown = useErrorOnBlur(error);
  return (
    <InlineField
      label={label}
      labelWidth={labelWidth}
      tooltip={tooltip}
      invalid={!!shown.error}
      error={shown.error}
      // The message runs to the right instead of widening the field and reflowing the row.
      validationMessageHorizontalOverflow
    >
      <Input
        id={id}
        {...input}
        onChange={(e) => {
          shown.onTyping();
          onChange(e.currentTarget.value);
        }}
        onBlur={() => {
          shown.onBlur();
          onBlur();
        }}
      />
    </InlineField>
  );
}

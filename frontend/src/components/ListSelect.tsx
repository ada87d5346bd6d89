import React, { useMemo } from 'react';
import { SelectableValue } from '@grafana/data';
import { MultiSelect } from '@grafana/ui';

export interface ListSelectProps {
  inputId?: string;
  /** Current values (may hold `$variables` or custom values not among the options). */
  value: string[] | undefined;
  /** Known values, e.g. from a backend resource. */
  options: string[];
  /** Template variables offered as options, e.g. `$repo`. */
  variables?: string[];
  onChange: (values: string[]) => void;
  placeholder?: string;
  isLoading?: boolean;
  invalid?: boolean;
  width?: number;
  allowCustomValue?: boolean;
  onOpenMenu?: () => void;
  'aria-label'?: string;
}

/**
 * A multi-select of strings: known options, the dashboard's template
 * variables, and any custom value the user types.
 */
export function ListSelect({
  value,
  options,
  variables = [],
  onChange,
  allowCustomValue = true,
  width = 40,
  ...rest
}: ListSelectProps) {
  const selectOptions = useMemo(() => {
    const seen = new Set<string>();
    const out: Array<SelectableValue<string>> = [];
    const add = (v: string, description?: string) => {
      if (!seen.has(v)) {
        seen.add(v);
        out.push({ label: v, value: v, description });
      }
    };
    variables.forEach((v) => add(v, 'Template variable'));
    options.forEach((v) => add(v));
    // Values already chosen stay visible even when the backend no longer lists them.
    (value ?? []).forEach((v) => add(v));
    return out;
  }, [options, variables, value]);

  return (
    // MultiSelect (deprecated in favour of MultiCombobox) is kept on purpose: custom values,
    // template variables and a non-virtualised menu that renders in jsdom tests.
    // eslint-disable-next-line @typescript-eslint/no-deprecated
    <MultiSelect<string>
      {...rest}
      options={selectOptions}
      value={value ?? []}
      allowCustomValue={allowCustomValue}
      onChange={(selected: Array<SelectableValue<string>>) =>
        onChange(selected.map((s) => s.value).filter((v): v is string => typeof v === 'string' && v !== ''))
      }
      width={width}
      isClearable
      closeMenuOnSelect={false}
    />
  );
}

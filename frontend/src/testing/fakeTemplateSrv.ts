import { ScopedVars, TypedVariableModel } from '@grafana/data';
import { TemplateSrv } from '@grafana/runtime';

/** A dashboard variable for the fake: its current value (an array for multi-value / All). */
export type FakeVariables = Record<string, string | string[]>;

const VARIABLE_RE = /\$(\w+)|\$\{(\w+)(?::[^}]*)?\}|\[\[(\w+)\]\]/g;

/**
 * A small stand-in for Grafana's TemplateSrv: `$name`, `${name}` and
 * `[[name]]`, scoped variables first, a format function called with the
 * value (an array for multi-value variables) like Grafana does. Unknown
 * variables are left as they are.
 */
export class FakeTemplateSrv implements TemplateSrv {
  constructor(public variables: FakeVariables = {}) {}

  getVariables(): TypedVariableModel[] {
    return Object.keys(this.variables).map((name) => ({ name, type: 'custom' }) as unknown as TypedVariableModel);
  }

  containsTemplate(target?: string): boolean {
    return !!target && new RegExp(VARIABLE_RE.source).test(target);
  }

  updateTimeRange(): void {}

  replace(target?: string, scopedVars?: ScopedVars, format?: string | Function): string {
    if (!target) {
      return target ?? '';
    }
    return target.replace(VARIABLE_RE, (match, a, b, c) => {
      const name: string = a ?? b ?? c;
      const scoped = scopedVars?.[name];
      const value = scoped ? scoped.value : this.variables[name];
      if (value === undefined) {
        return match;
      }
      if (typeof format === 'function') {
        return format(value, { name });
      }
      return Array.isArray(value) ? `{${value.join(',')}}` : String(value);
    });
  }
}

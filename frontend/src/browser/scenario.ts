import type { Settings } from '../testing/fakes';
import type { WoodpeckerOptions, WoodpeckerQuery, WoodpeckerVariableQuery } from '../types';

/** One editor as the harness page shows it, told by the test in the page's address. */
export type Scenario =
  | { editor: 'query' | 'annotation'; theme: Theme; query: WoodpeckerQuery; jsonData?: WoodpeckerOptions }
  | { editor: 'variable'; theme: Theme; query: WoodpeckerVariableQuery }
  | { editor: 'config'; theme: Theme; settings?: Partial<Settings> };

export type Theme = 'dark' | 'light';

/** What the page exposes to the test. */
export interface HarnessState {
  /** The editor is drawn and Grafana's font is loaded. */
  ready: boolean;
  /** Every value the editor saved, oldest first. */
  saved: unknown[];
  /** The titles of the fields on screen, in order. */
  fieldTitles: () => string[];
  /** Wrapped labels and overlapping fields, as sentences. */
  layoutProblems: () => string[];
}

/** The query string of the page showing `scenario`: a new document for each one. */
export function scenarioSearch(scenario: Scenario): string {
  return `?${new URLSearchParams({ scenario: JSON.stringify(scenario) })}`;
}

export function readScenario(search: string): Scenario {
  return JSON.parse(new URLSearchParams(search).get('scenario') ?? '');
}

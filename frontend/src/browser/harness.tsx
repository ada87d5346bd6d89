import React, { useState } from 'react';
import { createRoot } from 'react-dom/client';
import { AnnotationQuery, CoreApp, createTheme } from '@grafana/data';
import { GlobalStyles, ThemeContext } from '@grafana/ui';

import { AnnotationQueryEditor } from '../components/AnnotationQueryEditor';
import { ConfigEditor } from '../components/ConfigEditor';
import { QueryEditor } from '../components/QueryEditor';
import { VariableQueryEditor } from '../components/VariableQueryEditor';
import { fakeDataSource, fakeSettings, Settings } from '../testing/fakes';
import { WoodpeckerQuery, WoodpeckerVariableQuery } from '../types';
import { fieldLabels, layoutProblems } from './layout';
import { HarnessState, readScenario, Scenario } from './scenario';

declare global {
  interface Window {
    /** Where @grafana/ui loads icons and fonts from, as in Grafana. */
    __grafana_public_path__?: string;
    harness: HarnessState;
  }
}

window.__grafana_public_path__ = '/public/';
window.harness = {
  ready: false,
  saved: [],
  fieldTitles: () => fieldLabels().map((label) => label.title),
  layoutProblems: () => layoutProblems(),
};

function save<T>(value: T): T {
  window.harness.saved.push(value);
  return value;
}

/** One editor, holding its value as Grafana would and recording each change. */
function Editor({ scenario }: { scenario: Scenario }) {
  const [query, setQuery] = useState(scenario.editor === 'config' ? undefined : scenario.query);
  const [settings, setSettings] = useState<Settings>(() =>
    fakeSettings(scenario.editor === 'config' ? scenario.settings : {})
  );
  const [datasource] = useState(() => fakeDataSource('jsonData' in scenario ? scenario.jsonData : {}));
  const noop = () => {};
  switch (scenario.editor) {
    case 'config':
      return <ConfigEditor options={settings} onOptionsChange={(s) => setSettings(save(s))} />;
    case 'variable':
      return (
        <VariableQueryEditor
          datasource={datasource}
          query={query as WoodpeckerVariableQuery}
          onChange={(q) => setQuery(save(q))}
          onRunQuery={noop}
        />
      );
    case 'annotation':
      return (
        <AnnotationQueryEditor
          datasource={datasource}
          query={query as WoodpeckerQuery}
          onChange={(q) => setQuery(save(q))}
          onRunQuery={noop}
          annotation={{ name: 'Incidents', enable: true, iconColor: 'red', target: query as WoodpeckerQuery }}
          onAnnotationChange={(a: AnnotationQuery<WoodpeckerQuery>) => setQuery(save(a.target))}
        />
      );
    case 'query':
      return (
        <QueryEditor
          datasource={datasource}
          query={query as WoodpeckerQuery}
          onChange={(q) => setQuery(save(q))}
          onRunQuery={noop}
          app={CoreApp.Dashboard}
        />
      );
  }
}

async function main() {
  const scenario = readScenario(window.location.search);
  const theme = createTheme({ colors: { mode: scenario.theme } });
  createRoot(document.getElementById('root')!).render(
    <ThemeContext.Provider value={theme}>
      <GlobalStyles />
      {/* As wide as a query editor in a panel editor; the config page is a narrow column in Grafana too. */}
      <main
        style={{
          padding: 16,
          width: scenario.editor === 'config' ? 720 : 1200,
          background: theme.colors.background.primary,
        }}
      >
        <Editor scenario={scenario} />
      </main>
    </ThemeContext.Provider>
  );
  // Measure only with Grafana's own font, never a fallback.
  await Promise.all(['400 14px Inter', '500 12px Inter', '500 14px Inter'].map((f) => document.fonts.load(f)));
  window.harness.ready = true;
}

main();

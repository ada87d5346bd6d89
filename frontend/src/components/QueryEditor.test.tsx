import React from 'react';
import { act, fireEvent, render, screen, waitFor, within } from '@testing-library/react';
import { CoreApp } from '@grafana/data';

import { fakeDataSource } from '../testing/fakes';
import contract from '../contract.json';
import { metricLabel, WoodpeckerOptions, WoodpeckerQuery } from '../types';
import { QueryEditor } from './QueryEditor';
import { AnnotationQueryEditor } from './AnnotationQueryEditor';
import { QueryHelp } from './QueryHelp';
import { VariableQueryEditor } from './VariableQueryEditor';

function makeDatasource(jsonData: WoodpeckerOptions = {}) {
  const ds = fakeDataSource(jsonData);
  const getResource = jest.spyOn(ds, 'getResource');
  return { ds, getResource };
}

async function renderEditor(query: WoodpeckerQuery, jsonData?: WoodpeckerOptions) {
  const { ds, getResource } = makeDatasource(jsonData);
  const onChange = jest.fn();
  const onRunQuery = jest.fn();
  const utils = render(
    <QueryEditor datasource={ds} query={query} onChange={onChange} onRunQuery={onRunQuery} app={CoreApp.Dashboard} />
  );
  // Let the resource requests settle.
  await waitFor(() => expect(getResource).toHaveBeenCalledTimes(3));
  await act(async () => {});
  const lastChange = (): WoodpeckerQuery => onChange.mock.calls[onChange.mock.calls.length - 1][0];
  return { ...utils, ds, getResource, onChange, onRunQuery, lastChange };
}

/** Opens a MultiSelect (react-select) by its input's aria-label. */
function openSelect(label: string) {
  const input = screen.getByLabelText(label);
  fireEvent.keyDown(input, { key: 'ArrowDown' });
}

describe('QueryEditor', () => {
  it('treats a new query as a summary (the data source default query)', async () => {
    const { ds } = makeDatasource();
    const query = { refId: 'A', ...ds.getDefaultQuery(CoreApp.PanelEditor) };
    expect(query).toEqual({ refId: 'A', queryType: 'summary' });
    await renderEditor({ refId: 'A' });
    expect(screen.getByRole('radio', { name: 'Summary' })).toBeChecked();
  });

  describe('query type', () => {
    it('shows bucket, rolling and group by for mttr', async () => {
      await renderEditor({ refId: 'A', queryType: 'mttr' });
      expect(screen.getByLabelText('Bucket')).toBeInTheDocument();
      expect(screen.getByLabelText('Rolling')).toBeInTheDocument();
      expect(screen.getByLabelText('Group by')).toBeInTheDocument();
      expect(screen.queryByLabelText('Include superseded')).not.toBeInTheDocument();
    });

    it('shows include-superseded for incidents only', async () => {
      await renderEditor({ refId: 'A', queryType: 'incidents' });
      expect(screen.getByLabelText('Include superseded')).toBeInTheDocument();
      expect(screen.queryByLabelText('Bucket')).not.toBeInTheDocument();
      expect(screen.queryByLabelText('Group by')).not.toBeInTheDocument();
    });

    it('shows neither for deploys', async () => {
      await renderEditor({ refId: 'A', queryType: 'deploys' });
      expect(screen.queryByLabelText('Include superseded')).not.toBeInTheDocument();
      expect(screen.queryByLabelText('Bucket')).not.toBeInTheDocument();
    });

    it('shows only the deploy and change options for changes', async () => {
      await renderEditor({ refId: 'A', queryType: 'changes' }, { deploySteps: ['deploy'] });
      expect(screen.queryByLabelText('Bucket')).not.toBeInTheDocument();
      expect(screen.queryByLabelText('Include superseded')).not.toBeInTheDocument();
      expect(screen.getByText('events: deployment · deploy steps: deploy · change events: push')).toBeInTheDocument();
      fireEvent.click(screen.getByText('Options'));
      expect(screen.getByLabelText('Events')).toBeInTheDocument();
      expect(screen.getByLabelText('Deploy steps')).toBeInTheDocument();
      expect(screen.getByLabelText('Change events')).toBeInTheDocument();
      for (const label of ['Recovery window days', 'Flaky minutes', 'Minimum sample', 'Failure statuses', 'Censor']) {
        expect(screen.queryByLabelText(label)).not.toBeInTheDocument();
      }
    });

    it('offers change events to summary and trends, not to mttr', async () => {
      const { unmount } = await renderEditor({ refId: 'A', queryType: 'trends' });
      fireEvent.click(screen.getByText('Options'));
      expect(screen.getByLabelText('Change events')).toBeInTheDocument();
      unmount();
      await renderEditor({ refId: 'A', queryType: 'mttr' });
      fireEvent.click(screen.getByText('Options'));
      expect(screen.queryByLabelText('Change events')).not.toBeInTheDocument();
      expect(screen.getByLabelText('Deploy steps')).toBeInTheDocument();
    });

    it('shows group by and metric for summary, no bucket or rolling (the backend reads neither)', async () => {
      await renderEditor({ refId: 'A', queryType: 'summary' });
      expect(screen.getByLabelText('Group by')).toBeInTheDocument();
      expect(screen.queryByLabelText('Bucket')).not.toBeInTheDocument();
      expect(screen.queryByLabelText('Rolling')).not.toBeInTheDocument();
    });

    it('offers and previews no recovery options for deploys', async () => {
      await renderEditor({ refId: 'A', queryType: 'deploys' });
      expect(screen.getByTestId('query-preview')).toHaveTextContent(
        /^Deploy pipelines · repos: all · environments: all · events: deployment$/
      );
      fireEvent.click(screen.getByText('Options'));
      for (const label of [
        'Recovery window days',
        'Flaky minutes',
        'Minimum sample',
        'Failure statuses',
        'Open incidents',
      ]) {
        expect(screen.queryByLabelText(label)).not.toBeInTheDocument();
      }
    });

    it('drops the fields the new type does not read', async () => {
      const { lastChange } = await renderEditor({
        refId: 'A',
        queryType: 'trends',
        repos: ['org/app'],
        bucket: '1d',
        rolling: '30d',
        groupBy: ['repo'],
        windowDays: 3,
        openIncidents: 'censor',
        changeEvents: ['tag'],
      });
      fireEvent.click(screen.getByRole('radio', { name: 'Summary' }));
      expect(lastChange()).toEqual({
        refId: 'A',
        queryType: 'summary',
        repos: ['org/app'],
        groupBy: ['repo'],
        windowDays: 3,
        openIncidents: 'censor',
        changeEvents: ['tag'],
      });
      fireEvent.click(screen.getByRole('radio', { name: 'Deploys' }));
      expect(lastChange()).toEqual({ refId: 'A', queryType: 'deploys', repos: ['org/app'] });
    });

    it('switches type from the radio group and runs the query', async () => {
      const { lastChange, onRunQuery } = await renderEditor({ refId: 'A', queryType: 'summary' });
      fireEvent.click(screen.getByRole('radio', { name: 'Incidents' }));
      expect(lastChange()).toEqual({ refId: 'A', queryType: 'incidents' });
      expect(onRunQuery).toHaveBeenCalled();
    });

    it('sets includeSuperseded', async () => {
      const { lastChange } = await renderEditor({ refId: 'A', queryType: 'incidents' });
      fireEvent.click(screen.getByLabelText('Include superseded'));
      expect(lastChange().includeSuperseded).toBe(true);
    });
  });

  describe('metric', () => {
    it('is offered for summary only, defaulting to the whole table', async () => {
      const { unmount } = await renderEditor({ refId: 'A', queryType: 'summary' });
      expect(screen.getByLabelText('Metric')).toBeInTheDocument();
      expect(screen.getByText('All fields (table)')).toBeInTheDocument();
      unmount();
      for (const queryType of ['mttr', 'trends', 'incidents', 'deploys', 'changes'] as const) {
        const { unmount: done } = await renderEditor({ refId: 'A', queryType });
        expect(screen.queryByLabelText('Metric')).not.toBeInTheDocument();
        done();
      }
    });

    it('offers the numeric summary fields of the backend contract', async () => {
      await renderEditor({ refId: 'A', queryType: 'summary' });
      openSelect('Metric');
      const menu = await screen.findByLabelText('Select options menu');
      const names = contract.columns.summaryMetrics;
      expect(names).toContain('oldest_open_seconds');
      // Each option: the readable label, then the field name itself as its description.
      const options = within(menu)
        .getAllByRole('option')
        .map((o) => o.textContent);
      expect(options).toEqual([
        'All fields (table)Every summary column, one row per group',
        ...names.map((name) => `${metricLabel(name)}${name}`),
        '$repoTemplate variable',
        '$envTemplate variable',
      ]);
      expect(within(menu).getByText('Oldest open (seconds)')).toBeInTheDocument();
    });

    it('saves the chosen field and runs the query', async () => {
      const { lastChange, onRunQuery } = await renderEditor({ refId: 'A', queryType: 'summary', groupBy: ['repo'] });
      openSelect('Metric');
      fireEvent.click(await screen.findByText('Oldest open (seconds)'));
      expect(lastChange()).toEqual({
        refId: 'A',
        queryType: 'summary',
        groupBy: ['repo'],
        metric: 'oldest_open_seconds',
      });
      expect(onRunQuery).toHaveBeenCalled();
    });

    it('drops the metric when the whole table is chosen again', async () => {
      const { lastChange } = await renderEditor({ refId: 'A', queryType: 'summary', metric: 'p50_seconds' });
      expect(screen.getByText('P50 (seconds)')).toBeInTheDocument();
      openSelect('Metric');
      fireEvent.click(await screen.findByText('All fields (table)'));
      expect(lastChange()).toEqual({ refId: 'A', queryType: 'summary' });
    });

    it('is dropped when the query switches to another type', async () => {
      const { lastChange } = await renderEditor({
        refId: 'A',
        queryType: 'summary',
        metric: 'oldest_open_seconds',
        groupBy: ['repo'],
      });
      fireEvent.click(screen.getByRole('radio', { name: 'MTTR' }));
      expect(lastChange()).toEqual({ refId: 'A', queryType: 'mttr', groupBy: ['repo'] });
    });

    it('is named in the preview', async () => {
      await renderEditor({ refId: 'A', queryType: 'summary', metric: 'oldest_open_seconds', groupBy: ['repo'] });
      expect(screen.getByTestId('query-preview')).toHaveTextContent(
        'Summary of recovery, deploys and lead time by repo, metric oldest_open_seconds · repos: all'
      );
    });
  });

  describe('resource-backed options', () => {
    it('loads repos, and environments and branches of the selected repos', async () => {
      const { getResource } = await renderEditor({ refId: 'A', repos: ['org/app', '$repo'] });
      expect(getResource).toHaveBeenCalledWith('repos', undefined);
      // `$repo` is expanded before asking the backend.
      expect(getResource).toHaveBeenCalledWith('environments', { repos: 'org/app' });
      expect(getResource).toHaveBeenCalledWith('branches', { repos: 'org/app' });
    });

    it('offers the repos from the backend and the template variables', async () => {
      const { lastChange } = await renderEditor({ refId: 'A' });
      openSelect('Repos');
      expect(await screen.findByText('org/api')).toBeInTheDocument();
      expect(screen.getByText('$repo')).toBeInTheDocument();
      fireEvent.click(screen.getByText('org/api'));
      expect(lastChange().repos).toEqual(['org/api']);
    });

    it('accepts a template variable as a value', async () => {
      const { lastChange } = await renderEditor({ refId: 'A', environments: ['staging'] });
      openSelect('Environments');
      expect(await screen.findByText('production')).toBeInTheDocument();
      fireEvent.click(screen.getByText('$env'));
      expect(lastChange().environments).toEqual(['staging', '$env']);
    });

    it('shows values saved with variables', async () => {
      await renderEditor({ refId: 'A', repos: ['$repo'], branches: ['hotfix/x'] });
      expect(screen.getByText('$repo')).toBeInTheDocument();
      expect(screen.getByText('hotfix/x')).toBeInTheDocument();
    });

    it('shows the backend error message when a resource fails', async () => {
      const { ds, getResource } = makeDatasource();
      getResource.mockImplementation((path: string) =>
        path === 'repos'
          ? Promise.reject({ status: 401, data: { error: 'Woodpecker rejected the token (401)' } })
          : Promise.resolve([])
      );
      render(<QueryEditor datasource={ds} query={{ refId: 'A' }} onChange={jest.fn()} onRunQuery={jest.fn()} />);
      expect(await screen.findByText('Woodpecker rejected the token (401)')).toBeInTheDocument();
    });
  });

  describe('options row', () => {
    it('is collapsed by default with a summary of the effective options', async () => {
      await renderEditor({ refId: 'A' }, { windowDays: 3 });
      expect(screen.queryByLabelText('Recovery window days')).not.toBeInTheDocument();
      expect(screen.getByText(/window 3d · flaky < 5m · min sample 5 · failures: failure, error/)).toBeInTheDocument();
    });

    it('opens and overrides the window, showing the data source default as placeholder', async () => {
      const { lastChange, onRunQuery } = await renderEditor({ refId: 'A' }, { windowDays: 3 });
      fireEvent.click(screen.getByText('Options'));
      const input = screen.getByLabelText('Recovery window days') as HTMLInputElement;
      expect(input.placeholder).toBe('default: 3');
      fireEvent.change(input, { target: { value: '14' } });
      expect(lastChange().windowDays).toBe(14);
      fireEvent.blur(input);
      expect(onRunQuery).toHaveBeenCalled();
    });

    it('sets deploy steps as typed globs and change events from the list, with the defaults as placeholders', async () => {
      const { lastChange } = await renderEditor({ refId: 'A' }, { changeEvents: ['push', 'tag'] });
      fireEvent.click(screen.getByText('Options'));
      expect(screen.getByText('default: the whole pipeline')).toBeInTheDocument();
      expect(screen.getByText('default: push, tag')).toBeInTheDocument();

      const steps = screen.getByLabelText('Deploy steps');
      fireEvent.change(steps, { target: { value: 'deploy-*' } });
      fireEvent.keyDown(steps, { key: 'Enter' });
      expect(lastChange().deploySteps).toEqual(['deploy-*']);

      openSelect('Change events');
      fireEvent.click(await screen.findByText('release'));
      expect(lastChange().changeEvents).toEqual(['release']);
    });

    it('shows the errors of a saved query at once', async () => {
      await renderEditor({ refId: 'A', queryType: 'mttr', bucket: '1 day', minSample: 0 });
      expect(screen.getByText(/Use a whole number followed by one of s, m, h, d, w, y/)).toBeInTheDocument();
      fireEvent.click(screen.getByText('Options'));
      expect(screen.getByText('Enter a whole number from 1 to 1000000.')).toBeInTheDocument();
    });

    it('checks a typed duration on blur, not on each keystroke', async () => {
      const { ds } = makeDatasource();
      const Editor = () => {
        const [query, setQuery] = React.useState<WoodpeckerQuery>({ refId: 'A', queryType: 'mttr' });
        return <QueryEditor datasource={ds} query={query} onChange={setQuery} onRunQuery={jest.fn()} />;
      };
      render(<Editor />);
      await act(async () => {});
      const bucket = screen.getByLabelText('Bucket');
      fireEvent.change(bucket, { target: { value: '30s' } });
      expect(screen.queryByRole('alert')).not.toBeInTheDocument();
      fireEvent.blur(bucket);
      expect(screen.getByRole('alert')).toHaveTextContent('Use at least 1m.');
      fireEvent.change(bucket, { target: { value: '1' } });
      expect(screen.queryByRole('alert')).not.toBeInTheDocument();
      fireEvent.change(bucket, { target: { value: '1d' } });
      fireEvent.blur(bucket);
      expect(screen.queryByRole('alert')).not.toBeInTheDocument();
    });
  });

  it('previews what the query asks for in one line', async () => {
    await renderEditor({ refId: 'A', queryType: 'mttr', bucket: '1d', rolling: '30d', repos: ['org/app'] });
    expect(screen.getByTestId('query-preview')).toHaveTextContent(
      'MTTR p50/p90/mean per 1d, rolling 30d · repos: org/app · environments: all · events: deployment'
    );
  });
});

describe('AnnotationQueryEditor', () => {
  it('edits an incidents query without the type choice', async () => {
    const { ds, getResource } = makeDatasource();
    const onAnnotationChange = jest.fn();
    render(
      <AnnotationQueryEditor
        datasource={ds}
        query={{ refId: 'Anno' }}
        onChange={jest.fn()}
        onRunQuery={jest.fn()}
        annotation={{
          name: 'Incidents',
          enable: true,
          iconColor: 'red',
          target: { refId: 'Anno', repos: ['org/app'] },
        }}
        onAnnotationChange={onAnnotationChange}
      />
    );
    await waitFor(() => expect(getResource).toHaveBeenCalledTimes(3));
    expect(screen.queryByRole('radio', { name: 'Summary' })).not.toBeInTheDocument();
    fireEvent.click(screen.getByLabelText('Include superseded'));
    expect(onAnnotationChange).toHaveBeenCalledWith(
      expect.objectContaining({
        target: { refId: 'Anno', queryType: 'incidents', repos: ['org/app'], includeSuperseded: true },
      })
    );
  });
});

describe('VariableQueryEditor', () => {
  it('lists repos by default and environments of chosen repos', async () => {
    const { ds } = makeDatasource();
    const onChange = jest.fn();
    const { rerender } = render(
      <VariableQueryEditor
        datasource={ds}
        query={{ refId: 'v', kind: 'repos' }}
        onChange={onChange}
        onRunQuery={jest.fn()}
      />
    );
    expect(screen.getByRole('radio', { name: 'Repos' })).toBeChecked();
    expect(screen.queryByLabelText('Of repos')).not.toBeInTheDocument();
    fireEvent.click(screen.getByRole('radio', { name: 'Environments' }));
    expect(onChange).toHaveBeenLastCalledWith({ refId: 'v', kind: 'environments' });

    rerender(
      <VariableQueryEditor
        datasource={ds}
        query={{ refId: 'v', kind: 'environments' }}
        onChange={onChange}
        onRunQuery={jest.fn()}
      />
    );
    openSelect('Of repos');
    const menu = await screen.findByText('org/app');
    fireEvent.click(menu);
    expect(onChange).toHaveBeenLastCalledWith({ refId: 'v', kind: 'environments', repos: ['org/app'] });
    expect(within(document.body).getByText(/Lists the environments of all repos/)).toBeInTheDocument();
  });
});

describe('QueryHelp', () => {
  it('fills the query from an example, keeping its refId', () => {
    const { ds } = makeDatasource();
    const onClickExample = jest.fn();
    render(<QueryHelp datasource={ds} query={{ refId: 'B' }} onClickExample={onClickExample} />);
    expect(screen.getByText('MTTR trend, 30 days rolling')).toBeInTheDocument();
    fireEvent.click(screen.getAllByRole('button', { name: 'Use' })[2]);
    expect(onClickExample).toHaveBeenCalledWith({ refId: 'B', queryType: 'mttr', bucket: '1d', rolling: '30d' });
  });
});

import React from 'react';
import { fireEvent, render, screen, within } from '@testing-library/react';
import { DataSourceSettings } from '@grafana/data';

import { WoodpeckerOptions, WoodpeckerSecureJsonData } from '../types';
import { ConfigEditor, urlError } from './ConfigEditor';

type Options = DataSourceSettings<WoodpeckerOptions, WoodpeckerSecureJsonData>;

function options(overrides: Partial<Options> = {}): Options {
  return {
    id: 1,
    uid: 'wp',
    orgId: 1,
    name: 'Woodpecker',
    type: 'dorakit-woodpecker-datasource',
    typeName: 'Woodpecker DORA',
    typeLogoUrl: '',
    access: 'proxy',
    url: 'https://ci.example.com',
    user: '',
    basicAuth: false,
    basicAuthUser: '',
    isDefault: false,
    jsonData: {},
    secureJsonFields: {},
    readOnly: false,
    withCredentials: false,
    ...overrides,
  } as Options;
}

function setup(overrides: Partial<Options> = {}) {
  const onOptionsChange = jest.fn();
  const opts = options(overrides);
  const utils = render(<ConfigEditor options={opts} onOptionsChange={onOptionsChange} />);
  const lastChange = (): Options => onOptionsChange.mock.calls[onOptionsChange.mock.calls.length - 1][0];
  return { ...utils, onOptionsChange, lastChange, opts };
}

/** The remove button of a chosen value in a multi-select. */
function removeButton(value: string) {
  return within(screen.getByText(value).parentElement!).getByRole('button', { name: 'Remove' });
}

describe('ConfigEditor', () => {
  describe('token', () => {
    it('shows a configured token as "configured", never its value, and resets it', () => {
      const { onOptionsChange, lastChange } = setup({ secureJsonFields: { token: true } });
      const input = screen.getByLabelText('Token') as HTMLInputElement;
      expect(input.value).toBe('configured');
      expect(input).toBeDisabled();

      fireEvent.click(screen.getByRole('button', { name: 'Reset' }));
      expect(onOptionsChange).toHaveBeenCalledTimes(1);
      expect(lastChange().secureJsonFields.token).toBe(false);
      expect(lastChange().secureJsonData?.token).toBe('');
    });

    it('sends a new token in secureJsonData only', () => {
      const { lastChange } = setup();
      fireEvent.change(screen.getByLabelText('Token'), { target: { value: 'wp-secret' } });
      expect(lastChange().secureJsonData).toEqual({ token: 'wp-secret' });
      expect(JSON.stringify(lastChange().jsonData)).not.toContain('wp-secret');
    });
  });

  describe('demo switch', () => {
    it('shows URL and token when off', () => {
      setup();
      expect(screen.getByLabelText('Woodpecker URL')).toBeInTheDocument();
      expect(screen.getByLabelText('Token')).toBeInTheDocument();
    });

    it('sets jsonData.demo', () => {
      const { lastChange } = setup();
      fireEvent.click(screen.getByLabelText('Built-in demo data'));
      expect(lastChange().jsonData.demo).toBe(true);
    });

    it('hides URL and token when on, and turning it off removes the flag', () => {
      const { lastChange } = setup({ jsonData: { demo: true }, url: '' });
      expect(screen.queryByLabelText('Woodpecker URL')).not.toBeInTheDocument();
      expect(screen.queryByLabelText('Token')).not.toBeInTheDocument();
      expect(screen.getByText(/Demo mode/)).toBeInTheDocument();
      fireEvent.click(screen.getByLabelText('Built-in demo data'));
      expect(lastChange().jsonData).not.toHaveProperty('demo');
    });
  });

  describe('URL validation', () => {
    it('explains a URL that is not http(s)', () => {
      setup({ url: 'ftp://ci.example.com' });
      expect(screen.getByText(/must be an http:\/\/ or https:\/\/ address/)).toBeInTheDocument();
    });

    it('accepts http and https URLs', () => {
      setup({ url: 'http://woodpecker:8000' });
      expect(screen.queryByText(/must be an http/)).not.toBeInTheDocument();
      expect(urlError('https://ci.example.com/sub/path')).toBeUndefined();
      expect(urlError('ci.example.com')).toMatch(/http:\/\/ or https:\/\//);
      expect(urlError('https://')).toMatch(/http:\/\/ or https:\/\//);
    });

    it('asks for a URL once the empty field is left', () => {
      setup({ url: '' });
      expect(screen.queryByText(/Enter the address of your Woodpecker server/)).not.toBeInTheDocument();
      fireEvent.blur(screen.getByLabelText('Woodpecker URL'));
      expect(screen.getByText(/Enter the address of your Woodpecker server/)).toBeInTheDocument();
    });

    it('stores the URL at the top level of the settings', () => {
      const { lastChange } = setup({ url: '' });
      fireEvent.change(screen.getByLabelText('Woodpecker URL'), { target: { value: 'https://wp.example.org' } });
      expect(lastChange().url).toBe('https://wp.example.org');
    });
  });

  describe('what counts as a deploy', () => {
    it('shows the defaults of events and failure statuses', () => {
      setup();
      expect(screen.getByText('deployment')).toBeInTheDocument();
      expect(screen.getByText('failure')).toBeInTheDocument();
      expect(screen.getByText('error')).toBeInTheDocument();
    });

    it('shows the default change events and the whole pipeline as the deploy, each with a description', () => {
      setup();
      expect(screen.getByText('push')).toBeInTheDocument();
      expect(screen.getByText('Whole pipeline (type a name or glob)')).toBeInTheDocument();
      expect(screen.getByText(/only these workflows or steps make the deploy/)).toBeInTheDocument();
      expect(screen.getByText(/their pipelines are the changes/)).toBeInTheDocument();
    });

    it('stores deploy steps typed as globs and drops them when cleared', () => {
      const { lastChange } = setup({ jsonData: { deploySteps: ['deploy'] } });
      const input = screen.getByLabelText('Deploy steps');
      fireEvent.change(input, { target: { value: 'release-?' } });
      fireEvent.keyDown(input, { key: 'Enter' });
      expect(lastChange().jsonData.deploySteps).toEqual(['deploy', 'release-?']);
      fireEvent.click(removeButton('deploy'));
      expect(lastChange().jsonData).toEqual({});
    });

    it('stores change events and falls back to the default when emptied', () => {
      const { lastChange } = setup({ jsonData: { changeEvents: ['tag'] } });
      fireEvent.click(removeButton('tag'));
      expect(lastChange().jsonData).not.toHaveProperty('changeEvents');
    });

    it('stores numbers and drops cleared ones', () => {
      const { lastChange } = setup({ jsonData: { flakyMinutes: 10 } });
      fireEvent.change(screen.getByLabelText('Recovery window (days)'), { target: { value: '14' } });
      expect(lastChange().jsonData).toEqual({ flakyMinutes: 10, windowDays: 14 });
      fireEvent.change(screen.getByLabelText('Flaky below (minutes)'), { target: { value: '' } });
      expect(lastChange().jsonData).toEqual({});
    });

    it('flags an invalid number', () => {
      setup({ jsonData: { maxConcurrency: 0, minSample: 2.5 } });
      expect(screen.getAllByText(/Enter a whole number of at least 1/)).toHaveLength(2);
    });

    it('offers an open-incidents choice', () => {
      const { lastChange } = setup();
      fireEvent.click(screen.getByLabelText('Censor'));
      expect(lastChange().jsonData.openIncidents).toBe('censor');
    });
  });
});

import React from 'react';
import { fireEvent, render, screen, within } from '@testing-library/react';

import { fakeSettings, Settings } from '../testing/fakes';
import { ConfigEditor, redisUrlError, urlError } from './ConfigEditor';

function setup(overrides: Partial<Settings> = {}) {
  const onOptionsChange = jest.fn();
  const opts = fakeSettings(overrides);
  const utils = render(<ConfigEditor options={opts} onOptionsChange={onOptionsChange} />);
  const lastChange = (): Settings => onOptionsChange.mock.calls[onOptionsChange.mock.calls.length - 1][0];
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
    it('shows the defaults as "default: …" placeholders, not as values', () => {
      setup();
      for (const text of ['default: deployment', 'default: push', 'default: failure, error', 'default: exclude']) {
        expect(screen.getByText(text)).toBeInTheDocument();
      }
      expect(screen.getByText('default: the whole pipeline')).toBeInTheDocument();
      expect(screen.queryByRole('button', { name: 'Remove' })).not.toBeInTheDocument();
      expect(screen.getByLabelText('Recovery window (days)')).toHaveAttribute('placeholder', 'default: 7');
      expect(screen.getByText(/that make the deploy/)).toBeInTheDocument();
      expect(screen.getByText(/pipelines are changes/)).toBeInTheDocument();
    });

    it('saves a chosen event and drops it again when removed', () => {
      const { lastChange } = setup();
      fireEvent.keyDown(screen.getByLabelText('Events'), { key: 'ArrowDown' });
      fireEvent.click(screen.getByText('push'));
      expect(lastChange().jsonData).toEqual({ events: ['push'] });
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

    it('flags a saved number outside the backend bounds', () => {
      setup({ jsonData: { maxConcurrency: 0, minSample: 2.5 } });
      expect(screen.getByText('Enter a whole number from 1 to 64.')).toBeInTheDocument();
      expect(screen.getByText('Enter a whole number from 1 to 1000000.')).toBeInTheDocument();
    });

    it('flags a typed number on blur, not while typing', () => {
      const { rerender, lastChange } = setup();
      const input = screen.getByLabelText('Request timeout (seconds)');
      fireEvent.change(input, { target: { value: '601' } });
      rerender(<ConfigEditor options={lastChange()} onOptionsChange={jest.fn()} />);
      expect(screen.queryByText('Enter a whole number from 1 to 600 seconds.')).not.toBeInTheDocument();
      fireEvent.blur(input);
      expect(screen.getByText('Enter a whole number from 1 to 600 seconds.')).toBeInTheDocument();
    });

    it('offers an open-incidents choice', () => {
      const { lastChange } = setup();
      fireEvent.keyDown(screen.getByLabelText('Open incidents'), { key: 'ArrowDown' });
      fireEvent.click(screen.getByText('Censor'));
      expect(lastChange().jsonData.openIncidents).toBe('censor');
    });
  });

  describe('shared store', () => {
    it('saves the Redis address, then offers user and password, the password in secureJsonData only', () => {
      const { rerender, lastChange } = setup();
      expect(screen.queryByLabelText('Redis password')).not.toBeInTheDocument();
      fireEvent.change(screen.getByLabelText('Shared store (Redis)'), { target: { value: ' redis://10.0.0.5:6379/0 ' } });
      expect(lastChange().jsonData).toEqual({ redisUrl: 'redis://10.0.0.5:6379/0' });
      rerender(<ConfigEditor options={lastChange()} onOptionsChange={jest.fn()} />);
      expect(screen.getByLabelText('Redis user')).toBeInTheDocument();
      expect(screen.getByLabelText('Redis password')).toBeInTheDocument();
    });

    it('keeps the password out of jsonData', () => {
      const { lastChange } = setup({ jsonData: { redisUrl: 'redis://10.0.0.5:6379/0' } });
      fireEvent.change(screen.getByLabelText('Redis password'), { target: { value: 'r3dis' } });
      expect(lastChange().secureJsonData).toEqual({ redisPassword: 'r3dis' });
      expect(JSON.stringify(lastChange().jsonData)).not.toContain('r3dis');
    });

    it('flags an address the backend refuses, on blur', () => {
      const { rerender, lastChange } = setup();
      const input = screen.getByLabelText('Shared store (Redis)');
      fireEvent.change(input, { target: { value: 'redis://:pw@10.0.0.5:6379' } });
      rerender(<ConfigEditor options={lastChange()} onOptionsChange={jest.fn()} />);
      fireEvent.blur(screen.getByLabelText('Shared store (Redis)'));
      expect(screen.getByText(/Leave the credentials out/)).toBeInTheDocument();
      expect(redisUrlError('10.0.0.5:6379')).toMatch(/redis:\/\//);
      expect(redisUrlError('valkey://cache:6379')).toBeUndefined();
      expect(redisUrlError('')).toBeUndefined();
    });
  });

  describe('sections', () => {
    it('groups connection, authentication, deploys and advanced settings', () => {
      setup();
      expect(screen.getAllByRole('group').map((g) => g.querySelector('legend')?.textContent)).toEqual([
        'Connection',
        'Authentication',
        'What counts as a deploy',
        'Advanced',
      ]);
      expect(screen.getByLabelText('Concurrent requests')).toHaveAttribute('placeholder', 'default: 8');
      expect(screen.getByLabelText('Query timeout (seconds)')).toHaveAttribute('placeholder', 'default: 25');
    });

    it('saves the user feed switch only when it differs from the default', () => {
      const { lastChange, unmount } = setup();
      expect(screen.getByLabelText('Read the user feed')).toBeChecked();
      expect(screen.getByText(/default: on/)).toBeInTheDocument();
      fireEvent.click(screen.getByLabelText('Read the user feed'));
      expect(lastChange().jsonData).toEqual({ userFeed: false });
      unmount();
      const off = setup({ jsonData: { userFeed: false } });
      fireEvent.click(screen.getByLabelText('Read the user feed'));
      expect(off.lastChange().jsonData).toEqual({});
    });

    it('says where to create the token, linking the page on the server', () => {
      setup();
      expect(screen.getByRole('link', { name: /ci.example.com\/user\/cli-and-api/ })).toHaveAttribute(
        'href',
        'https://ci.example.com/user/cli-and-api'
      );
      expect(screen.getByText(/user menu › Personal access token/)).toBeInTheDocument();
    });
  });
});

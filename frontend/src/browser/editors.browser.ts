import { mkdirSync } from 'fs';
import { join } from 'path';
import { Browser, chromium, Page } from 'playwright-core';

import type { Settings } from '../testing/fakes';
import type { QueryType, WoodpeckerQuery } from '../types';
import { Scenario, scenarioSearch, Theme } from './scenario';
import { HarnessServer, serveHarness } from './server';

/** Screenshots, for people to look at; git-ignored. */
const OUTPUT = join(__dirname, '..', '..', 'browser-output');
const THEMES: Theme[] = ['dark', 'light'];

let server: HarnessServer;
let browser: Browser;
let page: Page;

beforeAll(async () => {
  mkdirSync(OUTPUT, { recursive: true });
  server = await serveHarness();
  // Debian's Chromium (apt-get install chromium), never a downloaded build.
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    args: ['--no-sandbox'],
  });
  page = await browser.newPage({ viewport: { width: 1280, height: 900 }, deviceScaleFactor: 1 });
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

async function open(scenario: Scenario) {
  await page.goto(`${server.url}${scenarioSearch(scenario)}`);
  await page.waitForFunction(() => window.harness.ready);
}

const fieldTitles = () => page.evaluate(() => window.harness.fieldTitles());
const layoutProblems = () => page.evaluate(() => window.harness.layoutProblems());
const saved = () => page.evaluate(() => window.harness.saved);
const lastSaved = async <T>() => (await saved()).at(-1) as T;
const screenshot = (name: string) => page.locator('main').screenshot({ path: join(OUTPUT, `${name}.png`) });
const openOptions = () => page.getByText('Options', { exact: true }).click();

const HEAD = ['Query type', 'Repos', 'Environments', 'Branches'];
const RECOVERY = ['Recovery window', 'Flaky below', 'Min sample', 'Failure statuses', 'Open incidents'];
const DEPLOY = ['Events', 'Deploy steps'];

/** What the query editor shows for each type, options open, in reading order. */
const FIELDS: Record<QueryType, string[]> = {
  summary: [...HEAD, 'Group by', 'Metric', ...RECOVERY, ...DEPLOY, 'Change events'],
  mttr: [...HEAD, 'Bucket', 'Rolling', 'Group by', ...RECOVERY, ...DEPLOY],
  trends: [...HEAD, 'Bucket', 'Rolling', 'Group by', ...RECOVERY, ...DEPLOY, 'Change events'],
  incidents: [...HEAD, 'Superseded', ...RECOVERY, ...DEPLOY],
  deploys: [...HEAD, ...DEPLOY],
  changes: [...HEAD, ...DEPLOY, 'Change events'],
};

const QUERY_TYPES = Object.keys(FIELDS) as QueryType[];
const TYPE_NAMES: Record<QueryType, string> = {
  summary: 'Summary',
  mttr: 'MTTR',
  trends: 'Trends',
  incidents: 'Incidents',
  deploys: 'Deploys',
  changes: 'Changes',
};

/** A query setting a field of every type, as one saved by hand or by an older version might. */
const EVERY_FIELD: WoodpeckerQuery = {
  refId: 'A',
  repos: ['org/app'],
  events: ['push'],
  bucket: '1d',
  rolling: '30d',
  groupBy: ['repo'],
  metric: 'p50_seconds',
  includeSuperseded: true,
  windowDays: 3,
  changeEvents: ['tag'],
};

/** What of EVERY_FIELD the query keeps after a switch to each type. */
const SAVED: Record<QueryType, Array<keyof WoodpeckerQuery>> = {
  summary: ['repos', 'events', 'groupBy', 'metric', 'windowDays', 'changeEvents'],
  mttr: ['repos', 'events', 'bucket', 'rolling', 'groupBy', 'windowDays'],
  trends: ['repos', 'events', 'bucket', 'rolling', 'groupBy', 'windowDays', 'changeEvents'],
  incidents: ['repos', 'events', 'includeSuperseded', 'windowDays'],
  deploys: ['repos', 'events'],
  changes: ['repos', 'events', 'changeEvents'],
};

describe.each(THEMES)('in the %s theme', (theme) => {
  it.each(QUERY_TYPES)(
    'switched to %s, the query editor shows and saves its fields, one line per label, nothing overlapping',
    async (queryType) => {
      // Each type is reached by a click from the one before it, with a query that sets every field.
      const from = QUERY_TYPES[(QUERY_TYPES.indexOf(queryType) + QUERY_TYPES.length - 1) % QUERY_TYPES.length];
      await open({ editor: 'query', theme, query: { ...EVERY_FIELD, queryType: from } });
      await page.getByRole('radio', { name: TYPE_NAMES[queryType] }).check();
      const kept = Object.keys(await lastSaved<WoodpeckerQuery>());
      expect(kept.sort()).toEqual(['refId', 'queryType', ...SAVED[queryType]].sort());
      await openOptions();
      expect(await fieldTitles()).toEqual(FIELDS[queryType]);
      expect(await layoutProblems()).toEqual([]);
      await screenshot(`query-editor-${queryType}-${theme}`);
    }
  );

  it('the annotation editor is an incidents query without the type choice', async () => {
    await open({ editor: 'annotation', theme, query: { refId: 'Anno' } });
    await openOptions();
    expect(await fieldTitles()).toEqual(FIELDS.incidents.filter((t) => t !== 'Query type'));
    expect(await layoutProblems()).toEqual([]);
    await screenshot(`annotation-editor-${theme}`);
  });

  it('the variable editor asks for repos only where they apply', async () => {
    await open({ editor: 'variable', theme, query: { refId: 'v', kind: 'repos' } });
    expect(await fieldTitles()).toEqual(['Values']);
    await page.getByRole('radio', { name: 'Environments' }).check();
    expect(await fieldTitles()).toEqual(['Values', 'Of repos']);
    expect(await layoutProblems()).toEqual([]);
    await screenshot(`variable-editor-${theme}`);
  });

  it('the config editor groups its settings, with visible help', async () => {
    await open({ editor: 'config', theme });
    const legends = await page.locator('legend').allTextContents();
    expect(legends).toEqual(['Connection', 'Authentication', 'What counts as a deploy', 'Advanced']);
    expect(await fieldTitles()).toEqual([
      'Built-in demo data',
      'Woodpecker URL *',
      'Token *',
      'Events',
      'Deploy steps',
      'Change events',
      'Branches',
      'Environments',
      'Failure statuses',
      'Open incidents',
      'Recovery window (days)',
      'Flaky below (minutes)',
      'Minimum sample',
      'Concurrent requests',
      'Request timeout (seconds)',
      'Query timeout (seconds)',
      'Failure backoff (seconds)',
      'Cached pipelines',
      'Pipelines per repository',
      'Read the user feed',
      'Shared store (Redis)',
    ]);
    const tokenPage = page.getByRole('link', { name: 'https://ci.example.com/user/cli-and-api' });
    await expect(tokenPage.isVisible()).resolves.toBe(true);
    await expect(page.getByText(/user menu › Personal access token/).isVisible()).resolves.toBe(true);
    expect(await layoutProblems()).toEqual([]);
    await screenshot(`config-editor-${theme}`);
  });
});

describe('the config editor', () => {
  it('shows defaults as "default: …" placeholders, not as values to remove', async () => {
    await open({ editor: 'config', theme: 'dark' });
    for (const text of ['default: deployment', 'default: push', 'default: failure, error', 'default: exclude']) {
      await expect(page.getByText(text, { exact: true }).isVisible()).resolves.toBe(true);
    }
    await expect(page.getByPlaceholder('default: 7', { exact: true }).isVisible()).resolves.toBe(true);
    expect(await page.getByRole('button', { name: 'Remove' }).count()).toBe(0);
  });

  it('saves only what the user set', async () => {
    await open({ editor: 'config', theme: 'dark', settings: { url: '' } });
    expect(await saved()).toEqual([]);
    await page.getByLabel('Woodpecker URL', { exact: true }).fill('https://ci.example.com');
    expect((await lastSaved<Settings>()).jsonData).toEqual({});

    await page.getByLabel('Events', { exact: true }).click();
    await page.getByText('push', { exact: true }).first().click();
    await page.keyboard.press('Escape');
    expect((await lastSaved<Settings>()).jsonData).toEqual({ events: ['push'] });
    await page.getByRole('button', { name: 'Remove' }).click();
    expect((await lastSaved<Settings>()).jsonData).toEqual({});
  });
});

describe('the query editor', () => {
  it('previews only what the new type reads', async () => {
    await open({ editor: 'query', theme: 'dark', query: { ...EVERY_FIELD, queryType: 'trends' } });
    await page.getByRole('radio', { name: 'Deploys' }).check();
    const preview = await page.getByTestId('query-preview').textContent();
    expect(preview).toBe('Deploy pipelines · repos: org/app · environments: all · events: push');
  });

  it('says what is wrong with a duration when the user leaves the field, not while they type', async () => {
    await open({ editor: 'query', theme: 'dark', query: { refId: 'A', queryType: 'mttr' } });
    const bucket = page.getByLabel('Bucket', { exact: true });
    const rolling = page.getByLabel('Rolling', { exact: true });
    const before = { bucket: await bucket.boundingBox(), rolling: await rolling.boundingBox() };
    const alerts = page.getByRole('alert');

    await bucket.click();
    await page.keyboard.type('1');
    expect(await alerts.count()).toBe(0);
    await page.keyboard.type('d');
    await page.keyboard.press('Tab');
    expect(await alerts.count()).toBe(0);

    for (const [input, message] of [
      ['30s', 'Use at least 1m.'],
      ['500ms', 'Use a whole number followed by one of s, m, h, d, w, y, e.g. 30m or 1d.'],
      ['0d', 'Use a duration longer than zero.'],
      ['1 day', 'Use a whole number followed by one of s, m, h, d, w, y, e.g. 30m or 1d.'],
      ['101y', 'Use at most 100y.'],
    ]) {
      await bucket.fill('');
      await bucket.pressSequentially(input);
      expect(await alerts.count()).toBe(0);
      await page.keyboard.press('Tab');
      expect(await alerts.allTextContents()).toEqual([message]);
      // The message neither widens the field nor moves its neighbour.
      expect(await bucket.boundingBox()).toEqual(before.bucket);
      expect((await rolling.boundingBox())?.x).toBe(before.rolling?.x);
      expect(await layoutProblems()).toEqual([]);
    }
    await screenshot('query-editor-bad-bucket-dark');
    await bucket.fill('');
    await bucket.pressSequentially('1h');
    await page.keyboard.press('Tab');
    expect(await alerts.count()).toBe(0);
    expect(await lastSaved()).toEqual({ refId: 'A', queryType: 'mttr', bucket: '1h' });
  });

  it('checks numbers against the backend bounds on blur', async () => {
    await open({ editor: 'query', theme: 'light', query: { refId: 'A', queryType: 'summary' } });
    await openOptions();
    const alerts = page.getByRole('alert');
    for (const [label, input, message] of [
      ['Recovery window days', '0', 'Enter a number from 1 minute to 365 days.'],
      ['Flaky minutes', '-1', 'Enter a number from 0 to 10080 minutes.'],
      ['Minimum sample', '2.5', 'Enter a whole number from 1 to 1000000.'],
    ]) {
      const field = page.getByLabel(label, { exact: true });
      await field.pressSequentially(input);
      expect(await alerts.count()).toBe(0);
      await page.keyboard.press('Tab');
      expect(await alerts.allTextContents()).toEqual([message]);
      await field.fill('');
    }
  });
});

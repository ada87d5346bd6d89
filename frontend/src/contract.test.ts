import { readFileSync } from 'fs';
import { join } from 'path';

import contract from './contract.json';
import { SETTINGS_DEFAULTS } from './types';

describe('the backend contract', () => {
  it('gives the defaults the editors show', () => {
    expect(SETTINGS_DEFAULTS.windowDays).toBe(contract.defaults.windowDays);
    expect(SETTINGS_DEFAULTS.events).toEqual(contract.defaults.events);
    expect(SETTINGS_DEFAULTS.changeEvents).toEqual(contract.defaults.changeEvents);
    expect(SETTINGS_DEFAULTS.deploySteps).toEqual(contract.defaults.deploySteps);
    expect(SETTINGS_DEFAULTS.queryTimeoutSeconds).toBe(contract.defaults.queryTimeoutSeconds);
  });

  it('names every incidents column the annotations read', () => {
    const source = readFileSync(join(__dirname, 'annotations.ts'), 'utf8');
    const used = [...source.matchAll(/(?:get|fieldByName\(frame,)\s*\(?'([a-z_]+)'/g)].map((m) => m[1]);
    expect(used.length).toBeGreaterThan(5);
    for (const name of used) {
      expect(contract.columns.incidents).toContain(name);
    }
  });
});

import { DataSourceInstanceSettings, DataSourceSettings } from '@grafana/data';

import { DataSource } from '../datasource';
import { WoodpeckerOptions, WoodpeckerSecureJsonData } from '../types';
import { FakeTemplateSrv } from './fakeTemplateSrv';

/** What the fake backend lists for each resource path. */
export const RESOURCES: Record<string, string[]> = {
  repos: ['org/app', 'org/api'],
  environments: ['production', 'staging'],
  branches: ['main', 'release'],
};

/**
 * A data source with the given jsonData, dashboard variables `$repo` and
 * `$env`, and resources answered from RESOURCES instead of a backend: the
 * stand-ins for Grafana's template and backend services, shared by the
 * Jest tests and the browser harness.
 */
export function fakeDataSource(jsonData: WoodpeckerOptions = {}): DataSource {
  const ds = new DataSource(
    fakeInstanceSettings(jsonData),
    new FakeTemplateSrv({ repo: ['org/app'], env: 'production' })
  );
  ds.getResource = ((path: string) => Promise.resolve(RESOURCES[path])) as DataSource['getResource'];
  return ds;
}

/** The instance settings Grafana hands a data source, with `jsonData`. */
export function fakeInstanceSettings(jsonData: WoodpeckerOptions): DataSourceInstanceSettings<WoodpeckerOptions> {
  return {
    id: 1,
    uid: 'wp',
    type: 'dorakit-woodpecker-datasource',
    name: 'Woodpecker',
    access: 'proxy',
    jsonData,
    meta: {},
    readOnly: false,
  } as unknown as DataSourceInstanceSettings<WoodpeckerOptions>;
}

export type Settings = DataSourceSettings<WoodpeckerOptions, WoodpeckerSecureJsonData>;

/** The settings Grafana hands the config editor for a new data source, with `overrides`. */
export function fakeSettings(overrides: Partial<Settings> = {}): Settings {
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
  } as Settings;
}

import { useEffect, useState } from 'react';

import type { DataSource } from '../datasource';
import { ResourcePath } from '../types';

export interface ResourceList {
  values: string[];
  loading: boolean;
  error?: string;
}

/** Reads an error message from a failed `getResource` call (`{"error": "..."}` bodies included). */
export function resourceErrorMessage(err: unknown): string {
  if (err && typeof err === 'object') {
    const e = err as { data?: { error?: unknown; message?: unknown }; message?: unknown; statusText?: unknown };
    const msg = e.data?.error ?? e.data?.message ?? e.message ?? e.statusText;
    if (typeof msg === 'string' && msg !== '') {
      return msg;
    }
  }
  return 'The plugin backend did not answer.';
}

/**
 * Values of a backend resource (`repos`, `environments?repos=`,
 * `branches?repos=`), reloaded when the repos change.
 */
export function useResourceList(datasource: DataSource, path: ResourcePath, repos?: string[]): ResourceList {
  const key = path === 'repos' ? '' : (repos ?? []).join(',');
  const [state, setState] = useState<{ key?: string; values: string[]; error?: string }>({ values: [] });

  useEffect(() => {
    let cancelled = false;
    const repoList = key === '' ? [] : key.split(',');
    datasource
      .fetchList(path, repoList)
      .then((values) => !cancelled && setState({ key, values }))
      .catch((err) => !cancelled && setState({ key, values: [], error: resourceErrorMessage(err) }));
    return () => {
      cancelled = true;
    };
  }, [datasource, path, key]);

  // Until the answer for the current repos arrives, keep showing the previous values as loading.
  return { values: state.values, loading: state.key !== key, error: state.key === key ? state.error : undefined };
}

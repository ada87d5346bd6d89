/*
 * Extends the create-plugin webpack config (.config/webpack/webpack.config.ts, left as scaffolded)
 * for this repository's layout:
 * - src/plugin.json is a symlink to the top-level ../plugin.json (the one source of truth);
 * - the build writes into the top-level ../dist (the plugin folder), beside the Rust backend binary;
 * - README.md, CHANGELOG.md and LICENSE are copied from the top level;
 * - dist/ is NOT cleaned: the backend binary (gpx_woodpecker_dora_*) and anything else there survive,
 *   so the frontend and backend builds may run in either order.
 */
import path from 'path';
import CopyWebpackPlugin from 'copy-webpack-plugin';
import ReplaceInFileWebpackPlugin from 'replace-in-file-webpack-plugin';
import type { Configuration } from 'webpack';

import grafanaConfig, { type Env } from './.config/webpack/webpack.config.ts';
import { getPluginJson } from './.config/bundler/utils.ts';

const DIST = path.resolve(process.cwd(), '..', 'dist');

const config = async (env: Env): Promise<Configuration> => {
  const base = await grafanaConfig(env);
  const pluginJson = getPluginJson();
  const logos: string[] = Array.from(new Set<string>([pluginJson.info?.logos?.large, pluginJson.info?.logos?.small])).filter(Boolean);

  const plugins = (base.plugins ?? []).map((plugin) => {
    if (plugin instanceof CopyWebpackPlugin) {
      // Paths are relative to the webpack context (frontend/src).
      return new CopyWebpackPlugin({
        patterns: [
          { from: '../../README.md', to: '.', force: true },
          { from: 'plugin.json', to: '.', force: true },
          { from: '../../LICENSE', to: '.', force: true },
          { from: '../../CHANGELOG.md', to: '.', force: true },
          { from: '**/query_help.md', to: '.', noErrorOnMissing: true },
          ...logos.map((logo) => ({ from: logo, to: logo, force: true })),
        ],
      });
    }
    if (plugin instanceof ReplaceInFileWebpackPlugin) {
      plugin.options.forEach((option) => (option.dir = DIST));
    }
    return plugin;
  });

  return {
    ...base,
    output: { ...base.output, path: DIST, clean: false },
    plugins,
  };
};

export default config;

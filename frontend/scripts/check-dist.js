/*
 * Loads the built ../dist/module.js the way Grafana does (an AMD module whose
 * dependencies the host supplies), with the real @grafana/* packages from
 * node_modules in a jsdom window, and checks what the plugin registers.
 * Run after `npm run build`: `npm run check-dist`.
 */
const fs = require('fs');
const path = require('path');
const { JSDOM } = require('jsdom');

const dist = path.resolve(__dirname, '..', '..', 'dist');
const dom = new JSDOM('<!doctype html><html><body></body></html>', { url: 'http://localhost:3000/' });
global.window = dom.window;
const domClasses = new Set(['Event', 'EventTarget', 'CustomEvent', 'MessageEvent', 'AbortController', 'AbortSignal']);
for (const key of Object.getOwnPropertyNames(dom.window)) {
  if (!(key in global) || domClasses.has(key)) {
    global[key] = dom.window[key];
  }
}
global.matchMedia = () => ({ matches: false, addListener() {}, removeListener() {}, addEventListener() {}, removeEventListener() {} });

// @grafana/ui requires a few stylesheets; Grafana serves them, here they are ignored.
require.extensions['.css'] = () => {};

const failures = [];
const check = (ok, what) => {
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${what}`);
  if (!ok) {
    failures.push(what);
  }
};

const pluginJson = JSON.parse(fs.readFileSync(path.join(dist, 'plugin.json'), 'utf8'));
check(pluginJson.id === 'dorakit-woodpecker-datasource', 'plugin.json id');
check(pluginJson.executable === 'gpx_woodpecker_dora', 'plugin.json executable');
check(pluginJson.backend && pluginJson.alerting && pluginJson.annotations && pluginJson.metrics, 'plugin.json backend/alerting/annotations/metrics');
check(!/%VERSION%|%TODAY%/.test(JSON.stringify(pluginJson)), 'plugin.json version and date filled in');
for (const f of ['module.js', 'module.js.map', 'img/logo.svg', 'README.md', 'CHANGELOG.md', 'LICENSE']) {
  check(fs.existsSync(path.join(dist, f)), `dist/${f} exists`);
}

const source = fs.readFileSync(path.join(dist, 'module.js'), 'utf8');
check(!/angular/i.test(source), 'module.js has no Angular');

let exported;
const hostModules = { module: { uri: 'public/plugins/dorakit-woodpecker-datasource/module.js' } };
// A local `define` only: a global one would make UMD libraries in node_modules take their AMD branch.
const define = (deps, factory) => {
  const resolved = deps.map((d) => (d in hostModules ? hostModules[d] : require(d)));
  exported = factory(...resolved);
};
define.amd = true;
new Function('define', source)(define);

const plugin = exported && exported.plugin;
check(!!plugin, 'module.js defines an AMD module exporting `plugin`');
if (plugin) {
  const c = plugin.components || {};
  check(typeof c.ConfigEditor === 'function', 'config editor registered');
  check(typeof c.QueryEditor === 'function', 'query editor registered');
  check(typeof c.QueryEditorHelp === 'function', 'query help registered');
  const ds = new plugin.DataSourceClass(
    { id: 1, uid: 'wp', type: pluginJson.id, name: 'Woodpecker', jsonData: {}, meta: {}, access: 'proxy', readOnly: false },
    { getVariables: () => [], replace: (s) => s, containsTemplate: () => false, updateTimeRange() {} }
  );
  check(JSON.stringify(ds.getDefaultQuery('dashboard')) === '{"queryType":"summary"}', 'default query is summary');
  check(!!ds.annotations && typeof ds.annotations.processEvents === 'function', 'annotation support');
  check(!!ds.variables && ds.variables.getType() === 'custom', 'custom variable support');
}

if (failures.length) {
  console.error(`${failures.length} check(s) failed`);
  process.exit(1);
}
console.log('dist/ loads as a Grafana plugin module');

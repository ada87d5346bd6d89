// The browser suite (src/browser): real @grafana/ui in Debian's Chromium, driven from Node.
const base = require('./jest.config');

module.exports = {
  transform: base.transform,
  moduleNameMapper: base.moduleNameMapper,
  testEnvironment: 'node',
  testMatch: ['<rootDir>/src/browser/**/*.browser.ts'],
  testTimeout: 60000,
};

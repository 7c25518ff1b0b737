/** Two projects: pure rules run in milliseconds; integration tests start real Postgres, Temporal and SMTP. */
const tsJest = ['ts-jest', { tsconfig: 'tsconfig.json' }];
// openid-client and the libraries under it ship only ES modules: compiled to CommonJS for Jest.
const esmJs = ['ts-jest', { tsconfig: { allowJs: true, module: 'commonjs', target: 'ES2022' }, isolatedModules: true }];
const ESM_PACKAGES = '(openid-client|oauth4webapi|jose)';
const transform = { '^.+\\.ts$': tsJest, [`^.+/node_modules/${ESM_PACKAGES}/.+\\.js$`]: esmJs };
const transformIgnorePatterns = [`/node_modules/(?!${ESM_PACKAGES}/)`];

module.exports = {
  // Integration tests spend most of their time waiting on servers and timers, not on the CPU: two files at
  // a time even on two cores (Jest's default there is one), which halves the run.
  maxWorkers: Math.max(2, require('node:os').availableParallelism() - 1),
  // Integration tests start servers and wait on workflows; unit tests finish in milliseconds anyway.
  testTimeout: 120000,
  projects: [
    {
      displayName: 'unit',
      testEnvironment: 'node',
      transform,
      transformIgnorePatterns,
      testMatch: ['<rootDir>/domain/**/*.test.ts', '<rootDir>/api/**/*.test.ts', '<rootDir>/platform/**/*.test.ts'],
    },
    {
      displayName: 'integration',
      testEnvironment: 'node',
      transform,
      transformIgnorePatterns,
      testMatch: ['<rootDir>/test/**/*.test.ts'],
      globalSetup: '<rootDir>/test/support/global-setup.ts',
      globalTeardown: '<rootDir>/test/support/global-teardown.ts',
    },
  ],
};

import { loadConfig } from './config';

describe('loadConfig', () => {
  it('takes a variable left blank (as docker compose passes it) as unset', () => {
    const config = loadConfig({ METRICS_TOKEN: '', TRUST_PROXY: '', DATABASE_URL: '' });
    expect(config.METRICS_TOKEN).toBeUndefined();
    expect(config.TRUST_PROXY).toBeUndefined();
    expect(config.loadDemoData).toBe(true);
  });

  it('still refuses a value that is set and wrong, naming the variable', () => {
    expect(() => loadConfig({ METRICS_TOKEN: 'short' })).toThrow(/METRICS_TOKEN: at least 32 characters/);
  });
});

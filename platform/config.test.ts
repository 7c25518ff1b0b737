import { loadConfig } from './config';

describe('loadConfig', () => {
  it('takes a variable left blank (as docker compose passes it) as unset', () => {
    const config = loadConfig({ METRICS_TOKEN: '', TRUST_PROXY: '', DATABASE_URL: '' });
    expect(config.METRICS_TOKEN).toBeUndefined();
    expect(config.TRUST_PROXY).toBeUndefined();
    expect(config.loadDemoData).toBe(true);
  });

  it('gives the public demo keys to the embedded demo only, unless DEMO_PUBLIC_KEYS forces them', () => {
    const external = 'postgres://assetflow@db.example:5432/assetflow';
    expect(loadConfig({}).demoKeys).toBe(true);
    expect(loadConfig({ DEMO_DATA: 'false' }).demoKeys).toBe(false);
    expect(loadConfig({ DATABASE_URL: external }).demoKeys).toBe(false);
    expect(loadConfig({ DATABASE_URL: external, DEMO_DATA: 'true' }).demoKeys).toBe(false);
    expect(loadConfig({ DATABASE_URL: external, DEMO_DATA: 'true', DEMO_PUBLIC_KEYS: 'true' }).demoKeys).toBe(true);
    expect(loadConfig({ DEMO_PUBLIC_KEYS: 'false' }).demoKeys).toBe(false);
    expect(loadConfig({ DATABASE_URL: external, DEMO_PUBLIC_KEYS: '' }).demoKeys).toBe(false);
    expect(() => loadConfig({ DEMO_PUBLIC_KEYS: 'sure' })).toThrow(/DEMO_PUBLIC_KEYS/);
  });

  it('still refuses a value that is set and wrong, naming the variable', () => {
    expect(() => loadConfig({ METRICS_TOKEN: 'short' })).toThrow(/METRICS_TOKEN: at least 32 characters/);
  });

  describe('single sign-on', () => {
    const oidc = { OIDC_ISSUER_URL: 'https://login.example.com/realms/it', OIDC_CLIENT_ID: 'assetflow', OIDC_CLIENT_SECRET: 'a-client-secret' };

    it('is off without its variables', () => {
      expect(loadConfig({}).oidc).toBeUndefined();
    });

    it('takes issuer, client id and secret, with defaults for the rest and the callback under the public URL', () => {
      expect(loadConfig({ ...oidc, PUBLIC_URL: 'https://assetflow.example.com/' }).oidc).toEqual({
        issuerUrl: 'https://login.example.com/realms/it',
        clientId: 'assetflow',
        clientSecret: 'a-client-secret',
        scopes: 'openid email profile',
        groupsClaim: 'groups',
        createPeople: false,
        trustUnverifiedEmail: false,
        providerName: 'single sign-on',
        redirectUrl: 'https://assetflow.example.com/ui/sign-in/oidc/callback',
      });
    });

    it('takes the optional settings', () => {
      const settings = loadConfig({
        ...oidc, OIDC_SCOPES: 'openid  email groups', OIDC_GROUPS_CLAIM: 'roles', OIDC_CREATE_PEOPLE: 'true', OIDC_PROVIDER_NAME: 'Contoso Entra ID',
        OIDC_TRUST_UNVERIFIED_EMAIL: 'true',
      }).oidc;
      expect(settings).toMatchObject({
        scopes: 'openid email groups', groupsClaim: 'roles', createPeople: true, providerName: 'Contoso Entra ID', trustUnverifiedEmail: true,
      });
    });

    it('refuses half a configuration, naming what is missing', () => {
      expect(() => loadConfig({ OIDC_ISSUER_URL: oidc.OIDC_ISSUER_URL })).toThrow(/missing OIDC_CLIENT_ID, OIDC_CLIENT_SECRET/);
      expect(() => loadConfig({ OIDC_CLIENT_ID: 'assetflow', OIDC_CLIENT_SECRET: 'x' })).toThrow(/missing OIDC_ISSUER_URL$/);
    });

    it('accepts plain http only for a provider on this machine', () => {
      expect(() => loadConfig({ ...oidc, OIDC_ISSUER_URL: 'http://login.example.com' })).toThrow(/OIDC_ISSUER_URL must be https/);
      expect(loadConfig({ ...oidc, OIDC_ISSUER_URL: 'http://127.0.0.1:8080' }).oidc?.issuerUrl).toBe('http://127.0.0.1:8080');
      expect(loadConfig({ ...oidc, OIDC_ISSUER_URL: 'http://localhost:8080/realms/dev' }).oidc?.issuerUrl).toBe('http://localhost:8080/realms/dev');
      expect(() => loadConfig({ ...oidc, OIDC_ISSUER_URL: 'http://127.0.0.1.example.com' })).toThrow(/OIDC_ISSUER_URL must be https/);
    });

    it('refuses scopes without openid and a bad flag', () => {
      expect(() => loadConfig({ ...oidc, OIDC_SCOPES: 'email profile' })).toThrow(/OIDC_SCOPES must include openid/);
      expect(() => loadConfig({ ...oidc, OIDC_CREATE_PEOPLE: 'maybe' })).toThrow(/OIDC_CREATE_PEOPLE/);
      expect(() => loadConfig({ ...oidc, OIDC_TRUST_UNVERIFIED_EMAIL: 'maybe' })).toThrow(/OIDC_TRUST_UNVERIFIED_EMAIL/);
    });
  });
});

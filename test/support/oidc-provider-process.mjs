// A real OpenID Connect provider (the oidc-provider package) for the single sign-on tests, run as a
// child process by test/support/oidc-provider.ts: oidc-provider is an ES module Jest does not load.
// Its clients and accounts come as JSON in OIDC_TEST_PROVIDER; people sign in on its development
// login and consent pages (any password). It listens on a free port of 127.0.0.1 and prints
// "issuer <url>" once it answers.
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import Provider from 'oidc-provider';

const { clients, accounts } = JSON.parse(process.env.OIDC_TEST_PROVIDER ?? '{}');

const server = http.createServer();
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const issuer = `http://127.0.0.1:${server.address().port}`;

const provider = new Provider(issuer, {
  clients,
  claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name'], groups: ['groups'] },
  pkce: { required: () => true },
  features: { devInteractions: { enabled: true } },
  cookies: { keys: [randomBytes(32).toString('base64url')] },
  async findAccount(_ctx, id) {
    const account = accounts[id];
    return account && { accountId: id, claims: async () => ({ sub: id, ...account }) };
  },
});
server.on('request', provider.callback());

process.on('SIGTERM', () => server.close(() => process.exit(0)));
process.stdout.write(`issuer ${issuer}\n`);

// Minimal local OpenID Provider for end-to-end tests of Streamlit's st.login().
//
// Built on panva's certified `oidc-provider` (see package.json for the pinned
// version). Plain http on 127.0.0.1 only; in-memory storage; NOT for production.
//
// Usage:
//   node provider.mjs [PORT]            (PORT 0 / omitted = pick a free port)
// Environment:
//   OIDC_PORT            port to listen on (argv[2] wins; default 0 = free port)
//   OIDC_REDIRECT_URI    the app's callback, e.g. http://127.0.0.1:8501/oauth2callback
//                        (also registered as post_logout_redirect_uri, because
//                        st.logout() sends /oauth2callback there)
//   OIDC_CLIENT_ID       default "streamlit-app"
//   OIDC_CLIENT_SECRET   default "streamlit-app-secret"
//
// Once listening it prints exactly one line to stdout:
//   OIDC_PROVIDER_READY issuer=http://127.0.0.1:<port>
//
// Accounts: any login name is accepted with any password. Login "alice" yields
// sub=alice, email=alice@example.test, name="Alice".
import { createServer } from 'node:http';
import { generateKeyPairSync, randomBytes } from 'node:crypto';

import { Provider, interactionPolicy } from 'oidc-provider';

const port = Number(process.argv[2] ?? process.env.OIDC_PORT ?? 0);
const redirectUri = process.env.OIDC_REDIRECT_URI;
const clientId = process.env.OIDC_CLIENT_ID ?? 'streamlit-app';
const clientSecret = process.env.OIDC_CLIENT_SECRET ?? 'streamlit-app-secret';
const host = '127.0.0.1';

if (!redirectUri) {
  console.error('OIDC_REDIRECT_URI must be set (e.g. http://127.0.0.1:8501/oauth2callback)');
  process.exit(2);
}

// Bind first so that port 0 works: the issuer must contain the real port.
const server = createServer();
await new Promise((resolve, reject) => {
  server.once('error', reject);
  server.listen(port, host, resolve);
});
const issuer = `http://${host}:${server.address().port}`;

// Fresh per-run signing key (avoids the "development-only signing keys" warning).
const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const signingJwk = { ...privateKey.export({ format: 'jwk' }), kid: 'e2e-rs256', alg: 'RS256', use: 'sig' };

// Streamlit always sends prompt=select_account (unless [auth] client_kwargs.prompt
// overrides it). oidc-provider rejects prompt values that are not in its policy
// ("invalid_request: unsupported prompt value requested"), so register a
// requestable select_account prompt with no checks: accepted, but a no-op.
const policy = interactionPolicy.base();
const selectAccount = new interactionPolicy.Prompt({ name: 'select_account', requestable: true });
selectAccount.checks.splice(0, selectAccount.checks.length);
policy.add(selectAccount);

function titleCase(s) {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

const configuration = {
  clients: [
    {
      client_id: clientId,
      client_secret: clientSecret,
      redirect_uris: [redirectUri],
      post_logout_redirect_uris: [redirectUri],
      grant_types: ['authorization_code'],
      response_types: ['code'],
      // Authlib's default for confidential clients.
      token_endpoint_auth_method: 'client_secret_basic',
    },
  ],
  jwks: { keys: [signingJwk] },
  cookies: { keys: [randomBytes(32).toString('hex')] },
  claims: {
    openid: ['sub'],
    email: ['email', 'email_verified'],
    profile: ['name', 'preferred_username'],
  },
  // Authlib (and therefore st.user) only reads the ID token, never the userinfo
  // endpoint, so scope-requested claims must be put into the ID token too.
  conformIdTokenClaims: false,
  // Streamlit sends code_challenge_method=S256 when discovery advertises it;
  // force PKCE so the test proves it is really used.
  pkce: { required: () => true },
  interactions: { policy },
  // Explicit lifetimes (seconds) silence the "default ttl.* function called" notices.
  ttl: { AccessToken: 3600, IdToken: 3600, Interaction: 600, Session: 3600, Grant: 3600 },
  features: {
    devInteractions: { enabled: true }, // built-in login + consent pages
    rpInitiatedLogout: { enabled: true }, // end_session_endpoint for st.logout()
  },
  async findAccount(ctx, sub) {
    const login = String(sub).trim().toLowerCase();
    return {
      accountId: login,
      async claims() {
        return {
          sub: login,
          email: `${login}@example.test`,
          email_verified: true,
          name: titleCase(login),
          preferred_username: login,
        };
      },
    };
  },
};

const provider = new Provider(issuer, configuration);

for (const event of ['authorization.success', 'grant.success', 'end_session.success']) {
  provider.on(event, (ctx) => console.log(`event ${event} ${ctx.method} ${ctx.path}`));
}
for (const event of ['authorization.error', 'grant.error', 'end_session.error', 'server_error', 'userinfo.error']) {
  provider.on(event, (ctx, err) => console.error(`event ${event}: ${err?.name} ${err?.message} ${err?.error_description ?? ''}`));
}

server.on('request', provider.callback());

function shutdown(signal) {
  console.log(`received ${signal}, closing`);
  server.close(() => process.exit(0));
  server.closeAllConnections();
  setTimeout(() => process.exit(0), 2000).unref();
}
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);

console.log(`OIDC_PROVIDER_READY issuer=${issuer}`);

// The peer for `gatehouse-bench --peer`: oidc-provider 9.x configured like the benchmark's Gatehouse.
// Usage: node provider.mjs <port> <config.json>
// config.json: { "clients": [{ "id", "secret", "redirect_uri", "alg" }] }
//
// Equivalences: in-memory storage (the package's own adapter, but unbounded: see below), ES256 and
// RS256 keys, confidential clients
// with client_secret_basic, JWT access tokens for client credentials (via resource indicators, signed
// with the client's algorithm), opaque access tokens for sign-ins (userinfo accepts only those),
// refresh tokens rotated on every use, introspection on. The sign-in interaction takes the login name
// and checks no password: the peer has no password hashing to compare, so the benchmark does not
// compare sign-ins with it, and uses this only to mint codes and token chains.
import { generateKeyPairSync } from 'node:crypto';
import { readFileSync } from 'node:fs';

import Provider from 'oidc-provider';
// The package's in-memory adapter. Its default storage is an LRU of 1,000 entries, which a benchmark
// overruns within a second: sessions, grants, codes and tokens minted earlier in the run are evicted
// and then refused (`invalid_grant`, 401). Gatehouse keeps everything in its database, so the peer
// gets the same adapter over storage that keeps every entry until it expires.
import MemoryAdapter from 'oidc-provider/lib/adapters/memory_adapter.js';

const [port, configPath] = process.argv.slice(2);
const config = JSON.parse(readFileSync(configPath, 'utf8'));
const issuer = `http://127.0.0.1:${port}`;
const API = 'urn:gatehouse-bench:api';

function key(type, options, alg) {
  const { privateKey } = generateKeyPairSync(type, options);
  return { ...privateKey.export({ format: 'jwk' }), alg, use: 'sig', kid: alg.toLowerCase() };
}

// What the adapter expects of its storage (get, set with an optional maxAge in ms, delete), unbounded.
class Storage {
  #entries = new Map();

  get(key) {
    const entry = this.#entries.get(key);
    if (entry === undefined) return undefined;
    if (entry.expiry !== undefined && entry.expiry <= Date.now()) {
      this.#entries.delete(key);
      return undefined;
    }
    return entry.value;
  }

  set(key, value, { maxAge } = {}) {
    const expiry = typeof maxAge === 'number' ? Date.now() + maxAge : undefined;
    this.#entries.set(key, { value, expiry });
  }

  delete(key) {
    this.#entries.delete(key);
  }
}
const storage = new Storage();

const provider = new Provider(issuer, {
  adapter: (model) => new MemoryAdapter(model, storage),
  clients: config.clients.map((c) => ({
    client_id: c.id,
    client_secret: c.secret,
    grant_types: ['authorization_code', 'refresh_token', 'client_credentials'],
    response_types: ['code'],
    redirect_uris: [c.redirect_uri],
    id_token_signed_response_alg: c.alg,
    token_endpoint_auth_method: 'client_secret_basic',
    scope: 'openid profile email offline_access api.read',
  })),
  jwks: {
    keys: [
      key('ec', { namedCurve: 'P-256' }, 'ES256'),
      key('rsa', { modulusLength: 2048 }, 'RS256'),
    ],
  },
  scopes: ['openid', 'profile', 'email', 'offline_access', 'api.read'],
  claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name'] },
  async findAccount(_ctx, sub) {
    return {
      accountId: sub,
      async claims() {
        return { sub, email: sub, email_verified: true, name: 'Bench Person' };
      },
    };
  },
  pkce: { required: () => true },
  // The benchmark's Gatehouse lifetimes, in seconds.
  ttl: {
    AccessToken: 600,
    AuthorizationCode: 600,
    ClientCredentials: 600,
    Grant: 30 * 24 * 3600,
    IdToken: 600,
    Interaction: 1800,
    RefreshToken: 30 * 24 * 3600,
    Session: 12 * 3600,
  },
  rotateRefreshToken: true,
  features: {
    devInteractions: { enabled: false },
    clientCredentials: { enabled: true },
    introspection: { enabled: true },
    resourceIndicators: {
      enabled: true,
      // Client credentials get a JWT for the API; sign-ins keep the opaque token userinfo takes.
      defaultResource(ctx) {
        return ctx.oidc.params?.grant_type === 'client_credentials' ? API : undefined;
      },
      getResourceServerInfo(_ctx, _resource, client) {
        return {
          scope: 'api.read',
          audience: API,
          accessTokenFormat: 'jwt',
          jwt: { sign: { alg: client.idTokenSignedResponseAlg } },
        };
      },
    },
  },
  interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
});
provider.proxy = false;

// The interaction: GET shows a form; POST signs the named person in and grants every scope asked for.
provider.use(async (ctx, next) => {
  const match = ctx.path.match(/^\/interaction\/([^/]+)$/);
  if (!match) return next();
  const details = await provider.interactionDetails(ctx.req, ctx.res);
  if (ctx.method === 'GET') {
    ctx.type = 'html';
    ctx.body = `<form method="post" action="/interaction/${details.uid}"><input name="login" value=""><button>Sign in</button></form>`;
    return undefined;
  }
  const body = await new Promise((resolve) => {
    let text = '';
    ctx.req.on('data', (chunk) => { text += chunk; });
    ctx.req.on('end', () => resolve(new URLSearchParams(text)));
  });
  // A person already signed in is only asked for consent: signing in again would start a new
  // session and end the old one, and with it the codes issued in it.
  const accountId = details.session?.accountId ?? body.get('login');
  // The grant already made for this person and client is extended, as a consent page would: a new
  // one would replace it and revoke every code and token issued under the old one.
  const grant = (details.grantId && await provider.Grant.find(details.grantId))
    || new provider.Grant({ accountId, clientId: details.params.client_id });
  grant.addOIDCScope(details.params.scope);
  const grantId = await grant.save();
  const result = { consent: { grantId } };
  if (details.prompt.name === 'login') result.login = { accountId };
  return provider.interactionFinished(ctx.req, ctx.res, result, { mergeWithLastSubmission: false });
});

provider.listen(Number(port), '127.0.0.1');

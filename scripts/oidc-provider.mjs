// A real OpenID provider for Skybridge's tests: the certified `oidc-provider` package (v9),
// run by Node on 127.0.0.1 with an ephemeral port.
//
//   node scripts/oidc-provider.mjs [--resource api://orders] [--scopes "orders.read orders.write"]
//
// It prints one JSON line to stdout once it listens:
//   {"issuer": "http://127.0.0.1:PORT", "token_endpoint": "...", "client_id": "...",
//    "client_secret": "...", "resource": "...", "kid": "..."}
// and supports the client_credentials grant, issuing JWT access tokens (RS256) whose `aud`
// is the requested resource indicator and whose `scope` is the granted scopes.
//
// SIGUSR2 rotates the signing key: a new RSA key signs from then on, the previous one stays
// published for verification. After each rotation it prints {"rotated": "<new kid>"}.
// SIGTERM or SIGINT stops it; it also exits when its stdin closes, so a test harness that
// dies cannot leave it running.
//
// The package is loaded from .tools/node (installed by scripts/install-deps.sh), or from
// the directory named by SKYBRIDGE_NODE_MODULES.

import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import { join, dirname } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const modules = process.env.SKYBRIDGE_NODE_MODULES ?? join(root, '.tools', 'node', 'node_modules');
const { default: Provider } = await import(
  pathToFileURL(join(modules, 'oidc-provider', 'lib', 'index.js')).href
);

function option(name, fallback) {
  const index = process.argv.indexOf(`--${name}`);
  return index > 0 && process.argv[index + 1] ? process.argv[index + 1] : fallback;
}

const resource = option('resource', 'api://orders');
const scopes = option('scopes', 'orders.read orders.write');
const client = { id: 'skybridge-test', secret: randomUUID() };

function newKey() {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return { ...privateKey.export({ format: 'jwk' }), kid: randomUUID(), alg: 'RS256', use: 'sig' };
}

// Newest key first: oidc-provider signs with the first key fitting the algorithm.
let keys = [newKey()];

function buildProvider(issuer) {
  const provider = new Provider(issuer, {
    clients: [{
      client_id: client.id,
      client_secret: client.secret,
      grant_types: ['client_credentials'],
      redirect_uris: [],
      response_types: [],
      scope: scopes,
    }],
    jwks: { keys },
    scopes: scopes.split(' '),
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      resourceIndicators: {
        enabled: true,
        defaultResource: () => resource,
        useGrantedResource: () => true,
        getResourceServerInfo: (_ctx, indicator) => {
          if (indicator !== resource) {
            throw new Error(`unknown resource ${indicator}`);
          }
          return {
            scope: scopes,
            audience: resource,
            accessTokenTTL: 600,
            accessTokenFormat: 'jwt',
            jwt: { sign: { alg: 'RS256' } },
          };
        },
      },
    },
  });
  provider.proxy = false;
  return provider;
}

let handler = () => {};
const server = createServer((req, res) => handler(req, res));
server.listen(0, '127.0.0.1', () => {
  const { port } = server.address();
  const issuer = `http://127.0.0.1:${port}`;
  let provider = buildProvider(issuer);
  handler = provider.callback();
  process.on('SIGUSR2', () => {
    keys = [newKey(), keys[0]];
    provider = buildProvider(issuer);
    handler = provider.callback();
    process.stdout.write(`${JSON.stringify({ rotated: keys[0].kid })}\n`);
  });
  process.stdout.write(`${JSON.stringify({
    issuer,
    token_endpoint: `${issuer}/token`,
    client_id: client.id,
    client_secret: client.secret,
    resource,
    kid: keys[0].kid,
  })}\n`);
});

function stop() {
  server.close();
  server.closeAllConnections();
  process.exit(0);
}
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
process.stdin.on('end', stop);
process.stdin.resume();

// A real OpenID provider (oidc-provider) for fika's company-login tests.
//
//   node provider.mjs PORT CLIENT_ID CLIENT_SECRET REDIRECT_URI USERS_JSON
//
// Users come from USERS_JSON ({"id": {"password", "preferred_username", "name", "email",
// "groups"}}). The provider's own login form is at /interaction/UID. Consent is granted
// automatically (fika is a first-party client). The tests steer it through /_test/:
//   POST /_test/users     replace the users (JSON body as USERS_JSON)
//   POST /_test/rotate    new signing key with a new kid; the old one is withdrawn
//   POST /_test/mode      {"slow": seconds, "down": bool, "tamper": "aud" | "expired" | null}
//                         slow/down affect the endpoints fika calls (discovery, keys, token,
//                         userinfo); tamper re-signs the next ID tokens with a wrong audience
//                         or as expired, with the provider's own key.
// Prints "provider listening on URL" once it answers.

import http from "node:http";
import fs from "node:fs";
import Provider from "oidc-provider";
import { generateKeyPair, exportJWK, SignJWT, decodeJwt, importJWK } from "jose";

const [port, clientId, clientSecret, redirectUri, usersFile] = process.argv.slice(2);
const issuer = `http://127.0.0.1:${port}`;
let users = JSON.parse(fs.readFileSync(usersFile, "utf8"));
let mode = { slow: 0, down: false, tamper: null };
let signingKey; // the private JWK in force
let keyCounter = 0;

async function newKey() {
  const { privateKey } = await generateKeyPair("RS256", { extractable: true });
  const jwk = await exportJWK(privateKey);
  keyCounter += 1;
  return { ...jwk, kid: `test-key-${keyCounter}-${Date.now()}`, alg: "RS256", use: "sig" };
}

function escapeHtml(s) {
  return String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function makeProvider(key) {
  const provider = new Provider(issuer, {
    clients: [
      {
        client_id: clientId,
        client_secret: clientSecret,
        redirect_uris: [redirectUri],
        grant_types: ["authorization_code"],
        response_types: ["code"],
        token_endpoint_auth_method: "client_secret_basic",
      },
    ],
    jwks: { keys: [key] },
    scopes: ["openid", "profile", "email", "groups"],
    claims: {
      openid: ["sub"],
      profile: ["name", "preferred_username"],
      email: ["email"],
      groups: ["groups"],
    },
    pkce: { required: () => true },
    features: { devInteractions: { enabled: false } },
    interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
    cookies: { keys: ["fika-sso-test-cookie-key"] },
    findAccount: async (ctx, id) => {
      const u = users[id];
      if (!u) return undefined;
      return {
        accountId: id,
        claims: async () => ({
          sub: id,
          preferred_username: u.preferred_username,
          name: u.name,
          email: u.email,
          groups: u.groups,
        }),
      };
    },
    // First-party client: consent is implied.
    loadExistingGrant: async (ctx) => {
      const grantId =
        ctx.oidc.result?.consent?.grantId || ctx.oidc.session.grantIdFor(ctx.oidc.client.clientId);
      if (grantId) {
        const found = await ctx.oidc.provider.Grant.find(grantId);
        if (found) return found;
      }
      const grant = new ctx.oidc.provider.Grant({
        clientId: ctx.oidc.client.clientId,
        accountId: ctx.oidc.session.accountId,
      });
      grant.addOIDCScope("openid profile email groups");
      await grant.save();
      return grant;
    },
  });
  // A test may ask for ID tokens the provider would never issue; they are re-signed with the
  // provider's own key, so only the claim is wrong.
  provider.use(async (ctx, next) => {
    await next();
    if (ctx.path === "/token" && mode.tamper && ctx.body && ctx.body.id_token) {
      const claims = decodeJwt(ctx.body.id_token);
      const now = Math.floor(Date.now() / 1000);
      if (mode.tamper === "aud") claims.aud = "another-client";
      if (mode.tamper === "expired") {
        claims.iat = now - 7200;
        claims.exp = now - 3600;
      }
      const privateKey = await importJWK(signingKey, "RS256");
      const idToken = await new SignJWT(claims)
        .setProtectedHeader({ alg: "RS256", kid: signingKey.kid, typ: "JWT" })
        .sign(privateKey);
      ctx.body = { ...ctx.body, id_token: idToken };
    }
  });
  return provider;
}

let provider;
let handler;

async function install(key) {
  signingKey = key;
  provider = makeProvider(key);
  handler = provider.callback();
}

function readBody(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}

function send(res, status, type, body) {
  res.writeHead(status, { "Content-Type": type });
  res.end(body);
}

async function control(req, res, path) {
  const body = await readBody(req);
  if (path === "/_test/users") {
    users = JSON.parse(body);
  } else if (path === "/_test/rotate") {
    await install(await newKey());
  } else if (path === "/_test/mode") {
    mode = { slow: 0, down: false, tamper: null, ...JSON.parse(body || "{}") };
  } else {
    return send(res, 404, "text/plain", "no such control");
  }
  send(res, 200, "application/json", JSON.stringify({ ok: true, kid: signingKey.kid }));
}

async function interaction(req, res, path) {
  const details = await provider.interactionDetails(req, res);
  if (req.method === "GET") {
    const error = details.lastSubmission ? "<p class=error>Wrong username or password.</p>" : "";
    return send(
      res,
      200,
      "text/html; charset=utf-8",
      `<!DOCTYPE html><title>Company login</title><h1>Company login</h1>${error}
<form method="post" action="/interaction/${escapeHtml(details.uid)}/login">
<input name="login" autocomplete="username"><input name="password" type="password">
<button type="submit">Sign in</button></form>`,
    );
  }
  const form = new URLSearchParams(await readBody(req));
  const id = Object.keys(users).find((k) => users[k].preferred_username === form.get("login"));
  const ok = id && users[id].password === form.get("password");
  const result = ok ? { login: { accountId: id } } : { error: "access_denied", error_description: "wrong password" };
  await provider.interactionFinished(req, res, result, { mergeWithLastSubmission: false });
}

const machinePaths = ["/.well-known/openid-configuration", "/jwks", "/token", "/me"];

await install(await newKey());
const server = http.createServer(async (req, res) => {
  const path = new URL(req.url, issuer).pathname;
  try {
    if (path.startsWith("/_test/")) return await control(req, res, path);
    if (machinePaths.includes(path)) {
      if (mode.down) return req.socket.destroy();
      if (mode.slow) await new Promise((r) => setTimeout(r, mode.slow * 1000));
    }
    if (path.startsWith("/interaction/")) return await interaction(req, res, path);
    return handler(req, res);
  } catch (e) {
    console.error(e);
    if (!res.headersSent) send(res, 500, "text/plain", String(e));
  }
});
server.listen(Number(port), "127.0.0.1", () => {
  console.log(`provider listening on ${issuer}`);
});
for (const sig of ["SIGTERM", "SIGINT"]) process.on(sig, () => server.close(() => process.exit(0)));

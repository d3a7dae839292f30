// A small, independent ActivityPub peer built on Fedify, for fika's interop tests.
//
//   node peer.mjs --name alice --port 8001 [--allow 127.0.0.1:8080,...] [--group]
//
// One actor (`--name`) on http://127.0.0.1:PORT: actor document, WebFinger, NodeInfo, personal and
// shared inboxes, followers, and its notes. Fedify verifies every incoming signature itself
// (RFC 9421 or draft-cavage); this script only records what arrived. Follows are accepted at once.
// With `--group` the actor is a `Group` (FEP-1b12), which announces what it is told to.
// With `--allow`, inbox POSTs from actors on other hosts are answered 403 (the peer's own
// allowlist); without it every host may deliver.
//
// Control API for the tests (plain JSON, on the same port, not ActivityPub):
//   GET  /_test/received         every inbox delivery: {type, id, actor, object, content, verified, ...}
//   GET  /_test/followers        actor ids following this actor
//   POST /_test/follow?target=U  look up actor U (signed GET) and send it a signed Follow
//        &inbox=I                 ... or send it to inbox I without looking U up
//   POST /_test/post?text=T      send Create(Note) with T, addressed public, to the followers
//        &mention=U               ... mentioning actor U (looked up, signed), also sent to U
//   POST /_test/announce?object=O send Announce(O), addressed public, to the followers
// The two POSTs answer 200 with {id} once the delivery succeeded, 502 with {error} otherwise.

import { AsyncLocalStorage } from "node:async_hooks";
import http from "node:http";
import { parseArgs } from "node:util";
import { configure } from "@logtape/logtape";
import { createFederation, generateCryptoKeyPair, MemoryKvStore } from "@fedify/fedify";
import { Temporal } from "@js-temporal/polyfill";
import {
  Accept,
  Activity,
  Announce,
  Create,
  Endpoints,
  Follow,
  Group,
  Mention,
  Note,
  Person,
  PUBLIC_COLLECTION,
} from "@fedify/vocab";

const { values: opts } = parseArgs({
  options: {
    name: { type: "string", default: "alice" },
    port: { type: "string" },
    allow: { type: "string", default: "" },
    group: { type: "boolean", default: false },
  },
});
const name = opts.name;
const port = Number(opts.port);
const origin = `http://127.0.0.1:${port}`;
const allowed = opts.allow.split(",").filter(Boolean);

// Fedify's own diagnostics (delivery failures, signature problems) go to stderr.
await configure({
  contextLocalStorage: new AsyncLocalStorage(),
  sinks: {
    stderr: (r) => process.stderr.write(`${r.level} ${r.category.join(".")}: ${r.message.map(String).join("")}\n`),
  },
  loggers: [
    { category: "fedify", lowestLevel: "info", sinks: ["stderr"] },
    { category: ["logtape", "meta"], lowestLevel: "warning", sinks: ["stderr"] },
  ],
});

const keys = [await generateCryptoKeyPair("RSASSA-PKCS1-v1_5"), await generateCryptoKeyPair("Ed25519")];
const received = []; // inbox deliveries, in order of arrival
const followers = new Map(); // actor id -> { inbox, sharedInbox }
const notes = new Map(); // "1", "2", ... -> Note
let serial = 0;
const newId = (kind) => new URL(`${origin}/${kind}/${++serial}-${Date.now()}`);

const federation = createFederation({ kv: new MemoryKvStore(), allowPrivateAddress: true });

federation
  .setActorDispatcher("/users/{identifier}", async (ctx, identifier) => {
    if (identifier !== name) return null;
    const pairs = await ctx.getActorKeyPairs(identifier);
    const Actor = opts.group ? Group : Person;
    return new Actor({
      id: ctx.getActorUri(identifier),
      preferredUsername: identifier,
      name: `${identifier} (Fedify peer)`,
      inbox: ctx.getInboxUri(identifier),
      outbox: ctx.getOutboxUri(identifier),
      followers: ctx.getFollowersUri(identifier),
      following: ctx.getFollowingUri(identifier),
      endpoints: new Endpoints({ sharedInbox: ctx.getInboxUri() }),
      manuallyApprovesFollowers: false,
      discoverable: true,
      publicKey: pairs[0].cryptographicKey,
      assertionMethods: pairs.map((p) => p.multikey),
    });
  })
  .mapHandle(async (_ctx, username) => (username === name ? name : null))
  .setKeyPairsDispatcher(async (_ctx, identifier) => (identifier === name ? keys : []));

federation.setOutboxDispatcher("/users/{identifier}/outbox", async () => ({ items: [] }));
federation.setFollowingDispatcher("/users/{identifier}/following", async () => ({ items: [] }));
federation.setFollowersDispatcher("/users/{identifier}/followers", async (_ctx, identifier) => ({
  items:
    identifier !== name
      ? []
      : [...followers].map(([id, f]) => ({
          id: new URL(id),
          inboxId: new URL(f.inbox),
          endpoints: f.sharedInbox ? { sharedInbox: new URL(f.sharedInbox) } : null,
        })),
}));
federation.setObjectDispatcher(Note, "/notes/{n}", async (_ctx, { n }) => notes.get(n) ?? null);
federation.setNodeInfoDispatcher("/nodeinfo/2.1", async () => ({
  software: { name: "fika-interop-peer", version: "0.0.0" },
  protocols: ["activitypub"],
  usage: { users: { total: 1 }, localPosts: notes.size, localComments: 0 },
}));

/** What the tests see of one delivery. */
async function record(ctx, activity, verified, extra = {}) {
  const entry = {
    type: activity.constructor.typeId?.href.split("#").pop() ?? "Activity",
    id: activity.id?.href ?? null,
    actor: activity.actorId?.href ?? null,
    object: activity.objectId?.href ?? null,
    content: null,
    verified,
    inbox: ctx.recipient ?? "shared",
    ...extra,
  };
  if (verified && activity instanceof Create) {
    const object = await activity.getObject(ctx).catch(() => null);
    entry.object = object?.id?.href ?? entry.object;
    entry.content = object?.content == null ? null : String(object.content);
    entry.to = object?.toIds?.map((u) => u.href) ?? [];
    entry.cc = object?.ccIds?.map((u) => u.href) ?? [];
  }
  received.push(entry);
  console.log(`[${name}] <- ${entry.type} ${entry.id} from ${entry.actor} verified=${verified}`);
  return entry;
}

federation
  .setInboxListeners("/users/{identifier}/inbox", "/inbox")
  .on(Follow, async (ctx, follow) => {
    const entry = await record(ctx, follow, true);
    if (follow.objectId?.href !== ctx.getActorUri(name).href) return;
    const follower = await follow.getActor(ctx);
    if (!follower?.id || !follower.inboxId) {
      entry.error = "cannot accept: the follower's actor document has no inbox";
      console.error(`[${name}] ${entry.error}: ${JSON.stringify(await follower?.toJsonLd())}`);
      return;
    }
    followers.set(follower.id.href, {
      inbox: follower.inboxId.href,
      sharedInbox: follower.endpoints?.sharedInbox?.href ?? null,
    });
    const accept = new Accept({ id: newId("accepts"), actor: ctx.getActorUri(name), object: follow });
    await ctx.sendActivity({ identifier: name }, follower, accept);
    entry.accepted = accept.id.href;
  })
  // Everything else (Accept, Create, Undo, ...) is only recorded.
  .on(Activity, async (ctx, activity) => {
    if (!(activity instanceof Follow)) await record(ctx, activity, true);
  })
  .onUnverifiedActivity(async (ctx, activity, reason) => {
    await record(ctx, activity, false, { reason: reason.type });
    // No Response: Fedify answers its default 401.
  })
  // Fetches made while handling a delivery (the follower's actor, ...) are signed as this actor,
  // as servers with authorized fetch (fika) serve only the key to unsigned requests.
  .setSharedKeyDispatcher(() => ({ identifier: name }))
  .onError((_ctx, error) => console.error(`[${name}] inbox listener failed:`, error));

function json(res, status, body) {
  res.writeHead(status, { "content-type": "application/json" });
  res.end(JSON.stringify(body));
}

/** The control API. */
async function control(url, res) {
  const ctx = federation.createContext(new URL(origin), undefined);
  const route = url.pathname;
  if (route === "/_test/received") return json(res, 200, received);
  if (route === "/_test/followers") return json(res, 200, [...followers.keys()]);
  try {
    if (route === "/_test/follow") {
      let target;
      if (url.searchParams.has("inbox")) {
        // Deliver straight to the given inbox, without looking the target up first.
        target = { id: new URL(url.searchParams.get("target")), inboxId: new URL(url.searchParams.get("inbox")) };
      } else {
        // Signed GETs (authorized fetch): fika serves only the key to unsigned ones.
        const documentLoader = await ctx.getDocumentLoader({ identifier: name });
        target = await ctx.lookupObject(url.searchParams.get("target"), { documentLoader });
        if (!target?.id) return json(res, 502, { error: "target not found" });
        if (!target.inboxId) return json(res, 502, { error: "target has no inbox", target: await target.toJsonLd() });
      }
      const follow = new Follow({ id: newId("follows"), actor: ctx.getActorUri(name), object: target.id });
      await ctx.sendActivity({ identifier: name }, target, follow);
      return json(res, 200, { id: follow.id.href });
    }
    if (route === "/_test/post") {
      const n = String(notes.size + 1);
      let mentioned = null;
      if (url.searchParams.has("mention")) {
        const documentLoader = await ctx.getDocumentLoader({ identifier: name });
        mentioned = await ctx.lookupObject(url.searchParams.get("mention"), { documentLoader });
        if (!mentioned?.id || !mentioned.inboxId) return json(res, 502, { error: "mentioned actor not found" });
      }
      const ccs = [ctx.getFollowersUri(name), ...(mentioned ? [mentioned.id] : [])];
      const note = new Note({
        id: ctx.getObjectUri(Note, { n }),
        attribution: ctx.getActorUri(name),
        content: url.searchParams.get("text"),
        to: PUBLIC_COLLECTION,
        ccs,
        tags: mentioned ? [new Mention({ href: mentioned.id, name: `@${mentioned.preferredUsername}` })] : [],
        published: Temporal.Now.instant(),
      });
      notes.set(n, note);
      const create = new Create({
        id: newId("creates"),
        actor: ctx.getActorUri(name),
        object: note,
        to: PUBLIC_COLLECTION,
        ccs,
      });
      if (followers.size) {
        await ctx.sendActivity({ identifier: name }, "followers", create, { preferSharedInbox: true });
      }
      if (mentioned) await ctx.sendActivity({ identifier: name }, mentioned, create);
      return json(res, 200, { id: create.id.href, note: note.id.href, followers: followers.size });
    }
    if (route === "/_test/announce") {
      const announce = new Announce({
        id: newId("announces"),
        actor: ctx.getActorUri(name),
        object: new URL(url.searchParams.get("object")),
        to: PUBLIC_COLLECTION,
        cc: ctx.getFollowersUri(name),
        published: Temporal.Now.instant(),
      });
      await ctx.sendActivity({ identifier: name }, "followers", announce, { preferSharedInbox: true });
      return json(res, 200, { id: announce.id.href, followers: followers.size });
    }
  } catch (error) {
    return json(res, 502, { error: String(error?.message ?? error) });
  }
  return json(res, 404, { error: "no such control route" });
}

/** The peer's own allowlist: the host of the activity's actor must be listed. */
function refusedHost(path, method, body) {
  if (method !== "POST" || !allowed.length || !/^\/(users\/[^/]+\/)?inbox$/.test(path)) return null;
  try {
    const actor = JSON.parse(body.toString("utf8")).actor;
    const host = new URL(typeof actor === "string" ? actor : actor.id).host;
    return allowed.includes(host) ? null : host;
  } catch {
    return "?";
  }
}

http
  .createServer(async (req, res) => {
    try {
      const url = new URL(req.url, origin);
      if (url.pathname.startsWith("/_test/")) return await control(url, res);
      const chunks = [];
      for await (const chunk of req) chunks.push(chunk);
      const body = ["GET", "HEAD"].includes(req.method) ? undefined : Buffer.concat(chunks);
      const host = body && refusedHost(url.pathname, req.method, body);
      if (host) {
        console.log(`[${name}] refused an inbox POST from ${host}: not on the allowlist`);
        return json(res, 403, { error: `${host} is not allowed` });
      }
      const headers = new Headers();
      for (const [k, v] of Object.entries(req.headers)) headers.set(k, Array.isArray(v) ? v.join(", ") : v);
      const response = await federation.fetch(
        new Request(url, { method: req.method, headers, body }),
        { contextData: undefined },
      );
      if (body) console.log(`[${name}] ${req.method} ${url.pathname} -> ${response.status}`);
      res.writeHead(response.status, Object.fromEntries(response.headers));
      res.end(Buffer.from(await response.arrayBuffer()));
    } catch (error) {
      console.error(`[${name}] request failed:`, error);
      if (!res.headersSent) json(res, 500, { error: String(error) });
    }
  })
  .listen(port, "127.0.0.1", () => console.log(`peer ${name} listening on ${origin}`));

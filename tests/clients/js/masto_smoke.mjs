// masto.js against a fika node: REST with JSON bodies, media upload, WebSocket streaming.
//
//   FIKA_BASE_URL=http://127.0.0.1:PORT FIKA_TOKEN=... FIKA_PNG=/path/to/file.png node masto_smoke.mjs
//
// Prints `RESULT {json}` on success (ids the Python side checks) and exits 0; on any failure it
// prints `FAIL: reason` to stderr and exits 1.
import { readFileSync } from "node:fs";
import { createRestAPIClient, createStreamingAPIClient } from "masto";

const url = process.env.FIKA_BASE_URL;
const accessToken = process.env.FIKA_TOKEN;
const pngPath = process.env.FIKA_PNG;

function fail(message, error) {
  console.error(`FAIL: ${message}`);
  if (error) {
    const details = {
      name: error.name,
      message: error.message,
      statusCode: error.statusCode,
      description: error.description,
      additionalProperties: error.additionalProperties,
    };
    console.error(JSON.stringify(details, null, 2));
    if (error.stack) console.error(error.stack);
  }
  process.exit(1);
}

function check(condition, message) {
  if (!condition) fail(message);
}

async function step(name, fn) {
  try {
    const value = await fn();
    console.log(`ok - ${name}`);
    return value;
  } catch (error) {
    fail(`${name}: ${error?.message ?? error}`, error);
  }
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function withTimeout(promise, ms, message) {
  let timer;
  return Promise.race([
    promise.finally(() => clearTimeout(timer)),
    new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(message)), ms);
    }),
  ]);
}

check(url && accessToken && pngPath, "set FIKA_BASE_URL, FIKA_TOKEN and FIKA_PNG");
// Whatever happens, never hang the test suite.
setTimeout(() => fail("timed out after 60 s"), 60_000).unref();

const masto = createRestAPIClient({ url, accessToken, timeout: 20_000, mediaTimeout: 20_000 });

const me = await step("verify credentials", () => masto.v1.accounts.verifyCredentials());
check(typeof me.id === "string" && me.username, `odd account: ${JSON.stringify(me)}`);

const status = await step("post a status (JSON body)", () =>
  masto.v1.statuses.create({ status: "hello from masto.js", visibility: "public", spoilerText: "" }),
);
check(status.content.includes("hello from masto.js"), `content: ${status.content}`);
check(status.account.id === me.id, "the status is not mine");
check(status.visibility === "public", `visibility: ${status.visibility}`);

const home = await step("list the home timeline", () => masto.v1.timelines.home.list({ limit: 20 }));
check(Array.isArray(home), "home timeline is not a list");
check(
  home.some((s) => s.id === status.id),
  `the new status is not in the home timeline: ${home.map((s) => s.id)}`,
);

const media = await step("upload media (v2, multipart)", () =>
  masto.v2.media.create({
    file: new File([readFileSync(pngPath)], "masto.png", { type: "image/png" }),
    description: "uploaded by masto.js",
  }),
);
check(typeof media.url === "string" && media.url.startsWith("http"), `media url: ${media.url}`);
check(media.type === "image", `media type: ${media.type}`);
check(media.description === "uploaded by masto.js", `media description: ${media.description}`);
const withMedia = await step("post with the media", () =>
  masto.v1.statuses.create({ status: "picture from masto.js", mediaIds: [media.id] }),
);
check(withMedia.mediaAttachments.length === 1 && withMedia.mediaAttachments[0].id === media.id, "media not attached");

// masto.js follows the Link header when a list is iterated page by page.
await step("page through my statuses via Link (limit 1)", async () => {
  const seen = [];
  for await (const page of masto.v1.accounts.$select(me.id).statuses.list({ limit: 1 })) {
    check(page.length <= 1, `a page of ${page.length} with limit 1`);
    seen.push(...page.map((s) => s.id));
    if (seen.length >= 2) break;
  }
  check(seen.length === 2 && seen[0] === withMedia.id && seen[1] === status.id, `pages: ${JSON.stringify(seen)}`);
});

const instance = await step("fetch the v2 instance", () => masto.v2.instance.fetch());
const streamingApiUrl = instance?.configuration?.urls?.streaming;
check(typeof streamingApiUrl === "string" && streamingApiUrl.length > 0, "no configuration.urls.streaming");

// WebSocket streaming; the token travels in Sec-WebSocket-Protocol (masto.js' default).
const streaming = createStreamingAPIClient({ streamingApiUrl, accessToken, retry: 3 });
const subscription = streaming.user.subscribe();
const iterator = subscription[Symbol.asyncIterator]();
const received = [];
let streamed;
const firstEvent = iterator.next(); // opens the socket and sends the subscribe message
firstEvent.catch(() => {}); // reported when awaited below
await sleep(1500);
streamed = await step("post while subscribed", () => masto.v1.statuses.create({ status: "streamed via masto.js" }));
await step("receive the update over WebSocket within 10 s", () =>
  withTimeout(
    (async () => {
      let next = await firstEvent;
      while (!next.done) {
        const event = next.value;
        received.push(event.event);
        if (event.event === "update" && event.payload?.id === streamed.id) {
          check(event.stream.includes("user"), `event stream: ${JSON.stringify(event.stream)}`);
          check(event.payload.content.includes("streamed via masto.js"), "wrong payload");
          return event;
        }
        next = await iterator.next();
      }
      throw new Error("the stream ended");
    })(),
    10_000,
    `no update for ${streamed.id}; events seen: ${JSON.stringify(received)}`,
  ),
);
subscription.unsubscribe();

// A second subscription with parameters on the same socket: masto.js drops events whose
// `stream` array lacks ["hashtag", TAG].
const tagged = streaming.hashtag.subscribe({ tag: "mastojs" });
const tagIterator = tagged[Symbol.asyncIterator]();
const firstTagged = tagIterator.next();
firstTagged.catch(() => {});
await sleep(1000);
const tagPost = await step("post a tagged status", () => masto.v1.statuses.create({ status: "tagged #mastojs" }));
await step("receive it on the hashtag stream within 10 s", () =>
  withTimeout(
    (async () => {
      let next = await firstTagged;
      while (!next.done) {
        if (next.value.event === "update" && next.value.payload?.id === tagPost.id) return next.value;
        next = await tagIterator.next();
      }
      throw new Error("the stream ended");
    })(),
    10_000,
    `no hashtag update for ${tagPost.id}`,
  ),
);
tagged.unsubscribe();
streaming.close();

console.log(`RESULT ${JSON.stringify({ statusId: status.id, mediaStatusId: withMedia.id, mediaId: media.id, streamedId: streamed.id })}`);
process.exit(0);

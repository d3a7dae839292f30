// masto.js lists against a fika node: CRUD and members with JSON bodies, the list timeline, an
// exclusive list leaving home, and the `list` stream over WebSocket.
//
//   FIKA_BASE_URL=... FIKA_TOKEN=owner FIKA_MEMBER_TOKEN=followed FIKA_OTHER_TOKEN=stranger \
//   FIKA_MEMBER_ID=... FIKA_OTHER_ID=... node masto_lists.mjs
//
// Prints `RESULT {json}` on success and exits 0; on a failure prints `FAIL: reason` and exits 1.
import { createRestAPIClient, createStreamingAPIClient } from "masto";

const env = process.env;
const url = env.FIKA_BASE_URL;

function fail(message, error) {
  console.error(`FAIL: ${message}`);
  if (error?.stack) console.error(error.stack);
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

/** The error a call fails with (it must fail). */
async function refused(name, fn) {
  try {
    await fn();
  } catch (error) {
    console.log(`ok - ${name} (refused: ${error.statusCode} ${error.message})`);
    return error;
  }
  fail(`${name}: it was not refused`);
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function eventually(fn, message, ms = 10_000) {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await fn();
    if (value) return value;
    if (Date.now() > deadline) fail(message);
    await sleep(200);
  }
}

/** The first event `wanted` accepts, from `first` (the pending first `next()`) on, within `ms`. */
async function nextEvent(first, iterator, wanted, ms, message) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(message)), ms);
  });
  const search = (async () => {
    let next = await first;
    while (!next.done) {
      if (wanted(next.value)) return next.value;
      next = await iterator.next();
    }
    throw new Error("the stream ended");
  })();
  return Promise.race([search, timeout]).finally(() => clearTimeout(timer));
}

check(url && env.FIKA_TOKEN && env.FIKA_MEMBER_TOKEN && env.FIKA_OTHER_TOKEN, "set the FIKA_* variables");
setTimeout(() => fail("timed out after 60 s"), 60_000).unref();

const owner = createRestAPIClient({ url, accessToken: env.FIKA_TOKEN, timeout: 20_000 });
const member = createRestAPIClient({ url, accessToken: env.FIKA_MEMBER_TOKEN, timeout: 20_000 });
const memberId = env.FIKA_MEMBER_ID;
const otherId = env.FIKA_OTHER_ID;

const list = await step("create a list (JSON body)", () =>
  owner.v1.lists.create({ title: "masto.js list", exclusive: true, repliesPolicy: "followed" }),
);
check(typeof list.id === "string", `list id: ${JSON.stringify(list)}`);
check(list.title === "masto.js list" && list.exclusive === true, `list: ${JSON.stringify(list)}`);
check(list.repliesPolicy === "followed", `repliesPolicy: ${list.repliesPolicy}`);

const renamed = await step("rename it", () => owner.v1.lists.$select(list.id).update({ title: "masto.js renamed" }));
check(renamed.title === "masto.js renamed", `title: ${renamed.title}`);
const fetched = await step("fetch it", () => owner.v1.lists.$select(list.id).fetch());
check(fetched.title === "masto.js renamed", `fetched title: ${fetched.title}`);
const all = await step("list my lists", () => owner.v1.lists.list());
check(all.some((l) => l.id === list.id), "the list is not among my lists");

const blank = await refused("a blank title", () => owner.v1.lists.$select(list.id).update({ title: "" }));
check(blank.statusCode === 422 && /Title can't be blank/.test(blank.message), `blank: ${blank.message}`);

await step("add a followed account", () => owner.v1.lists.$select(list.id).accounts.create({ accountIds: [memberId] }));
const stranger = await refused("add an account not followed", () =>
  owner.v1.lists.$select(list.id).accounts.create({ accountIds: [otherId] }),
);
check(
  stranger.statusCode === 422 && /follow relationship missing/.test(stranger.message),
  `not followed: ${stranger.statusCode} ${stranger.message}`,
);
const members = await step("list the members", () => owner.v1.lists.$select(list.id).accounts.list());
check(members.length === 1 && members[0].id === memberId, `members: ${members.map((a) => a.id)}`);
const holding = await step("lists holding the member", () => owner.v1.accounts.$select(memberId).lists.list());
check(holding.map((l) => l.id).includes(list.id), "accounts/:id/lists lacks the list");

// The list stream, over the WebSocket masto.js opens (token in Sec-WebSocket-Protocol).
const instance = await step("fetch the v2 instance", () => owner.v2.instance.fetch());
const streamingApiUrl = instance.configuration.urls.streaming;
const streaming = createStreamingAPIClient({ streamingApiUrl, accessToken: env.FIKA_TOKEN, retry: 3 });
const subscription = streaming.list.subscribe({ list: list.id });
const iterator = subscription[Symbol.asyncIterator]();
const first = iterator.next();
first.catch(() => {});
await sleep(1500);
const posted = await step("the member posts", () => member.v1.statuses.create({ status: "for the masto.js list" }));
await step("the post arrives on the list stream", async () => {
  const event = await nextEvent(
    first,
    iterator,
    (e) => e.event === "update" && e.payload?.id === posted.id,
    10_000,
    `no list update for ${posted.id}`,
  );
  check(event.stream[0] === "list" && event.stream[1] === list.id, `stream: ${JSON.stringify(event.stream)}`);
});
subscription.unsubscribe();
streaming.close();

const timeline = await step("the list timeline has it", () =>
  eventually(
    async () => {
      const page = await owner.v1.timelines.list.$select(list.id).list({ limit: 20 });
      return page.some((s) => s.id === posted.id) && page;
    },
    `list timeline lacks ${posted.id}`,
  ),
);
check(timeline.every((s) => s.account.id === memberId), "a non-member's status in the list timeline");
const home = await step("home lacks it (exclusive list)", () => owner.v1.timelines.home.list({ limit: 40 }));
check(!home.some((s) => s.id === posted.id), "an exclusive list's member is in home");

// Someone else may not stream the list: masto.js raises the error frame.
const otherStreaming = createStreamingAPIClient({ streamingApiUrl, accessToken: env.FIKA_OTHER_TOKEN, retry: 1 });
const forbidden = otherStreaming.list.subscribe({ list: list.id });
await step("another user's list stream is refused", async () => {
  let timer;
  const error = await Promise.race([
    forbidden[Symbol.asyncIterator]()
      .next()
      .then(() => null, (e) => e),
    new Promise((resolve) => {
      timer = setTimeout(() => resolve("timeout"), 10_000);
    }),
  ]).finally(() => clearTimeout(timer));
  check(error && error !== "timeout", `no refusal: ${error}`);
  check(/Not authorized to stream this list/.test(error.message), `refusal: ${error.message}`);
});
otherStreaming.close();

await step("remove the member", () => owner.v1.lists.$select(list.id).accounts.remove({ accountIds: [memberId] }));
const left = await step("list the members again", () => owner.v1.lists.$select(list.id).accounts.list());
check(left.length === 0, `members after removal: ${left.map((a) => a.id)}`);

console.log(`RESULT ${JSON.stringify({ listId: list.id, postedId: posted.id })}`);
process.exit(0);

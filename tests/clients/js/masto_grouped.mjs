// masto.js grouped notifications against a fika node: list the groups, read one, its
// accounts, the unread count, then dismiss the group.
//
//   FIKA_BASE_URL=... FIKA_TOKEN=... FIKA_STATUS_ID=... node masto_grouped.mjs
//
// Prints `RESULT {json}` on success and exits 0; on a failure prints `FAIL: reason` and exits 1.
import { createRestAPIClient } from "masto";

const env = process.env;

function fail(message, error) {
  console.error(`FAIL: ${message}`);
  if (error?.stack) console.error(error.stack);
  process.exit(1);
}

function check(condition, message) {
  if (!condition) fail(message);
}

const masto = createRestAPIClient({ url: env.FIKA_BASE_URL, accessToken: env.FIKA_TOKEN });
const key = `favourite-${env.FIKA_STATUS_ID}`;

try {
  const page = await masto.v2.notifications.list({ limit: 10 });
  const groups = page.notificationGroups;
  check(Array.isArray(groups), "no notificationGroups");
  const fav = groups.find((g) => g.groupKey === key);
  check(fav && fav.notificationsCount === 2, `favourites not grouped: ${JSON.stringify(groups)}`);
  check(fav.sampleAccountIds.length === 2, "two sample accounts expected");
  check(groups.some((g) => g.type === "mention" && g.notificationsCount === 1), "mention group missing");
  check(page.accounts.length === 2 && page.statuses.length >= 2, "accounts or statuses missing");
  console.log("ok - list");

  const one = await masto.v2.notifications.$select(key).fetch();
  check(one.notificationGroups.length === 1, "one group expected");
  const accounts = await masto.v2.notifications.$select(key).accounts.fetch();
  check(accounts.length === 2, "two accounts expected");
  console.log("ok - one group and its accounts");

  const unread = await masto.v2.notifications.unreadCount.fetch();
  check(unread.count === 3, `unread count ${unread.count}`);
  console.log("ok - unread count");

  await masto.v2.notifications.$select(key).dismiss();
  const after = await masto.v2.notifications.list();
  check(!after.notificationGroups.some((g) => g.groupKey === key), "dismissed group still listed");
  console.log("ok - dismiss");
  console.log(`RESULT ${JSON.stringify({ dismissed: key })}`);
} catch (error) {
  fail(error?.message ?? String(error), error);
}

// Drives fika's web console in Debian's Chromium with playwright-core, as an admin would:
// log in, add a peer, publish an announcement to the organisation, watch its read count change
// after a member of the peer node dismisses it, see the organisation's insights matrix fill
// in, and open every page in three languages,
// recording console errors. Screenshots of each page go to SHOTS. Prints one JSON report.
//
//   node console.mjs   (settings in the environment, set by test_console.py)
//     CONSOLE_BASE      the node's base URL (http://127.0.0.1:PORT)
//     CONSOLE_USER, CONSOLE_PASSWORD   an admin's login
//     PEER_DOMAIN       the peer node's domain (already allowed by the node's configuration)
//     PEER_BASE, PEER_TOKEN  the peer node and a member's token there, for the dismissal
//     NEW_PEER          a domain to allow from the console
//     EXPECT_CELL       what the matrix should show for the peer's staff towards ours
//     SHOTS             where screenshots go
//     CHROMIUM          the browser (default /usr/bin/chromium)

import fs from "node:fs";
import path from "node:path";
import { chromium } from "playwright-core";

const env = (k) => {
  const v = process.env[k];
  if (!v) throw new Error(`${k} is not set`);
  return v;
};
const base = env("CONSOLE_BASE");
const shots = env("SHOTS");
fs.mkdirSync(shots, { recursive: true });

const report = { consoleErrors: [], pages: {}, steps: [] };
const step = (s) => report.steps.push(s);

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  // As the machine's notes say: no sandbox as root, and no background traffic to Google.
  args: [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
  ],
});
try {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, locale: "en-GB" });
  const page = await context.newPage();
  page.on("console", (m) => {
    if (m.type() === "error") report.consoleErrors.push(`${page.url()}: ${m.text()}`);
  });
  page.on("pageerror", (e) => report.consoleErrors.push(`${page.url()}: ${e.message}`));
  page.on("requestfailed", (r) => report.consoleErrors.push(`${r.url()}: ${r.failure()?.errorText}`));

  const shot = async (name) => {
    await page.screenshot({ path: path.join(shots, `${name}.png`), fullPage: true });
  };

  // Log in: the form is labelled, so it is found as a person would find it.
  await page.goto(`${base}/admin/login`);
  await shot("login");
  await page.getByLabel("Username or email").fill(env("CONSOLE_USER"));
  await page.getByLabel("Password").fill(env("CONSOLE_PASSWORD"));
  await page.getByRole("button", { name: "Log in" }).click();
  await page.waitForURL(/\/admin\/federation$/);
  step("logged in");

  // Add a peer.
  const newPeer = env("NEW_PEER");
  await page.getByLabel("Domain").first().fill(newPeer);
  await page.getByRole("button", { name: "Allow", exact: true }).click();
  await page.getByRole("status").waitFor();
  const peerRow = page.getByRole("row", { name: new RegExp(newPeer.replace(/\./g, "\\.")) });
  await peerRow.waitFor();
  report.peerAdded = (await peerRow.count()) > 0;
  await shot("federation");
  step("peer added");

  // Publish an announcement to the organisation, after a preview.
  await page.goto(`${base}/admin/announcements`);
  const text = `Fire drill on Thursday at 10 ${Date.now()}`;
  await page.getByLabel("Text").fill(text);
  await page.getByLabel("The organisation").check();
  await page.getByRole("button", { name: "Preview" }).click();
  await page.getByRole("region", { name: "Preview" }).waitFor();
  report.previewShown = (await page.getByRole("region", { name: "Preview" }).textContent()).includes("Fire drill");
  await page.getByRole("button", { name: "Publish" }).click();
  await page.getByRole("status").waitFor();
  step("published");
  const peer = env("PEER_DOMAIN");
  const chartText = () => page.locator("article.announcement").first().locator("svg text").allTextContents();
  report.chartBefore = await chartText();
  await shot("announcements-before");

  // A member of the peer node dismisses it there (through the peer's client API).
  const peerApi = async (p, init = {}) => {
    const r = await fetch(`${env("PEER_BASE")}${p}`, {
      ...init,
      headers: { Authorization: `Bearer ${env("PEER_TOKEN")}`, ...(init.headers || {}) },
    });
    if (!r.ok) throw new Error(`${p}: ${r.status} ${await r.text()}`);
    return r.json();
  };
  let onPeer = [];
  for (let i = 0; i < 100 && !onPeer.length; i++) {
    onPeer = (await peerApi("/api/v1/announcements")).filter((a) => a.content.includes("Fire drill"));
    if (!onPeer.length) await new Promise((r) => setTimeout(r, 200));
  }
  if (!onPeer.length) throw new Error("the announcement never reached the peer");
  await peerApi(`/api/v1/announcements/${onPeer[0].id}/dismiss`, { method: "POST" });
  step("dismissed on the peer");

  // The read count for the peer changes on the console within seconds.
  const want = new RegExp(`Read by 1 of \\d+ on ${peer.replace(/\./g, "\\.")}`);
  let seen = [];
  for (let i = 0; i < 60; i++) {
    await page.goto(`${base}/admin/announcements`);
    seen = await chartText();
    if (seen.some((t) => want.test(t))) break;
    await new Promise((r) => setTimeout(r, 500));
  }
  report.chartAfter = seen;
  report.readCountChanged = seen.some((t) => want.test(t));
  await shot("announcements-after");

  // Insights: the matrix shows the peer's report of its staff's interactions with ours (the
  // peer's followers of one of ours), the charts are drawn, and each table downloads as CSV.
  const matrixCell = async () =>
    page.evaluate((peerDomain) => {
      const table = document.querySelector("#ins-matrix")?.closest("section")?.querySelector("table");
      if (!table) return null;
      const head = [...table.querySelectorAll("thead th")].map((th) => th.textContent.trim());
      const row = [...table.querySelectorAll("tbody tr")].find((tr) =>
        tr.querySelector("th").textContent.trim().startsWith(peerDomain),
      );
      if (!row) return null;
      // The first column after the header is this node.
      return { head, cells: [...row.querySelectorAll("td")].map((td) => td.textContent.trim()) };
    }, peer);
  let matrix = null;
  for (let i = 0; i < 60; i++) {
    await page.goto(`${base}/admin/insights?lang=en`);
    matrix = await matrixCell();
    if (matrix && matrix.cells[0] === process.env.EXPECT_CELL) break;
    await new Promise((r) => setTimeout(r, 500));
  }
  report.insightsMatrix = matrix;
  report.insightsLines = await page.locator("svg.chart polyline").count();
  report.insightsHeatCells = await page.locator("svg.heat rect.heat-fill").count();
  await shot("insights-en");
  const csv = await page.request.get(`${base}/admin/insights?csv=matrix`);
  report.insightsCsv = { status: csv.status(), type: csv.headers()["content-type"], body: await csv.text() };
  step("insights");

  // Every page, in every language, on a laptop and on a phone.
  for (const lang of ["en", "es", "sv"]) {
    for (const p of ["federation", "accounts", "announcements", "insights", "audit"]) {
      const r = await page.goto(`${base}/admin/${p}?lang=${lang}`);
      report.pages[`${p}.${lang}`] = { status: r.status(), lang: await page.getAttribute("html", "lang") };
      await shot(`${p}-${lang}`);
    }
  }
  await page.setViewportSize({ width: 390, height: 844 });
  for (const p of ["federation", "announcements", "insights"]) {
    await page.goto(`${base}/admin/${p}?lang=en`);
    await shot(`${p}-phone`);
  }
  // The login page apps open (/oauth/authorize) has the console's look, in the chosen language.
  const app = await (
    await fetch(`${base}/api/v1/apps`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ client_name: "Tusky", redirect_uris: "urn:ietf:wg:oauth:2.0:oob", scopes: "read write" }),
    })
  ).json();
  for (const lang of ["es", "en"]) {
    await page.goto(`${base}/admin/federation?lang=${lang}`);
    await page.setViewportSize({ width: 1280, height: 900 });
    const r = await page.goto(
      `${base}/oauth/authorize?response_type=code&client_id=${app.client_id}&redirect_uri=urn:ietf:wg:oauth:2.0:oob&scope=read+write`,
    );
    report.pages[`oauth.${lang}`] = { status: r.status(), lang: await page.getAttribute("html", "lang") };
    report.oauthStyled = (await page.locator('link[rel="stylesheet"]').count()) > 0;
    await shot(`oauth-login-${lang}`);
  }
  await page.goto(`${base}/admin/federation?lang=en`);
  // Log out: the console needs a login again.
  await page.getByRole("button", { name: "Log out" }).click();
  await page.waitForURL(/\/admin\/login$/);
  report.loggedOut = true;
  step("logged out");
} catch (e) {
  report.error = String(e?.stack ?? e);
} finally {
  await browser.close();
}
console.log(JSON.stringify(report));

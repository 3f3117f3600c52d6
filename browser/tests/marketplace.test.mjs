// The marketplace in a real browser: Debian's Chromium driven by playwright-core (no
// browser is downloaded), against the server binary on a fresh database. Every page
// visited is checked by axe-core and photographed at 375 and 1440 px under
// target/browser-screenshots/.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, mkdirSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { chromium } from "playwright-core";
import { startServer } from "./server.mjs";

const require = createRequire(import.meta.url);
const axeSource = readFileSync(require.resolve("axe-core/axe.min.js"), "utf8");
const root = path.resolve(import.meta.dirname, "..", "..");
const shots = path.join(root, "target", "browser-screenshots");
mkdirSync(shots, { recursive: true });
const executablePath = process.env.CHROMIUM || "/usr/bin/chromium";
const PASSWORD = "violet-harbour-lantern-42";

let server;
let browser;
const checked = new Set();
const cspViolations = [];

before(async () => {
  server = await startServer();
  browser = await chromium.launch({ executablePath, args: ["--no-sandbox"] });
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

async function context(options = {}) {
  const ctx = await browser.newContext({ baseURL: server.base, ...options });
  ctx.on("console", (msg) => {
    if (msg.type() === "error" && /Content.Security.Policy/i.test(msg.text())) {
      cspViolations.push(`${msg.location().url}:${msg.location().lineNumber}: ${msg.text().slice(0, 80)}`);
    }
  });
  return ctx;
}

/** axe-core on the page, and its screenshots at both widths: once per named page. */
async function check(page, name) {
  if (checked.has(name)) return;
  checked.add(name);
  await page.evaluate(axeSource);
  const { violations } = await page.evaluate(() => window.axe.run(document, { resultTypes: ["violations"] }));
  const summary = violations.map((v) => `${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(" ")).join(", ")})`);
  assert.deepEqual(summary, [], `axe-core on ${name}`);
  const size = page.viewportSize();
  for (const width of [375, 1440]) {
    await page.setViewportSize({ width, height: 900 });
    await page.screenshot({ path: path.join(shots, `${name}-${width}.png`), fullPage: true });
  }
  await page.setViewportSize(size);
}

async function register(ctx, kind, who) {
  const page = await ctx.newPage();
  await page.goto("/register");
  await check(page, "register");
  await page.getByLabel(kind === "artist" ? /An artist/ : /A collector/).check();
  await page.getByLabel("First name").fill(who.first);
  await page.getByLabel("Last name").fill(who.last);
  await page.getByLabel("Email").fill(who.email);
  await page.getByLabel("Username").fill(who.username);
  await page.getByLabel("Address").fill("3 Harbour Row");
  await page.getByLabel("Postcode").fill(who.postcode);
  await page.getByLabel("Password", { exact: true }).fill(PASSWORD);
  await page.getByLabel("Password again").fill(PASSWORD);
  await page.getByRole("button", { name: "Join" }).click();
  await page.waitForLoadState();
  return page;
}

async function logIn(ctx, email, password = PASSWORD) {
  const page = await ctx.newPage();
  await page.goto("/login");
  await check(page, "login");
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Log in" }).click();
  await page.waitForURL((url) => !url.pathname.startsWith("/login"));
  return page;
}

/** Two small, real PNG images: screenshots of coloured pages. */
async function pngs() {
  const ctx = await browser.newContext({ viewport: { width: 320, height: 240 } });
  const page = await ctx.newPage();
  const images = [];
  for (const colour of ["#7a3b1d", "#1d5a7a"]) {
    await page.setContent(`<body style="margin:0;background:${colour}"></body>`);
    images.push({ name: `${colour.slice(1)}.png`, mimeType: "image/png", buffer: await page.screenshot() });
  }
  await ctx.close();
  return images;
}

let unique = 0;
function person(first, postcode) {
  unique += 1;
  const username = `${first.toLowerCase()}${unique}${Date.now() % 100000}`;
  return { first, last: "Test", email: `${username}@example.com`, username, postcode };
}

async function listArtwork(page, title, { quantity = "1", images = [] } = {}) {
  await page.goto("/studio/new");
  await check(page, "studio-new");
  await page.getByLabel("Title").fill(title);
  await page.getByLabel("Description").fill("Oil on linen, the estuary at low tide.");
  await page.getByLabel("Medium").selectOption("painting");
  await page.getByLabel("Material").fill("Oil on linen");
  await page.getByLabel("Year").fill("2024");
  await page.getByLabel("Price (£)").fill("640");
  await page.getByLabel("Width (cm)").fill("60");
  await page.getByLabel("Height (cm)").fill("40");
  await page.getByLabel("Depth (cm)").fill("3");
  await page.getByLabel("Weight (kg)").fill("2.5");
  await page.getByLabel("Copies for sale").fill(quantity);
  if (images.length) {
    await page.locator("input[type=file]").setInputFiles(images);
    await page.locator("[data-previews] li").nth(images.length - 1).waitFor();
  }
  await page.getByRole("button", { name: "List the artwork" }).click();
  await page.waitForURL(/\/artworks\/\d+$/);
  return page.url();
}

async function step(page, orderUrl, label) {
  await page.goto(orderUrl);
  await page.getByRole("button", { name: label }).click();
  await page.locator("#order").getByText(label).waitFor({ state: "detached" });
}

test("the whole story: list, find, keep, quote, buy, accept, pay, ship, receive", async () => {
  const artistCtx = await context();
  const collectorCtx = await context();
  const artist = person("Marta", "SW1A 1AA");
  const collector = person("June", "EH1 1YZ");

  const studio = await register(artistCtx, "artist", artist);
  assert.match(studio.url(), /\/studio$/);
  await check(studio, "studio-empty");
  const images = await pngs();
  // Drag-and-drop and previews are the script's; the file picker is the same input.
  const workUrl = await listArtwork(studio, "Estuary at Low Tide", { images });
  await check(studio, "artwork-own");
  assert.equal(await studio.locator(".thumbs img").count(), 2, "two images uploaded");
  await studio.goto("/studio");
  await check(studio, "studio");
  await studio.getByRole("link", { name: /^Edit/ }).first().click();
  await check(studio, "studio-edit");

  const shopper = await register(collectorCtx, "collector", collector);
  assert.match(shopper.url(), /\/artworks$/);
  // Search in place: htmx swaps the results and keeps the URL in step.
  await shopper.getByLabel("Search").fill("estuary");
  await shopper.waitForURL(/q=estuary/);
  await shopper.locator("#results").getByText("1 work").waitFor();
  await shopper.getByLabel("Painting").check();
  await shopper.waitForURL(/medium=painting/);
  await check(shopper, "marketplace");
  await shopper.getByLabel("Printmaking").check();
  await shopper.getByLabel("Painting").uncheck();
  await shopper.locator("#results").getByText("0 works").waitFor();
  await shopper.goBack();
  await shopper.waitForURL((url) => url.search.includes("painting"));
  await shopper.goto("/artworks?q=estuary&medium=painting");
  await shopper.getByRole("link", { name: "Estuary at Low Tide" }).first().click();
  await shopper.waitForURL(workUrl);
  await check(shopper, "artwork");

  await shopper.getByRole("button", { name: /Add to my gallery/ }).click();
  await shopper.getByRole("button", { name: /In your gallery/ }).waitFor();
  assert.match(await shopper.locator(".quote-lines").innerText(), /Shipping to EH1 1YZ/);
  const total = await shopper.locator(".quote-lines dd.total").innerText();
  await shopper.getByLabel("Deliver to postcode").fill("not a postcode");
  await shopper.getByRole("button", { name: "Get a quote" }).click();
  await shopper.locator("#postcode-error").waitFor();
  await shopper.goto(workUrl);
  await shopper.getByRole("button", { name: `Request to buy for ${total}` }).click();
  await shopper.waitForURL(/\/orders\/\d+$/);
  const orderUrl = shopper.url();
  await check(shopper, "order-pending");
  await shopper.goto("/gallery");
  await shopper.getByText("Estuary at Low Tide").waitFor();
  await check(shopper, "gallery");

  const seller = await artistCtx.newPage();
  await seller.goto("/studio/orders");
  assert.equal(await seller.locator("header .count").innerText(), "1", "the badge counts the new order");
  await check(seller, "sales");
  await seller.getByRole("link", { name: "Estuary at Low Tide" }).click();
  await seller.waitForURL(orderUrl);
  assert.equal(await seller.locator("header .count").count(), 0, "opening the order marks it viewed");

  await step(seller, orderUrl, "Accept the request");
  await step(shopper, orderUrl, "Pay now");
  await step(seller, orderUrl, "Mark as shipped");
  await step(shopper, orderUrl, "Confirm I received it");
  for (const page of [seller, shopper]) {
    await page.goto(orderUrl);
    const timeline = await page.locator(".timeline").innerText();
    for (const what of ["Request sent", "Accepted by the artist", "Paid", "Shipped", "Completed"]) {
      assert.match(timeline, new RegExp(what), `${what} on the timeline`);
    }
  }
  await check(shopper, "order-completed");
  await shopper.goto("/purchases");
  await check(shopper, "purchases");
  await shopper.goto("/account");
  await check(shopper, "account");

  // The last copy sold shows "sold" to everybody.
  const anonymous = await context();
  const visitor = await anonymous.newPage();
  await visitor.goto(workUrl);
  await visitor.locator(".details .badge", { hasText: "Sold" }).waitFor();
  await visitor.goto("/");
  await check(visitor, "home");
  await visitor.getByRole("link", { name: "Marta Test" }).first().click();
  await check(visitor, "artist");
  await visitor.goto("/no/such/page");
  await check(visitor, "not-found");
  for (const ctx of [artistCtx, collectorCtx, anonymous]) await ctx.close();
});

test("the other endings: the collector cancels, the artist rejects", async () => {
  const artistCtx = await context();
  const collectorCtx = await context();
  const artist = person("Ines", "M1 1AE");
  const collector = person("Theo", "BS1 4DJ");
  const studio = await register(artistCtx, "artist", artist);
  const workUrl = await listArtwork(studio, "Two Herons", { quantity: "3" });
  const shopper = await register(collectorCtx, "collector", collector);

  // Live: the artist's open page shows the new order's badge without a reload.
  const watching = await artistCtx.newPage();
  await watching.goto("/studio");
  assert.equal(await watching.locator("header .count").count(), 0);
  await shopper.goto(workUrl);
  await shopper.getByRole("button", { name: /Request to buy/ }).click();
  await shopper.waitForURL(/\/orders\/\d+$/);
  await watching.locator("header .count", { hasText: "1" }).first().waitFor({ timeout: 10000 });
  await step(shopper, shopper.url(), "Cancel the order");
  assert.match(await shopper.locator(".status").innerText(), /Cancelled/);

  await shopper.goto(workUrl);
  await shopper.getByRole("button", { name: /Request to buy/ }).click();
  await shopper.waitForURL(/\/orders\/\d+$/);
  const second = shopper.url();
  // Live: the collector's open order changes as the artist rejects it.
  assert.match(await shopper.locator(".status").innerText(), /Waiting for the artist/);
  await step(studio, second, "Reject");
  await shopper.locator(".status", { hasText: "Cancelled" }).waitFor({ timeout: 10000 });
  const timeline = await shopper.locator(".timeline").innerText();
  assert.match(timeline, /Cancelled\s+by Ines Test/);
  for (const ctx of [artistCtx, collectorCtx]) await ctx.close();
});

test("the artwork form takes dropped images, previews them, reorders and removes them", async () => {
  const ctx = await context();
  const page = await register(ctx, "artist", person("Lena", "G1 1XQ"));
  await page.goto("/studio/new");
  const images = await pngs();
  const transfer = await page.evaluateHandle((files) => {
    const data = new DataTransfer();
    for (const f of files) {
      const bytes = Uint8Array.from(atob(f.base64), (c) => c.charCodeAt(0));
      data.items.add(new File([bytes], f.name, { type: f.mimeType }));
    }
    return data;
  }, images.map((i) => ({ name: i.name, mimeType: i.mimeType, base64: i.buffer.toString("base64") })));
  await page.dispatchEvent("[data-dropzone]", "drop", { dataTransfer: transfer });
  const previews = page.locator("[data-previews] li");
  await previews.nth(1).waitFor();
  assert.equal(await page.locator("input[type=file]").evaluate((i) => i.files.length), 2);
  await page.getByRole("button", { name: `Move ${images[1].name} earlier` }).click();
  assert.equal(await page.locator("input[type=file]").evaluate((i) => i.files[0].name), images[1].name);
  await page.getByRole("button", { name: `Remove ${images[0].name}` }).click();
  assert.equal(await previews.count(), 1);
  assert.equal(await page.locator("input[type=file]").evaluate((i) => i.files.length), 1);
  await ctx.close();
});

test("staff see every order and every gallery", async () => {
  const ctx = await context();
  const page = await logIn(ctx, server.staff.email, server.staff.password);
  await page.goto("/staff/orders");
  await check(page, "staff-orders");
  await page.getByLabel("Show").selectOption("cancelled");
  await page.waitForURL(/status=cancelled/);
  await page.goto("/staff/galleries");
  await check(page, "staff-galleries");
  await ctx.close();
});

test("with JavaScript off: search with filters, log in, request to buy", async () => {
  const setup = await context();
  const artist = person("Noor", "LS1 4AP");
  const studio = await register(setup, "artist", artist);
  const workUrl = await listArtwork(studio, "Quiet Moor");
  const collector = person("Ravi", "CF10 1EP");
  await register(await context(), "collector", collector);
  await setup.close();

  const ctx = await context({ javaScriptEnabled: false });
  const page = await ctx.newPage();
  await page.goto("/artworks");
  await page.getByLabel("Search").fill("moor");
  await page.getByLabel("Painting").check();
  await page.getByLabel("From").first().fill("100");
  await page.getByRole("button", { name: "Show works" }).click();
  await page.waitForURL(/q=moor/);
  assert.match(page.url(), /medium=painting/);
  assert.match(page.url(), /min_price=100/);
  assert.match(await page.locator("#results").innerText(), /1 work/);
  await page.getByRole("link", { name: "Quiet Moor" }).first().click();
  await page.locator("#buy").getByRole("link", { name: "Log in" }).click();
  await page.getByLabel("Email").fill(collector.email);
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByRole("button", { name: "Log in" }).click();
  await page.waitForURL(workUrl);
  await page.getByRole("button", { name: /Request to buy/ }).click();
  await page.waitForURL(/\/orders\/\d+$/);
  assert.match(await page.locator(".status").innerText(), /Waiting for the artist/);
  await ctx.close();
});

test("pages run under their policy, and htmx is the npm package's own file", async () => {
  assert.deepEqual(cspViolations, [], "no Content-Security-Policy violations");
  const vendored = readFileSync(path.join(root, "static", "vendor", "htmx.min.js"));
  const packaged = readFileSync(require.resolve("htmx.org/dist/htmx.min.js"));
  assert.ok(vendored.equals(packaged), "static/vendor/htmx.min.js is htmx.org's dist/htmx.min.js");
});

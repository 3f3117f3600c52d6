// The README's screenshots, taken from the demo marketplace:
//   DATA_DIR=/tmp/demo PORT=8111 cargo run -- seed-demo && DATA_DIR=/tmp/demo PORT=8111 cargo run
//   BASE=http://127.0.0.1:8111 node browser/screenshots.mjs
import path from "node:path";
import { chromium } from "playwright-core";

const base = process.env.BASE || "http://127.0.0.1:8000";
const out = path.resolve(import.meta.dirname, "..", "docs", "screenshots");
const password = "openstudio-demo-gallery-42";
const browser = await chromium.launch({ executablePath: process.env.CHROMIUM || "/usr/bin/chromium", args: ["--no-sandbox"] });

async function as(email) {
  const ctx = await browser.newContext({ baseURL: base });
  if (email) {
    const page = await ctx.newPage();
    await page.goto("/login");
    await page.getByLabel("Email").fill(email);
    await page.getByLabel("Password").fill(password);
    await page.getByRole("button", { name: "Log in" }).click();
    await page.waitForURL((url) => !url.pathname.startsWith("/login"));
    await page.close();
  }
  return ctx;
}

async function shoot(ctx, url, name, widths = [375, 1440]) {
  const page = await ctx.newPage();
  for (const width of widths) {
    await page.setViewportSize({ width, height: width < 800 ? 800 : 1000 });
    await page.goto(url);
    await page.waitForLoadState("networkidle");
    await page.screenshot({ path: path.join(out, `${name}-${width}.png`) });
  }
  await page.close();
}

const anonymous = await as(null);
await shoot(anonymous, "/", "home");
await shoot(anonymous, "/artworks", "marketplace");
await shoot(anonymous, "/artists/1", "artist", [1440]);
const collector = await as("june.collects@demo.openstudio.example");
await shoot(collector, "/artworks/3", "artwork");
const purchases = await collector.newPage();
await purchases.goto("/purchases");
// An order with a step to take: accepted, awaiting payment.
const waiting = purchases.locator("tr", { hasText: "awaiting payment" }).locator("a");
const order = await ((await waiting.count()) ? waiting.first() : purchases.locator("table a").first()).getAttribute("href");
await shoot(collector, order, "order");
const artist = await as("marta.ink@demo.openstudio.example");
await shoot(artist, "/studio", "studio", [1440]);
await shoot(artist, "/studio/new", "artwork-form", [1440]);
await browser.close();

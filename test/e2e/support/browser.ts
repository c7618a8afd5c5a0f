/**
 * Debian's Chromium driven by playwright-core (never a downloaded browser). `scripts/ensure-chromium.sh`
 * installs it when missing; `npm test` runs that script before these tests.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { type Browser, type BrowserContext, type BrowserContextOptions, chromium, type Page } from 'playwright-core';
import { screenshotsDir } from './demo.ts';

export const chromiumPath = '/usr/bin/chromium';

/** Launches headless Chromium with the flags this environment needs, plus `extraArgs`. */
export async function launchChromium(extraArgs: readonly string[] = []): Promise<Browser> {
  if (!existsSync(chromiumPath)) {
    throw new Error(
      `${chromiumPath} is missing: run \`bash scripts/ensure-chromium.sh\` (apt-get install -y chromium)`,
    );
  }
  return chromium.launch({
    executablePath: chromiumPath,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-quic',
      '--no-first-run',
      '--disable-component-update',
      '--disable-sync',
      ...extraArgs,
    ],
  });
}

/**
 * A fresh browser profile (cookies, history) on `baseURL`, 1280x800. JavaScript is off unless
 * asked for: the demo must work without it.
 */
export function newContext(
  browser: Browser,
  baseURL: string,
  options: BrowserContextOptions = {},
): Promise<BrowserContext> {
  return browser.newContext({ baseURL, viewport: { width: 1280, height: 800 }, javaScriptEnabled: false, ...options });
}

/** Saves a 1280x800 screenshot as <name>.png in {@link screenshotsDir}. */
export async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(screenshotsDir, { recursive: true });
  await page.screenshot({ path: join(screenshotsDir, `${name}.png`), fullPage: false });
}

/** Signs in through the login form and waits for the page it lands on. */
export async function signIn(page: Page, email: string, password: string, path = '/login'): Promise<void> {
  await page.goto(path);
  await page.fill('input[name="email"]', email);
  await page.fill('input[name="password"]', password);
  await Promise.all([page.waitForNavigation(), page.click('form.stack button[type="submit"]')]);
}

/** Clicks the header's "Sign out" button (a CSRF-protected POST form). */
export async function signOut(page: Page): Promise<void> {
  await Promise.all([page.waitForNavigation(), page.click('header form[action="/logout"] button')]);
}

// Shared set-up for the tests that drive Debian's Chromium with playwright-core (no browser download).
import * as fs from 'node:fs';
import type { Browser } from 'playwright-core';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** Why browser tests cannot run here, or undefined. With MPTCP_LENS_REQUIRE_BROWSER=1 (CI) a missing browser fails instead. */
export function browserMissing(): string | undefined {
  if (fs.existsSync(CHROMIUM)) return undefined;
  const why = `no Chromium at ${CHROMIUM} (apt-get install chromium, or scripts/setup-e2e.sh)`;
  if (process.env.MPTCP_LENS_REQUIRE_BROWSER === '1') throw new Error(why);
  return why;
}

export async function launch(): Promise<Browser> {
  const { chromium } = await import('playwright-core');
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

import { chromium, type Browser, type LaunchOptions } from 'playwright-core';
import { chromiumPath } from '../../src/cli/testPrerequisites.js';

/**
 * Debian's Chromium (or CHROMIUM_PATH), headless, as every browser test launches it; `npm test`'s
 * pretest step installs it when it is missing. Never a downloaded browser.
 */
export function launchChromium(options: Omit<LaunchOptions, 'executablePath'> = {}): Promise<Browser> {
  return chromium.launch({
    ...options,
    executablePath: chromiumPath(),
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', ...(options.args ?? [])],
  });
}

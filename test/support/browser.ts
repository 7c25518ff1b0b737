import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { projectRoot } from '../../platform/project-root';

/** Debian's chromium unless CHROMIUM_PATH names another; `npm test` installs it first (scripts/install-chromium.sh). */
export function chromiumPath(): string {
  const executable = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
  if (!existsSync(executable)) {
    throw new Error(`no Chromium at ${executable}: run "bash scripts/install-chromium.sh" or set CHROMIUM_PATH`);
  }
  return executable;
}

export function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: chromiumPath(),
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--disable-background-networking'],
  });
}

/** Screenshots land in test-artifacts/ (git-ignored) for a person to look at after the run. */
export function artifactPath(name: string): string {
  const dir = path.join(projectRoot(), 'test-artifacts');
  mkdirSync(dir, { recursive: true });
  return path.join(dir, name);
}

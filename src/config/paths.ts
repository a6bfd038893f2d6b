import path from 'node:path';
import fs from 'node:fs';

/** The project root: two levels above this file both in src/ (tests) and in dist/ (built). */
export const PROJECT_ROOT = path.resolve(__dirname, '..', '..');

/**
 * Where an external tool is: an explicit override (ORCH_<TOOL>_BIN), else the pinned copy that
 * `npm run toolchain` linked into .tools/bin, else whatever is on PATH.
 */
export function resolveTool(
  name: 'temporal' | 'gitleaks' | 'osv-scanner',
  env: NodeJS.ProcessEnv = process.env,
): string {
  const override = env[`ORCH_${name.toUpperCase().replace('-', '_')}_BIN`];
  if (override) return override;
  const pinned = path.join(PROJECT_ROOT, '.tools', 'bin', name);
  return fs.existsSync(pinned) ? pinned : name;
}

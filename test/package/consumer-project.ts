// A vendor's project in a temp directory: the package packed as npm would publish it, installed
// from the tarball beside express 5, with only npm's own commands, so what the tests prove there is
// what a vendor gets.

import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** The repository root: the workspace `npm pack -w` runs in. */
export const REPO = join(__dirname, '../..');
/** Each npm or node command gets this long; an install that hangs fails the suite, not the run. */
const COMMAND_TIMEOUT_MS = 120_000;

/** What `npm pack --json` reports of the tarball. */
export interface PackedTarball {
  path: string;
  /** Bytes of the .tgz. */
  size: number;
  files: string[];
}

/** The size of an installed tree: `npm ls --all --parseable` lines and `du -sb node_modules` bytes. */
export interface Footprint {
  packages: number;
  bytes: number;
}

/**
 * The environment of every child: the test's own, without the `npm_*` variables `npm test` sets,
 * which would point a nested npm at the repository instead of the temp project.
 */
export function childEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !/^npm_/i.test(name)));
  return { ...env, NODE_ENV: 'test', ...extra };
}

/** Runs a command to completion; rejects with its output on a non-zero exit or after the timeout. */
export async function command(
  file: string,
  args: string[],
  cwd: string,
  env: NodeJS.ProcessEnv = childEnv(),
): Promise<string> {
  try {
    const { stdout } = await run(file, args, {
      cwd,
      env,
      timeout: COMMAND_TIMEOUT_MS,
      maxBuffer: 16 * 1024 * 1024,
    });
    return stdout;
  } catch (error) {
    const failed = error as Error & { stdout?: string; stderr?: string };
    throw new Error(
      `${file} ${args.join(' ')} failed: ${failed.message}\n${failed.stdout ?? ''}\n${failed.stderr ?? ''}`,
    );
  }
}

/** A temp directory for one run, removed by `remove()`. */
export async function makeTempDir(): Promise<{ dir: string; remove(): Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'jtr-consumer-'));
  return { dir, remove: () => rm(dir, { recursive: true, force: true }) };
}

/**
 * Packs the workspace as `npm publish` would, from the existing build (`npm test` builds first;
 * `--ignore-scripts` skips the prepack rebuild).
 */
export async function packPackage(destination: string): Promise<PackedTarball> {
  const out = await command(
    'npm',
    ['pack', '-w', 'jira-token-rotation', '--pack-destination', destination, '--json', '--ignore-scripts'],
    REPO,
  );
  const [packed] = JSON.parse(out) as Array<{ filename: string; files: Array<{ path: string }> }>;
  const path = join(destination, packed.filename);
  const size = (await readFile(path)).length;
  return { path, size, files: packed.files.map((f) => f.path) };
}

/** An empty project (a `package.json` and nothing else) in `dir`. */
export async function initProject(dir: string): Promise<void> {
  await writeFile(
    join(dir, 'package.json'),
    JSON.stringify({ name: 'vendor-app', version: '1.0.0', private: true }, null, 2),
  );
}

/** `npm install` of `specs` into the project: the registry, through the local npm cache. */
export async function npmInstall(dir: string, specs: string[], dev = false): Promise<void> {
  await command(
    'npm',
    ['install', '--no-audit', '--no-fund', '--prefer-offline', ...(dev ? ['--save-dev'] : []), ...specs],
    dir,
  );
}

/** How many packages the project's tree holds and how many bytes its node_modules takes. */
export async function footprint(dir: string): Promise<Footprint> {
  const parseable = await command('npm', ['ls', '--all', '--parseable'], dir);
  const du = await command('du', ['-sb', 'node_modules'], dir);
  return {
    packages: parseable.split('\n').filter((line) => line.trim() !== '').length,
    bytes: Number(du.split(/\s/)[0]),
  };
}

/** Runs a script with the project's node_modules, as a vendor's `node -e` would; returns stdout. */
export function nodeEval(dir: string, script: string, esm = false): Promise<string> {
  return command(process.execPath, [...(esm ? ['--input-type=module'] : []), '-e', script], dir);
}

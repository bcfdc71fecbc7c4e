// `npm start`'s sandbox as a child process (compiled dist/app.js on a free port), for tests that
// drive it from outside as a user would: a real browser.

import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

const APP = join(__dirname, '../../dist/app.js');
/** The line `main()` prints once the sandbox tenant is installed. */
const READY_LINE = /^Sandbox: (http:\/\/\S+)$/;

export interface SandboxProcess {
  /** The host page's URL as printed, e.g. `http://127.0.0.1:41234/sandbox?macros=30`. */
  sandboxUrl: string;
  /** The host page's origin, which also serves the simulator at /sim. */
  sandboxOrigin: string;
  /** SIGTERM (the app's clean shutdown), resolved once the process is gone. */
  stop(): Promise<void>;
}

/**
 * Starts `node dist/app.js` with no Atlassian credentials on 127.0.0.1 and a free port, and resolves
 * with the URL it prints. Rejects, with the child's output, if it exits first or does not print it
 * within `startTimeoutMs`.
 */
export async function startSandboxProcess(
  env: Record<string, string> = {},
  startTimeoutMs = 20_000,
): Promise<SandboxProcess> {
  if (!existsSync(APP)) throw new Error(`${APP} is missing: run npm run build first (npm test does)`);
  const child = spawn(process.execPath, [APP], {
    // No inherited Atlassian or Redis settings: this is the embedded sandbox.
    env: { PATH: process.env.PATH ?? '', PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output: string[] = [];
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => output.push(chunk));
  const sandboxUrl = await new Promise<string>((resolve, reject) => {
    const fail = (why: string): void => reject(new Error(`the sandbox ${why}:\n${output.join('')}`));
    const timer = setTimeout(
      () => fail(`printed no Sandbox URL within ${startTimeoutMs} ms`),
      startTimeoutMs,
    );
    child.once('exit', (code, signal) => fail(`exited (${signal ?? code}) before it was ready`));
    createInterface({ input: child.stdout }).on('line', (line) => {
      output.push(`${line}\n`);
      const ready = READY_LINE.exec(line);
      if (!ready) return;
      clearTimeout(timer);
      resolve(ready[1]);
    });
  }).catch(async (error: unknown) => {
    await stopChild(child);
    throw error;
  });
  return { sandboxUrl, sandboxOrigin: new URL(sandboxUrl).origin, stop: () => stopChild(child) };
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  await gone;
}

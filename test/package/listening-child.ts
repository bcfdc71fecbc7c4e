// A vendor's server as a child process: started with `node`, ready once it prints the port it
// listens on, stopped with SIGTERM. Its output is kept for the failure message.

import { type ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { createInterface } from 'node:readline';

export interface ListeningChild {
  /** `http://127.0.0.1:<port>`. */
  base: string;
  /** Everything the child wrote so far, stdout and stderr. */
  output(): string;
  /** SIGTERM, resolved once the process is gone. */
  stop(): Promise<void>;
}

/**
 * Runs `node <script>` in `cwd` and resolves once a stdout line matches `ready` (its first group is
 * the port). Rejects with the child's output if it exits first or is not ready within `timeoutMs`.
 */
export async function startListeningChild(
  script: string,
  cwd: string,
  env: NodeJS.ProcessEnv,
  ready: RegExp,
  timeoutMs = 20_000,
): Promise<ListeningChild> {
  const child = spawn(process.execPath, [script], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
  const output: string[] = [];
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => output.push(chunk));
  const port = await new Promise<string>((resolve, reject) => {
    const fail = (why: string): void => reject(new Error(`${script} ${why}:\n${output.join('')}`));
    const timer = setTimeout(() => fail(`was not listening within ${timeoutMs} ms`), timeoutMs);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      fail(`exited (${signal ?? code}) before it listened`);
    });
    createInterface({ input: child.stdout }).on('line', (line) => {
      output.push(`${line}\n`);
      const match = ready.exec(line);
      if (!match) return;
      clearTimeout(timer);
      resolve(match[1]);
    });
  }).catch(async (error: unknown) => {
    await stopChild(child);
    throw error;
  });
  return {
    base: `http://127.0.0.1:${port}`,
    output: () => output.join(''),
    stop: () => stopChild(child),
  };
}

/** A loopback port free right now, for a child that must know its own URL before it listens. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  await gone;
}

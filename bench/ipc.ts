// Request/response over a forked child's IPC channel, so the orchestrator can await each step.

import type { ChildProcess } from 'node:child_process';

/** A map of operation names to their handlers' signatures: one argument, one result. */
export type Operations = { [op: string]: (args: never) => unknown };

export type ArgsOf<Ops extends Operations, K extends keyof Ops> = Parameters<Ops[K]>[0];
export type ResultOf<Ops extends Operations, K extends keyof Ops> = Awaited<ReturnType<Ops[K]>>;

interface Request {
  rpc: number;
  op: string;
  args: unknown;
}

interface Reply {
  rpc: number;
  ok: boolean;
  value?: unknown;
  error?: string;
}

function isReply(message: unknown): message is Reply {
  return typeof message === 'object' && message !== null && typeof (message as Reply).rpc === 'number';
}

/** The parent's side: one pending promise per call, settled by the child's reply. */
export class RpcClient<Ops extends Operations> {
  private next = 1;
  private readonly pending = new Map<number, { resolve(v: unknown): void; reject(e: Error): void }>();

  constructor(
    private readonly child: ChildProcess,
    private readonly name: string,
  ) {
    child.on('message', (message: unknown) => {
      if (!isReply(message)) return;
      const waiter = this.pending.get(message.rpc);
      if (!waiter) return;
      this.pending.delete(message.rpc);
      if (message.ok) waiter.resolve(message.value);
      else waiter.reject(new Error(`${name}: ${message.error}`));
    });
    child.on('exit', (code, signal) => {
      // A crashed child must fail the run, not hang it.
      for (const waiter of this.pending.values())
        waiter.reject(new Error(`${name} exited (${code ?? signal}) with a call pending`));
      this.pending.clear();
    });
  }

  call<K extends keyof Ops & string>(op: K, args: ArgsOf<Ops, K>): Promise<ResultOf<Ops, K>> {
    const rpc = this.next++;
    return new Promise((resolve, reject) => {
      this.pending.set(rpc, { resolve: resolve as (v: unknown) => void, reject });
      const request: Request = { rpc, op, args };
      this.child.send(request, (error) => {
        if (!error) return;
        this.pending.delete(rpc);
        reject(new Error(`${this.name}: could not send ${op}: ${error.message}`));
      });
    });
  }
}

/** The handlers a child serves; each may be async. */
export type Handlers<Ops extends Operations> = {
  [K in keyof Ops]: (args: ArgsOf<Ops, K>) => ResultOf<Ops, K> | Promise<ResultOf<Ops, K>>;
};

/**
 * The child's side: answers each request with its handler's result. The child exits when the
 * parent goes away, so no benchmark process outlives the run.
 */
export function serveRpc<Ops extends Operations>(handlers: Handlers<Ops>): void {
  if (!process.send) throw new Error('This module runs as a forked child of bench/run.js');
  process.on('disconnect', () => process.exit(0));
  process.on('message', (message: unknown) => {
    const request = message as Request;
    if (typeof request?.rpc !== 'number') return;
    const handler = handlers[request.op as keyof Ops];
    const reply = (answer: Omit<Reply, 'rpc'>): void => {
      if (process.connected) process.send!({ rpc: request.rpc, ...answer });
    };
    if (!handler) return reply({ ok: false, error: `unknown operation ${request.op}` });
    Promise.resolve()
      .then(() => handler(request.args as never))
      .then(
        (value) => reply({ ok: true, value }),
        (error: unknown) => reply({ ok: false, error: error instanceof Error ? error.stack : String(error) }),
      );
  });
}

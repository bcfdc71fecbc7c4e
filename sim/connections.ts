// Sockets the simulator holds on purpose (hangs, delayed answers), so close() can release them all.

import type { Request } from 'express';
import type { Socket } from 'node:net';

/**
 * Tracks held sockets and pending delayed answers. A hang keeps its socket until the client gives
 * up or `closeAll()`; without this, a test that provokes a hang would keep jest from exiting.
 */
export class ConnectionKeeper {
  private readonly held = new Set<Socket>();
  private readonly delayed = new Map<NodeJS.Timeout, Socket>();

  /** Never answers this request. */
  hold(req: Request): void {
    const socket = req.socket;
    if (socket.destroyed) return;
    this.held.add(socket);
    socket.once('close', () => this.held.delete(socket));
  }

  /** Runs `answer` after `delayMs` of real time, or now when the delay is 0. */
  later(req: Request, delayMs: number, answer: () => void): void {
    if (delayMs <= 0) {
      answer();
      return;
    }
    const timer = setTimeout(() => {
      this.delayed.delete(timer);
      answer();
    }, delayMs);
    // Only a waiting client should keep the process alive, and its socket already does.
    timer.unref();
    this.delayed.set(timer, req.socket);
  }

  /** Cancels delayed answers and destroys every socket involved, held or waiting. */
  closeAll(): void {
    for (const [timer, socket] of this.delayed) {
      clearTimeout(timer);
      socket.destroy();
    }
    this.delayed.clear();
    for (const socket of this.held) socket.destroy();
    this.held.clear();
  }
}

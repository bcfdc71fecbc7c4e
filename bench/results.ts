// The whole result: the shape the issue asks for (extra fields allowed), the verdict on each
// target, and the files written to bench/results/.

import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Machine } from './machine';
import type { BurstRow } from './parts/burst';
import type { HotPathResult } from './parts/hot-path';
import type { ScaleResult } from './parts/scale';
import type { TopologyRow } from './parts/topologies';
import type { WakeupRow } from './parts/wakeup';
import type { Plan } from './plan';
import type { Table } from './report/part-tables';
import { renderMarkdown } from './report/table';

export interface PartResults {
  burst?: BurstRow[];
  wakeup?: WakeupRow[];
  hotPath?: HotPathResult;
  scale?: ScaleResult;
  topologies?: TopologyRow[];
}

export interface Target {
  target: string;
  measured: string;
  met: boolean;
}

/** The figures of "The figures to reach", judged on what was measured. */
export function judgeTargets(parts: PartResults, plan: Plan): Target[] {
  const targets: Target[] = [];
  const project = parts.burst?.filter((r) => r.strategy.startsWith('this project')) ?? [];
  if (project.length) {
    const bad = project.filter((r) => r.rotations !== 1 || r.revocations !== 0);
    targets.push({
      target: 'this project: exactly 1 rotation and 0 revocations in every burst cell',
      measured: bad.length
        ? bad
            .map((r) => `${r.strategy} P=${r.processes} C=${r.concurrency}: ${r.rotations}/${r.revocations}`)
            .join('; ')
        : `${project.length} cells, all 1 rotation / 0 revocations`,
      met: bad.length === 0,
    });
    const limit = plan.tokenLatencyMs + 25;
    const cell = project.find(
      (r) => r.strategy === 'this project' && r.processes === 4 && r.concurrency === 200,
    );
    if (cell) {
      targets.push({
        target: `burst p99 ≤ ${limit} ms at C = 200, P = 4 (server side)`,
        measured: `server p99 ${cell.serverP99Ms} ms, client p99 ${cell.p99Ms} ms`,
        met: cell.serverP99Ms <= limit,
      });
      targets.push({
        target: `burst p99 ≤ ${limit} ms at C = 200, P = 4 (client side, load generator on the same 2 cores)`,
        measured: `client p99 ${cell.p99Ms} ms`,
        met: cell.p99Ms <= limit,
      });
    }
    const ahead = project.filter((r) => r.strategy === 'this project + refresh-ahead');
    if (ahead.length) {
      const waited = ahead.reduce((n, r) => n + r.waitedForRotation, 0);
      targets.push({
        target: 'refresh-ahead: no request waits for a rotation',
        measured: `${waited} requests waited, over ${ahead.length} cells`,
        met: waited === 0,
      });
    }
  }
  if (parts.hotPath) {
    const h = parts.hotPath;
    targets.push({
      target: 'hot path: middleware req/s ≥ 90% of the bare route',
      measured: `${h.middleware.rps} / ${h.bare.rps} = ${(h.ratio * 100).toFixed(1)}%`,
      met: h.ratio >= 0.9,
    });
    targets.push({
      target: 'hot path: zero Redis commands on a process-cache hit',
      measured: `${h.redisCommandsPerHit} per request over ${h.middleware.requests} requests`,
      met: h.redisCommandsPerHit === 0,
    });
  }
  if (parts.scale) {
    const s = parts.scale;
    targets.push({
      target: 'scale: exactly one rotation per user',
      measured: `${s.rotations} rotations for ${s.users} users`,
      met: s.rotations === s.users,
    });
    targets.push({
      target: 'scale: no lock key left behind',
      measured: `${s.leakedKeys} lock keys left`,
      met: s.leakedKeys === 0,
    });
  }
  if (parts.topologies) {
    const bad = parts.topologies.filter(
      (r) => r.rotations !== r.users || r.leewayReuses + r.revocations + r.errors > 0,
    );
    targets.push({
      target: 'topologies: exactly one rotation per user, no reuse, revocation or error, on each',
      measured: bad.length
        ? bad
            .map(
              (r) =>
                `${r.topology}: ${r.rotations}/${r.users} rotations, ${r.leewayReuses} reuses, ` +
                `${r.revocations} revocations, ${r.errors} errors`,
            )
            .join('; ')
        : parts.topologies.map((r) => `${r.topology}: ${r.rotations}/${r.users}`).join(', '),
      met: bad.length === 0,
    });
  }
  return targets;
}

/** `{"burst":[…],"wakeup":{…},"hotPath":{…},"scale":{…}}` plus what else a reader needs. */
export function summarize(parts: PartResults, plan: Plan, machine: Machine, redisDedicated: boolean) {
  const overhead = (route: string): number | null =>
    parts.wakeup?.find((r) => r.route === route)?.overheadMs ?? null;
  return {
    burst: parts.burst ?? null,
    wakeup: parts.wakeup
      ? {
          pubsubMs: overhead('this-project'),
          pollMs: overhead('this-project-poll-100'),
          pollIntervalMs: 100,
          pollDefaultMs: overhead('this-project-poll-1000'),
          rows: parts.wakeup,
        }
      : null,
    hotPath: parts.hotPath
      ? {
          bareRps: parts.hotPath.bare.rps,
          middlewareRps: parts.hotPath.middleware.rps,
          ...parts.hotPath,
        }
      : null,
    scale: parts.scale ?? null,
    topologies: parts.topologies ?? null,
    targets: judgeTargets(parts, plan),
    machine,
    plan,
    redis: { dedicated: redisDedicated },
  };
}

export type Summary = ReturnType<typeof summarize>;

const RESULTS_DIR = join(__dirname, '..', '..', 'bench', 'results');

/** Writes latest.json and latest.md (the tables in Markdown) under bench/results/. */
export function writeResults(summary: Summary, tables: Table[]): string {
  mkdirSync(RESULTS_DIR, { recursive: true });
  const file = join(RESULTS_DIR, 'latest.json');
  writeFileSync(file, `${JSON.stringify(summary, null, 2)}\n`);
  const markdown = tables
    .map((t) => [`### ${t.title}`, '', renderMarkdown(t.headers, t.rows), '', ...t.notes].join('\n'))
    .join('\n\n');
  writeFileSync(join(RESULTS_DIR, 'latest.md'), `${markdown}\n`);
  return file;
}

export const PROFILES_DIR = join(RESULTS_DIR, 'profiles');

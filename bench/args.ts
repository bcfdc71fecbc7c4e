// Command-line flags of `npm run bench -- …`.

export type PartName = 'burst' | 'wakeup' | 'hot' | 'scale' | 'topologies';

export interface Args {
  quick: boolean;
  json: boolean;
  /** Only these parts (development aid); all by default. */
  parts: PartName[];
  /** Run app processes under `--cpu-prof`, profiles in bench/results/profiles. */
  profile: boolean;
}

const ALL: PartName[] = ['burst', 'wakeup', 'hot', 'scale', 'topologies'];

export const USAGE = `npm run bench [-- --quick] [--json] [--only=burst,wakeup,hot,scale,topologies] [--profile]
  --quick    smaller sweeps, about a minute
  --json     end stdout with one line of JSON holding the whole result
  --only     run only the named parts
  --profile  app processes write V8 CPU profiles to bench/results/profiles`;

export function parseArgs(argv: string[]): Args {
  const args: Args = { quick: false, json: false, parts: ALL, profile: false };
  for (const arg of argv) {
    if (arg === '--quick') args.quick = true;
    else if (arg === '--json') args.json = true;
    else if (arg === '--profile') args.profile = true;
    else if (arg.startsWith('--only=')) {
      const parts = arg.slice('--only='.length).split(',');
      const unknown = parts.filter((p) => !ALL.includes(p as PartName));
      if (unknown.length) throw new TypeError(`--only: unknown part ${unknown.join(', ')}\n${USAGE}`);
      args.parts = parts as PartName[];
    } else throw new TypeError(`unknown argument ${arg}\n${USAGE}`);
  }
  return args;
}

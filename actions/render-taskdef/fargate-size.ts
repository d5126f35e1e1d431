/** Valid Fargate task sizes (MiB per CPU units), from the ECS task-definition reference; which of cpu / memory a wrong pair is reported on. */
const FARGATE_MEMORY: Record<number, number[]> = {
  256: [512, 1024, 2048],
  512: range(1024, 4096, 1024),
  1024: range(2048, 8192, 1024),
  2048: range(4096, 16384, 1024),
  4096: range(8192, 30720, 1024),
  8192: range(16384, 61440, 4096),
  16384: range(32768, 122880, 8192),
};

function range(from: number, to: number, step: number): number[] {
  const out: number[] = [];
  for (let v = from; v <= to; v += step) out.push(v);
  return out;
}

/** Task cpu as ECS accepts it: units (512, "512") or vCPU ("0.5 vCPU", "1 vcpu"). */
export function cpuUnits(value: unknown): number | undefined {
  const s = String(value).trim();
  const vcpu = /^(\d+(?:\.\d+)?)\s*vcpu$/i.exec(s);
  if (vcpu) return Math.round(Number(vcpu[1]) * 1024);
  return /^\d+$/.test(s) ? Number(s) : undefined;
}

/** Task memory as ECS accepts it: MiB (1024, "1024") or GB ("1GB", "2 GB"). */
export function memoryMiB(value: unknown): number | undefined {
  const s = String(value).trim();
  const gb = /^(\d+(?:\.\d+)?)\s*gb$/i.exec(s);
  if (gb) return Math.round(Number(gb[1]) * 1024);
  return /^\d+$/.test(s) ? Number(s) : undefined;
}

/** Which of task cpu / memory is wrong, so the annotation lands on that line. */
export function fargateSizeError(cpu: unknown, memory: unknown): { field: 'cpu' | 'memory'; message: string } | undefined {
  const units = cpuUnits(cpu);
  const mib = memoryMiB(memory);
  const sizes = Object.keys(FARGATE_MEMORY).join(', ');
  if (cpu === undefined || memory === undefined) {
    return {
      field: cpu === undefined ? 'cpu' : 'memory',
      message: `Fargate needs task-level cpu and memory (cpu is ${cpu ?? 'missing'}, memory is ${memory ?? 'missing'}).`,
    };
  }
  if (units === undefined || !(units in FARGATE_MEMORY))
    return { field: 'cpu', message: `cpu ${JSON.stringify(cpu)} is not a Fargate size; use one of ${sizes}.` };
  const allowed = FARGATE_MEMORY[units]!;
  if (mib === undefined || !allowed.includes(mib)) {
    const shown = allowed.length > 8 ? `${allowed[0]}..${allowed.at(-1)} in steps of ${allowed[1]! - allowed[0]!}` : allowed.join(', ');
    return {
      field: 'memory',
      message: `memory ${JSON.stringify(memory)} does not go with cpu ${units} on Fargate; with cpu ${units} use memory ${shown} (MiB).`,
    };
  }
  return undefined;
}

// Pure argument building for the commands the scenarios run. Every command
// runs with -input=false and -no-color; apply always with -auto-approve.

export interface CommonFlags {
  vars?: Record<string, string>;
  /** e.g. "30s"; omitted means terraform's default (0s: fail at once). */
  lockTimeout?: string;
  /** false adds -lock=false (the harness never does this for writes). */
  lock?: boolean;
}

function commonArgs(flags: CommonFlags): string[] {
  const args: string[] = [];
  if (flags.lock === false) args.push('-lock=false');
  if (flags.lockTimeout !== undefined) args.push(`-lock-timeout=${flags.lockTimeout}`);
  for (const [name, value] of Object.entries(flags.vars ?? {})) args.push('-var', `${name}=${value}`);
  return args;
}

export function planArgs(flags: CommonFlags & { detailedExitCode?: boolean } = {}): string[] {
  return ['plan', '-input=false', '-no-color', ...(flags.detailedExitCode ? ['-detailed-exitcode'] : []), ...commonArgs(flags)];
}

export function applyArgs(flags: CommonFlags = {}): string[] {
  return ['apply', '-input=false', '-no-color', '-auto-approve', ...commonArgs(flags)];
}

export function forceUnlockArgs(lockId: string): string[] {
  return ['force-unlock', '-force', '-no-color', lockId];
}

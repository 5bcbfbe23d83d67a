// Challenge 2: which real plan -out / apply commands of the learner's run started with a configuration that is
// not the lab's (pure: the snapshots come from the process observer, the lab's files from the harness).
import { parseInvocationArgs } from '../analysis/terraform-args.ts';
import { OVERRIDE_FILE, TOFU_FILE, type ConfigSnapshot } from '../learner/config-snapshot.ts';

export interface SeenCommand {
  args: string[];
  tf_cli_args: Record<string, string>;
  config: ConfigSnapshot[];
  /** main.tf or override files changed in its directories while it ran, after the snapshot (config-watch.ts). */
  configChanged?: string[];
  /** Variables of its environment that change what the deploy step's shell runs (process-observer.ts DEPLOY_ENV). */
  deployEnv?: Record<string, string>;
}

/**
 * (Environment variables that change what the deploy step's `bash -c` runs count as a change too: BASH_ENV, exported
 * functions, LD_PRELOAD...)
 * The real plan -out / apply processes of the run whose configuration differed from the lab's (`lab`, the harness's
 * working directory) when the grader first saw them: main.tf changed or gone, or an override file added (override
 * files replace a resource's provisioners, the deploy step among them); or in which main.tf or an override file
 * was created, changed or removed while they ran (a configuration swapped in after the grader's look).
 */
export function configChanges(observed: SeenCommand[], lab: Record<string, string>): string[] {
  return observed.flatMap((seen) => {
    const parsed = parseInvocationArgs(seen.args, seen.tf_cli_args);
    const writesOrPlansAhead = parsed.subcommand === 'apply' || (parsed.subcommand === 'plan' && seen.args.some((arg) => /^--?out(=|$)/.test(arg)));
    if (!writesOrPlansAhead) return [];
    const atStart = seen.config.flatMap((snapshot) => {
      const main = snapshot.files['main.tf'];
      // An OpenTofu file (.tofu, .tofu.json) is never the lab's: an override, or one read in place of the .tf of its name.
      const added = Object.keys(snapshot.files).filter((name) => OVERRIDE_FILE.test(name) || TOFU_FILE.test(name));
      const why = [...(main === lab['main.tf'] ? [] : [main ? 'main.tf changed' : 'no main.tf']), ...added];
      return why.length ? [`terraform ${seen.args.join(' ')} ran in ${snapshot.dir} with ${why.join(', ')}`] : [];
    });
    const meanwhile = seen.configChanged?.length ? [`${seen.configChanged.join(', ')} changed while terraform ${seen.args.join(' ')} ran`] : [];
    const environment = Object.entries(seen.deployEnv ?? {}).map(([name, value]) => `${name}=${value.length > 40 ? `${value.slice(0, 40)}…` : value}`);
    const withEnv = environment.length ? [`terraform ${seen.args.join(' ')} ran with ${environment.join(' ')} in its environment`] : [];
    return [...atStart, ...meanwhile, ...withEnv];
  });
}


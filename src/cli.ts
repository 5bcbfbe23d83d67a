// Parses the command line and hands over to one command module. Exit codes
// (contract): 0 graded; 1 graded below --fail-under; 2 usage error or
// unreadable submission; 3 the grading could not complete.
import { usageText } from './commands/option-tables.ts';
import { exitStatusOf, isLockgraderError } from './errors.ts';
import { RUN_TOKEN_VARIABLE } from './learner/run-script.ts';
import { runExitCleanups } from './util/exit-cleanup.ts';
import { killDescendants, killProcessesWithToken } from './util/kill-by-token.ts';

const USAGE = usageText();

// Interrupted: end every process the grading started (terraform and learner
// scripts run detached, so: all descendants, and scripts by run token), remove
// the grading's folder (its workspaces live inside it), then exit 128+signal.
// (grade-many and serve-backend handle their own signals.)
function endRunningProcessesOnSignal(): void {
  for (const [signal, code] of [['SIGINT', 130], ['SIGTERM', 143]] as const) {
    process.once(signal, () => {
      void (async () => {
        let killed = await killDescendants();
        const { openRuns } = await import('./grading/session.ts');
        for (const runId of openRuns.keys()) killed += await killProcessesWithToken(RUN_TOKEN_VARIABLE, runId, { prefix: true });
        const cleaned = runExitCleanups();
        console.error(`lockgrader: ${signal}, ended ${killed} running process(es), ran ${cleaned} clean-up(s)`);
        process.exit(code);
      })();
    });
  }
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'grade':
      endRunningProcessesOnSignal();
      return (await import('./commands/grade.ts')).gradeCommand(rest);
    case 'grade-many':
      return (await import('./commands/grade-many.ts')).gradeManyCommand(rest);
    case 'verify':
      endRunningProcessesOnSignal();
      return (await import('./commands/verify.ts')).verifyCommand(rest);
    case 'doctor':
      return (await import('./commands/doctor.ts')).doctorCommand(rest);
    case 'serve-backend':
      return (await import('./commands/serve-backend.ts')).serveBackendCommand(rest);
    case undefined:
    case '-h':
    case '--help':
    case 'help':
      console.log(USAGE);
      return command === undefined ? 2 : 0;
    default:
      console.error(`lockgrader: unknown command "${command}"\n${USAGE}`);
      return 2;
  }
}

try {
  process.exitCode = await main(process.argv.slice(2));
} catch (error) {
  if (isLockgraderError(error)) {
    console.error(`lockgrader: ${error.message}`);
    process.exitCode = exitStatusOf(error);
  } else {
    console.error('lockgrader: internal error:', error);
    process.exitCode = 3;
  }
}

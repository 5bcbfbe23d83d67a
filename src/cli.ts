// Parses the command line and hands over to one command module. Exit codes
// (contract): 0 graded; 1 graded below --fail-under; 2 usage error or
// unreadable submission; 3 the grading could not complete.
import { usageText } from './commands/option-tables.ts';
import { stopGradingOnSignals } from './commands/stop-grading.ts';
import { exitStatusOf, isLockgraderError } from './errors.ts';

const USAGE = usageText();

// grade and verify stop their gradings on SIGINT/SIGTERM here; grade-many,
// serve-backend, enqueue and worker handle their own signals.
async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'grade':
      stopGradingOnSignals();
      return (await import('./commands/grade.ts')).gradeCommand(rest);
    case 'grade-many':
      return (await import('./commands/grade-many.ts')).gradeManyCommand(rest);
    case 'verify':
      stopGradingOnSignals();
      return (await import('./commands/verify.ts')).verifyCommand(rest);
    case 'doctor':
      return (await import('./commands/doctor.ts')).doctorCommand(rest);
    case 'enqueue':
      return (await import('./commands/enqueue.ts')).enqueueCommand(rest);
    case 'worker':
      return (await import('./commands/worker.ts')).workerCommand(rest);
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
    // The code, except for usage errors, so a parent process (a queue worker) can tell faults apart.
    console.error(error.code === 'USAGE' ? `lockgrader: ${error.message}` : `lockgrader: ${error.code}: ${error.message}`);
    process.exitCode = exitStatusOf(error);
  } else {
    console.error('lockgrader: internal error:', error);
    process.exitCode = 3;
  }
}

// Parses the command line and hands over to one command module. Exit codes
// (contract): 0 graded; 1 graded below --fail-under; 2 usage error or
// unreadable submission; 3 the grading could not complete.
import { isLockgraderError } from './errors.ts';

const USAGE = `usage:
  lockgrader grade SUBMISSION_DIR [--challenges 1,2,3] [--backend embedded|localstack|endpoint]
                   [--endpoint URL] [--script-timeout SECONDS] [--json FILE] [--junit FILE]
                   [--gradescope FILE] [--report FILE.html] [--fail-under SCORE] [--rubric FILE] [--reveal] [--quiet]
  lockgrader grade-many SUBMISSION_DIR... [--list FILE] [--concurrency N] [--out DIR]
                   [--challenges 1,2,3] [--script-timeout SECONDS]
                   # N gradings at once on one shared backend; one results JSON per folder in --out
                   # (default reports/grade-many/NAME.json). Exit 0 all graded; 3 any grading error;
                   # 2 usage error or a folder missing/unreadable (listed, skipped, the rest graded; 2 wins over 3)
  lockgrader verify [FIXTURE...] [--fixtures DIR] [--repeat N] [--json FILE] [--junit FILE]
  lockgrader doctor [--json]
  lockgrader serve-backend     # the embedded backend as a service; prints its endpoints as JSON`;

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'grade':
      return (await import('./commands/grade.ts')).gradeCommand(rest);
    case 'grade-many':
      return (await import('./commands/grade-many.ts')).gradeManyCommand(rest);
    case 'verify':
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
    process.exitCode = error.code === 'USAGE' || error.code === 'SUBMISSION_UNREADABLE' ? 2 : 3;
  } else {
    console.error('lockgrader: internal error:', error);
    process.exitCode = 3;
  }
}

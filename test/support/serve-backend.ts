// `lockgrader serve-backend` as a separate process, the way a user shares one
// backend between gradings: its printed endpoints and credentials, and a stop()
// that ends it by PID (SIGTERM, which it handles) and waits for it.
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { execa } from 'execa';
import { lockgraderCommand } from '../../src/cli-command.ts';
import { repoPath } from '../../src/paths.ts';

export interface ServedBackend {
  /** What --endpoint / LOCKGRADER_ENDPOINT takes: s3=URL,dynamodb=URL. */
  endpoint: string;
  /** AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_REGION it printed. */
  env: Record<string, string>;
  pid: number;
  stop(): Promise<void>;
}

export async function serveBackend(): Promise<ServedBackend> {
  const child = execa(...lockgraderCommand(['serve-backend']), { cwd: repoPath(), reject: false, stdin: 'ignore', stderr: 'inherit' });
  const lines = createInterface({ input: child.stdout });
  const [first] = (await Promise.race([once(lines, 'line'), child.then((result) => [`exited ${result.exitCode}`])])) as [string];
  lines.close();
  let printed: Record<string, string>;
  try {
    printed = JSON.parse(first) as Record<string, string>;
  } catch {
    child.kill('SIGKILL');
    throw new Error(`lockgrader serve-backend printed ${first}`);
  }
  const stop = async () => {
    child.kill('SIGTERM');
    await child;
  };
  return {
    endpoint: String(printed.endpoint),
    env: { AWS_ACCESS_KEY_ID: String(printed.AWS_ACCESS_KEY_ID), AWS_SECRET_ACCESS_KEY: String(printed.AWS_SECRET_ACCESS_KEY), AWS_REGION: String(printed.AWS_REGION) },
    pid: child.pid as number,
    stop,
  };
}

import { chmod, writeFile } from 'node:fs/promises';
import path from 'node:path';

// The source of the `terraform`/`tofu` a learner script finds on PATH: a tiny
// CommonJS Node program that appends a start record, runs the real binary with
// the same arguments and stdio, forwards signals, appends an end record and
// exits as the binary did. Paths are baked in, not read from the environment.
function wrapperSource(options: { node: string; realBinary: string; recordsFile: string; tool: string }): string {
  return `#!${options.node}
'use strict';
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const records = ${JSON.stringify(options.recordsFile)};
const real = ${JSON.stringify(options.realBinary)};
const tool = ${JSON.stringify(options.tool)};
const args = process.argv.slice(2);
const id = process.pid + '-' + Date.now();
const write = (record) => { try { fs.appendFileSync(records, JSON.stringify(record) + '\\n'); } catch {} };
write({ event: 'start', id, tool, args, cwd: process.cwd(), pid: process.pid, started_at: Date.now() });
const child = spawn(real, args, { stdio: 'inherit' });
const forward = (signal) => { try { child.kill(signal); } catch {} };
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT']) process.on(signal, forward);
child.on('error', (error) => {
  write({ event: 'end', id, ended_at: Date.now(), exit_code: 127, signal: null, error: String(error) });
  process.exit(127);
});
child.on('exit', (code, signal) => {
  write({ event: 'end', id, ended_at: Date.now(), exit_code: code, signal });
  if (signal) {
    for (const s of ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT']) process.removeAllListeners(s);
    process.kill(process.pid, signal);
  }
  process.exit(code === null ? 1 : code);
});
`;
}

// Writes `terraform` and `tofu` wrappers into binDir, both running realBinary.
export async function writeRecordingWrappers(binDir: string, realBinary: string, recordsFile: string): Promise<void> {
  for (const tool of ['terraform', 'tofu']) {
    const file = path.join(binDir, tool);
    await writeFile(file, wrapperSource({ node: process.execPath, realBinary, recordsFile, tool }));
    await chmod(file, 0o755);
  }
}

// node scripts/limits-check.ts [memory|disk|records|processes ...]   (npm run limits-check)
//
// Issue 17's three attacks on challenge 2, each followed by the real recovery,
// graded as a user grades (a bin/lockgrader child) with the default limits:
//   memory     hold 6 GiB, 256 MiB at a time
//   disk       write a 4 GiB file into the working copy (then delete it)
//   records    write 4 GiB into the recording terraform's records file (then empty it)
//   processes  start 2,000 sleeping processes (then end them)
// For each it samples the grading's process tree from /proc every 20 ms (peak
// RSS, peak process count) and the free space of the temp folder's disk every
// 100 ms (the most it dropped), and prints them against the bounds
// (PASS/MISS: under 1.5 GiB RSS, 1,500 processes, 1.5 GiB of disk; `graded`;
// the limit named; nothing left behind). Numbers only; nothing is asserted.
import { statfsSync } from 'node:fs';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { GradeResult } from '../src/grading/types.ts';
import { repoPath } from '../src/paths.ts';
import { runSampled } from './bench/run-sampled.ts';
import { processesMatching } from '../test/support/leftovers.ts';

const MiB = 1024 * 1024;
const recovery = (await readFile(repoPath('fixtures/submissions/reference/challenge2/recover.sh'), 'utf8')).replace(/^#!.*\n/, '');

const ATTACKS: Array<{ name: string; kind: string; attack: string }> = [
  {
    name: 'memory',
    kind: 'memory',
    attack: `python3 -c 'import sys
held = []
for step in range(24):
    held.append(b"x" * (256 << 20))
    print("holding", 256 * len(held), "MiB", flush=True)' || echo "the memory grab ended"`,
  },
  { name: 'disk', kind: 'disk', attack: 'head -c 4G /dev/zero > big.bin || echo "the write ended"; ls -l big.bin; rm -f big.bin' },
  {
    // The records file the recording terraform writes: in the sandbox's tmpfs, never on the host's disk.
    name: 'records',
    kind: 'disk',
    attack: `records=$(sed -n "s/^records='\\(.*\\)'$/\\1/p" "$(command -v terraform)"); head -c 4G /dev/zero >> "$records" || echo "the write ended"; : > "$records"`,
  },
  {
    name: 'processes',
    kind: 'processes',
    attack: '( for i in $(seq 2000); do sleep 604 & done ) 2>/dev/null || echo "the storm ended"; pkill -x sleep || true',
  },
];

function freeBytes(dir: string): number {
  const stats = statfsSync(dir);
  return stats.bavail * stats.bsize;
}

async function gradeAttack(attack: (typeof ATTACKS)[number], root: string) {
  const submission = path.join(root, attack.name);
  await cp(repoPath('fixtures/submissions/reference'), submission, { recursive: true });
  await writeFile(path.join(submission, 'challenge2/recover.sh'), `#!/usr/bin/env bash\n${attack.attack}\n${recovery}`);
  const json = path.join(root, `${attack.name}.json`);
  const freeBefore = freeBytes(tmpdir());
  let lowestFree = freeBefore;
  const disk = setInterval(() => {
    lowestFree = Math.min(lowestFree, freeBytes(tmpdir()));
  }, 100);
  const run = await runSampled(['grade', submission, '--challenges', '2', '--json', json, '--quiet']).finally(() => clearInterval(disk));
  const result = JSON.parse(await readFile(json, 'utf8')) as GradeResult;
  const script = result.scripts?.find((s) => s.script === 'challenge2/recover.sh');
  return {
    attack: attack.name,
    exitCode: run.exitCode,
    status: result.status,
    score: `${result.score}/${result.max_score}`,
    wallS: (run.wallMs / 1000).toFixed(1),
    peakRssMb: Math.round(run.peakRssMb),
    peakProcesses: run.peakProcesses,
    diskTakenMb: Math.round((freeBefore - lowestFree) / MiB),
    limitsReached: script?.limits_reached?.map((hit) => hit.message) ?? [],
    usage: script?.usage,
    // A write that fills the tmpfs and is deleted within one 200 ms watch is named by the script's own ENOSPC.
    named: (script?.limits_reached ?? []).some((hit) => hit.kind === attack.kind) || (attack.kind === 'disk' && (script?.output.includes('No space left on device') ?? false)),
    failed: result.checks.filter((c) => c.status === 'fail').map((c) => `${c.id}: ${c.feedback}`),
    output: script?.output ?? '',
    leftovers: (await processesMatching(/\bsleep 604\b|python3 -c import sys/)).length,
  };
}

const root = await mkdtemp(path.join(tmpdir(), 'lockgrader-limits-check-'));
try {
  const rows = [];
  const only = process.argv.slice(2);
  for (const attack of ATTACKS.filter((a) => only.length === 0 || only.includes(a.name))) {
    const row = await gradeAttack(attack, root);
    rows.push(row);
    const verdict = (ok: boolean) => (ok ? 'PASS' : 'MISS');
    console.log(
      `${row.attack.padEnd(10)} ${row.status} ${row.score} in ${row.wallS} s | tree peak RSS ${row.peakRssMb} MB ${verdict(row.peakRssMb < 1536)} | ` +
        `peak processes ${row.peakProcesses} ${verdict(row.peakProcesses < 1500)} | disk taken ${row.diskTakenMb} MB ${verdict(row.diskTakenMb < 1536)} | ` +
        `limit named ${verdict(row.named)} | left behind ${row.leftovers} ${verdict(row.leftovers === 0 && row.status === 'graded')}`,
    );
    console.log(`           ${row.limitsReached.join('; ') || '(no limit reached)'}; usage ${JSON.stringify(row.usage)}`);
    for (const failed of row.failed) console.log(`           failed ${failed.split('\n')[0]}`);
    if (row.failed.length) console.log(row.output.slice(0, 2000));
  }
  console.log(JSON.stringify(rows.map(({ output: _output, ...row }) => row)));
} finally {
  await rm(root, { recursive: true, force: true });
}

import { describe, expect, test } from '@jest/globals';
import { judgeLockingDoc, type LockingDocRule } from './locking-doc.ts';

// Honest explanations, in different words and shapes: all pass.
const HONEST: Array<[string, string]> = [
  [
    'waiting, harmless, always, never forget: words the cheat phrasings below use, in honest sentences',
    [
      'Plan with -lock=false is harmless because it never writes the state; apply always needs the lock, or two runs can overwrite each other.',
      'A pipeline that runs terraform apply -lock=false never waits for the lock, which is exactly why two runs can corrupt the state.',
      'Running apply with -lock=false is not harmless: the last writer wins.',
      "Never forget that apply with -lock=false can lose another run's changes.",
      'Each apply gets the lock first; with -lock=false it would not, and two could overwrite each other.',
      'Use -lock=false only for read-only commands such as plan.',
    ].join(' '),
  ],
  [
    'two bullets, the verb of the first one no list has ("they never touch the state"), honest round 6',
    [
      '## About `-lock=false`',
      '',
      '* OK for readonly commands (plan without -out, show, output) -- they never touch the state.',
      "* NOT OK for writes. Two concurrent `terraform apply` runs without a lock both read serial N, both write serial N+1, and one run's changes are silently lost; the state no longer matches what is deployed.",
    ].join('\n'),
  ],
  [
    'non-mutating, honest round 6',
    'The `-lock=false` flag is acceptable with commands that are non-mutating, e.g. `terraform plan` when you are just previewing. With `terraform apply` it is dangerous, because two concurrent applies can both write the state file and the second write clobbers the first.',
  ],
  [
    'leaves the state untouched, honest round 6',
    "`-lock=false` is meant for commands that leave the state untouched, such as plan or output. Writes need the lock. Without it, two pipelines that apply at the same time will both push a state, and whichever finishes last wins, silently dropping the other run's resources.",
  ],
  [
    'side by side, honest round 6',
    'Locking can be switched off with -lock=false. That is tolerable for a plan you only want to look at, since a plan does not persist anything. For apply it is a bad idea: two applies could run side by side, each pushing its own state, and one of them would win while the other is forgotten.',
  ],
  [
    'a numbered list of sentences: "in the meantime", "throw away", honest round 6',
    "1. `-lock=false` skips the DynamoDB lock entirely.\n2. That is fine for `terraform plan`, which only reads the state.\n3. It is never fine for `terraform apply`: a second apply running in the meantime would upload its own state and throw away the first one's changes.",
  ],
  [
    'formal: uploads interleave, honest round 6',
    'Summary: the lock serialises writers. Disabling it with -lock=false is defensible only for read-only operations. Should two writers proceed without it, their state uploads interleave and the resulting state no longer reflects reality.',
  ],
  [
    'readers and writers (a mutex), honest round 6',
    'Think of the lock as a mutex around the state file. `-lock=false` removes the mutex. Readers (plan, show) can live without it. Writers (apply, destroy, import) cannot: two writers without a mutex produce a torn, corrupted state.',
  ],
  [
    'a concession condemned in the next clause ("may seem faster ..., but ... overwrite"), honest round 6',
    "The only time -lock=false is acceptable is a read-only plan. Applying with -lock=false may seem faster in CI, but two pipelines would then overwrite each other's state.",
  ],
  [
    'a temptation answered "Resist it", honest round 6',
    'It is tempting to use -lock=false on apply when a pipeline is blocked. Resist it: a blocked pipeline means another write is in progress, and writing at the same time corrupts the state. Only plan, which is read-only, may run with -lock=false.',
  ],
  [
    'an idea "rejected", honest round 6',
    'We considered passing -lock=false to apply to speed up CI and rejected it: concurrent applies would overwrite each other. -lock=false stays limited to read-only plan runs.',
  ],
  [
    'a verb no list has ("suggest"), honest round 6',
    'Some guides suggest adding -lock=false to apply in CI to avoid waiting. That advice is wrong: unlocked applies can run concurrently and overwrite each other. Keep -lock=false for read-only plans.',
  ],
  [
    'what people sometimes do, answered "Please do not.", honest round 6',
    'People sometimes add -lock=false to apply when they see "Error acquiring the state lock". Please do not. The error means someone else is writing the state right now, and writing at the same time corrupts it. -lock=false is only for read-only commands such as plan.',
  ],
  [
    'a temptation answered "That is exactly the wrong move", honest round 6',
    'A stuck lock is tempting to bypass with terraform apply -lock=false. That is exactly the wrong move: if the lock is not actually stuck, you now have two writers and a corrupted state. Use -lock=false only for read-only commands such as plan.',
  ],
  [
    'allowed for plan, forbidden for apply in one clause, honest round 6',
    "Our rule of thumb: reads may skip the lock, writes may not. So `terraform plan -lock=false` is allowed (plan is read-only), `terraform apply -lock=false` is forbidden, because concurrent applies overwrite each other's state.",
  ],
  [
    'a saving "not worth it", honest round 6',
    'Running apply with -lock=false saves a few minutes of waiting, but it is not worth it: concurrent applies overwrite each other and corrupt the state. -lock=false is only acceptable for read-only commands like plan.',
  ],
  [
    'a question answered "Technically yes, but you should not", honest round 6',
    'Can you use -lock=false with apply? Technically yes, but you should not: a concurrent apply would overwrite your state. Reserve it for read-only commands such as plan.',
  ],
  [
    'the classic',
    'Use -lock=false only for read-only commands such as plan. If two applies run at the same time without the lock, one overwrites the other and the state can be corrupted.',
  ],
  [
    'plain language: looks at / last writer wins / vanish',
    'Plan only looks at the state and does not change anything, so `terraform plan -lock=false` is harmless while someone holds the lock. ' +
      'For apply it is different: if two runs happen at once, the last writer wins and the other run\'s changes vanish from the state.',
  ],
  [
    'only reads / lost updates',
    '-lock=false tells Terraform not to take the lock.\nThat is acceptable for plan because plan only reads the state.\n\nA write without the lock risks lost updates, since two pipelines can apply together and one of them overwrites the other.',
  ],
  [
    'markdown headings, bullets and a warning code block',
    [
      '# State locking',
      '',
      '## When is -lock=false OK?',
      '',
      '- Only for read-only commands: `terraform plan -lock=false` only reads the state and writes nothing.',
      '- Never for `apply`, `destroy` or `import`.',
      '',
      'Never do this:',
      '',
      '```sh',
      'terraform apply -lock=false -auto-approve',
      '```',
      '',
      '## Why not for writes?',
      '',
      'If two runs write the state at once without the lock, the result is a lost update: the last writer wins',
      'and the state file can end up corrupt.',
    ].join('\n'),
  ],
  [
    '"only plan may", apply on the other side of a semicolon',
    'Only plan may use -lock=false; apply must wait for the lock with -lock-timeout. Two applies that run concurrently would both write the state and one update is lost.',
  ],
  [
    '"use it only for plan:" with the write after a colon',
    'Use -lock=false only for plan: apply must wait. Otherwise two runs at once can overwrite each other and leave the state overwritten with stale data.',
  ],
  [
    'CI wording, unlocked apply as the danger',
    'Our CI runs `terraform plan -lock=false` on pull requests because a plan does not modify the state. ' +
      'The apply job keeps locking on with -lock-timeout=60s, since an unlocked apply racing another apply corrupts the state or loses one of the updates.',
  ],
  [
    'CRLF, "state overwritten", "two runs at once"',
    'The -lock=false flag is meant for read-only commands like plan, show and output.\r\nIf we allowed it for writes, two runs at once could each save their own copy and the state would be overwritten.\r\n',
  ],
  [
    'short sentences with a topic verb and no auxiliary',
    'Two applies at the same time corrupt the state. Plan with -lock=false only reads the state, so nothing gets written.',
  ],
  [
    'a warning with "you can ... but never"',
    'You can use -lock=false with plan, but you should never use it with apply. Running two applies at the same time without a lock can corrupt the state, because each run writes its own version.',
  ],
  [
    'headings, and the danger told as "a write without the lock can run at the same time"',
    '# State locking in CI\n\n## What -lock=false does\nIt tells Terraform not to acquire the DynamoDB lock.\n\n## When it is acceptable\nRead-only operations: `terraform plan -lock=false`, `terraform show`.\n\n' +
      '## Why it is dangerous for writes\nA write without the lock can run at the same time as another apply. Both read the same serial, both upload a new state, and the last upload wins: resources created by the other run disappear from the state (lost updates, corrupted state).\n',
  ],
  [
    'short sentences: "Two applies without the lock can run at once."',
    '-lock=false skips the lock.\nUse it only for read-only commands.\nA plan reads. It does not write.\nAn apply writes the state.\nTwo applies without the lock can run at once.\nOne overwrites the other.\nThe state gets corrupted.\n',
  ],  [
    'the danger wrapped over two lines of a paragraph: "two applies ... / ... at once"',
    '# Locking\n\n`-lock=false` is only for read-only commands like plan, which never touch the lock table.\nWithout the lock, two applies could write the\nstate at once.\n',
  ],
  [
    '"An apply with -lock=false can overlap with another apply."',
    'A speculative `terraform plan -lock=false` is safe because it is read-only and never applied.\n\nAn apply with `-lock=false` can overlap with another apply. The later state upload overwrites the earlier one.\n',
  ],
  [
    "honest round 5: \"If two of those run together without a lock, ...: whichever lands second silently replaces the first\"",
    "# Why -lock=false is for reads only\n\nTerraform normally locks the state before every operation that could change it.\nPassing `-lock=false` skips that step entirely.\n\nThat is okay for commands which merely read the state, like `terraform plan` (when you are not going to apply it), `terraform show` or `terraform output`.\n\nIt is not okay for `apply`, `destroy`, `import` or any `state` subcommand that modifies things. If two of those run together without a lock, both read serial N and both try to write serial N+1: whichever lands second silently replaces the first, so resources can be orphaned or duplicated.\n",
  ],
  [
    "honest round 5: \"Running apply with -lock=false would let a second apply start while the first is still running.\"",
    "Disabling locking with -lock=false should only ever be done for commands that do not write to the state, such as plan, show or output.\n\nRunning apply with -lock=false would let a second apply start while the first is still running. They would race to save the state, and one set of changes would be overwritten.\n",
  ],
  [
    "honest round 5: \"the second push wipes out the first one's record\" (what goes wrong, in other words)",
    "In our team we treat `-lock=false` as a read-only tool. We use it for `terraform plan` in pull requests, because that plan is never applied and only reads the state.\n\nWe never combine it with apply. Picture two pipelines applying at the same moment: without the lock nothing stops them, both push a new state and the second push wipes out the first one's record of what it created.\n",
  ],
  [
    "honest round 5: a Q/A: \"Q: Can I pass -lock=false to apply to get past a stuck lock?\" / \"A: No.\"",
    "Q: Can I pass -lock=false to apply to get past a stuck lock?\nA: No. Use force-unlock for a stuck lock. -lock=false is only for read-only commands like plan. An unlocked apply can run concurrently with another apply, and then one of them overwrites the other's state.\n",
  ],
  [
    "honest round 5: a misconception rebutted: \"You might think -lock=false is a quick fix ...\" / \"It is not: ...\"",
    "You might think `-lock=false` is a quick fix when an apply complains about the lock. It is not: the lock is what keeps two applies from writing the state at the same time, and without it one apply's changes get overwritten by the other.\nOnly read-only commands like `terraform plan` and `terraform show` may use `-lock=false`.\n",
  ],
  [
    "honest round 5: a reported question answered: \"Someone asked whether we could run apply with -lock=false ...; the answer is no\"",
    "We run apply with locking on and `-lock-timeout=2m`. Someone asked whether we could run apply with -lock=false to speed things up; the answer is no, since two runs could then write the state concurrently and overwrite each other. -lock=false is only acceptable for read-only commands such as plan.\n",
  ],
  [
    'honest round 5: "it can write the state in the middle of another apply"',
    "The lock exists so that state changes happen one after another. A plan does not change the state, so `terraform plan -lock=false` is safe.\nIf an apply is run with `-lock=false`, it can write the state in the middle of another apply. One of the two writes is then lost, and the state no longer matches the infrastructure.\n",
  ],
  [
    'the danger as a condition: "If apply runs with -lock=false while another apply is running"',
    '### Is `-lock=false` ever OK?\n\nOnly when the command just reads the state and changes nothing, e.g. `terraform plan` for a report that nobody applies.\n\n' +
      '### What happens if you use it for a write\n\nIf `apply` runs with `-lock=false` while another apply is running, both of them read the same state, make their changes and write the state back. ' +
      'Whichever finishes last wins: the other run\'s changes disappear from the state (lost update).\n',
  ],
  [
    '"It\'s tempting to add -lock=false ..., but that is exactly how state files get corrupted"',
    'It\'s tempting to add `-lock=false` to the apply job when a lock is stuck, but that is exactly how state files get corrupted.\n\n' +
      '`-lock=false` is only OK for read-only commands such as `terraform show`, because they never write the state.\n',
  ],
  [
    '"people often run apply with -lock=false; this is wrong"',
    'If the lock is stuck, people often run apply with `-lock=false`; this is wrong, because the lock is the only thing that stops two applies from writing the state at once, and the slower one then overwrites what the faster one saved.\n\n' +
      '* The last step is a read-only `terraform plan -lock=false`: a plan that nobody applies only reads the state, so it is harmless there.\n',
  ],
  [
    'a demonstration code block ("what happens when two people do this at once"), condemned by the sentence after it',
    'Here is what happens when two people do this at once:\n\n```sh\n# terminal 1\nterraform apply -lock=false -auto-approve\n# terminal 2\nterraform apply -lock=false -auto-approve\n```\n\n' +
      'Both applies read serial 5, both write serial 6, and whichever uploads last overwrites the other one\'s resources in the state.\n\n' +
      '`-lock=false` is only OK for read-only commands such as `terraform show`, because they never write the state.\n',
  ],
];

// [name, text, the rule that fails]
const FAILING: Array<[string, string, LockingDocRule]> = [
  [
    'recommends apply -lock=false when the lock is stuck',
    'Use `terraform apply -lock=false` when the lock is stuck. Plan is read-only, and it is good to know that concurrent runs can corrupt the state.',
    'recommends-unlocked-write',
  ],
  [
    '"-lock=false is fine for apply in CI"',
    '-lock=false is fine for apply in CI. Plan is read-only, and two concurrent applies would overwrite each other otherwise.',
    'recommends-unlocked-write',
  ],
  [
    '"just run ... to get the deploy through"',
    'If the lock is stuck, just run terraform apply -lock=false to get the deploy through. Plan is read-only and parallel applies would corrupt state otherwise.',
    'recommends-unlocked-write',
  ],
  [
    '"you can safely pass -lock=false to destroy"',
    'You can safely pass -lock=false to destroy, because destroy only removes resources. Plan is read-only; concurrent applies can corrupt the state.',
    'recommends-unlocked-write',
  ],
  [
    'a code block after "when the lock is stuck, run:"',
    'Plan is read-only, so -lock=false is fine there. When the lock is stuck, run:\n\n```\nterraform apply -lock=false -auto-approve\n```\n\nConcurrent applies can corrupt the state, so be quick.',
    'recommends-unlocked-write',
  ],
  [
    'the rule turned around, with the danger as the reason after "because otherwise"',
    '# Why -lock=false\n\nNever use `-lock=false` for read-only commands. Only use `-lock=false` for writes such as apply, because otherwise two writes could corrupt the state while they wait.\n',
    'recommends-unlocked-write',
  ],
  [
    'a recommendation before a colon, a "never" after it',
    'Use `-lock=false` for apply in CI: it is faster and the pipeline never waits. `-lock=false` is dangerous for read-only commands like plan, because a read-only plan could corrupt the state.\n',
    'recommends-unlocked-write',
  ],
  ['"run apply -lock=false to deploy at once" is not two runs at once', 'When the lock is stuck, run terraform apply -lock=false to deploy at once. Plan is read-only; concurrent applies can corrupt the state.', 'recommends-unlocked-write'],
  [
    'a recommendation "condemned" by a negated danger: "; this is never wrong"',
    'Use -lock=false for apply in CI; this is never wrong. Plan is read-only; concurrent applies can corrupt the state.',
    'recommends-unlocked-write',
  ],
  [
    'a recommendation followed by a back-pointing clause that praises it',
    'Run apply with -lock=false when the lock is stuck; that is how you get the deploy through. Plan is read-only and concurrent applies corrupt state.',
    'recommends-unlocked-write',
  ],
  [
    'an order to write "while another apply is running"',
    'Use -lock=false for apply while another apply is running, so the queue moves. Plan is read-only; concurrent applies can corrupt the state.',
    'recommends-unlocked-write',
  ],
  ["a question answered yes", "Q: Can I use -lock=false for apply? A: Yes, it is faster. Plan is read-only; concurrent applies can corrupt the state.", 'recommends-unlocked-write'],
  ["a \"misconception\" confirmed: \"It is, and it saves time.\"", "You might think -lock=false is fine for apply. It is, and it saves time. Plan is read-only; concurrent applies can corrupt the state.", 'recommends-unlocked-write'],
  ["a reported question answered yes", "Someone asked whether we could run apply with -lock=false; the answer is yes. Plan is read-only; concurrent applies can corrupt the state.", 'recommends-unlocked-write'],
  ["\"It is not only fine but faster\" is no rebuttal", "You might think -lock=false is fine for apply. It is not only fine but faster. Plan is read-only; concurrent applies can corrupt the state.", 'recommends-unlocked-write'],
  ["an order to let both jobs finish \"together\"", "Run apply with -lock=false so both jobs finish together. Plan is read-only; concurrent applies can corrupt the state.", 'recommends-unlocked-write'],
  ['an order to apply "during another" apply', 'Run apply with -lock=false during another apply to save time. Plan is read-only; concurrent applies can corrupt the state.', 'recommends-unlocked-write'],
  ['writes "at once" praised: "which is faster"', 'Both pipelines can apply at once with -lock=false, which is faster. Plan is read-only; concurrent applies can corrupt the state.', 'recommends-unlocked-write'],
  ['writes "together" praised: "and that is fine"', 'Two jobs can apply together with -lock=false and that is fine. Plan is read-only; a lost update is what goes wrong otherwise.', 'recommends-unlocked-write'],
  [
    'an order to let writes overlap',
    'Run apply with -lock=false so the deploys overlap and finish sooner. Plan is read-only; concurrent applies can corrupt the state.',
    'recommends-unlocked-write',
  ],
  [
    'an order to write "at the same time as" another run',
    'Run apply with -lock=false at the same time as the other job to save time. Plan is read-only; a lost update is the risk of writes.',
    'recommends-unlocked-write',
  ],
  [
    'a "demonstration" code block that the sentence after it does not condemn',
    'Here is what happens when two people do this at once:\n\n```\nterraform apply -lock=false -auto-approve\n```\n\nNothing gets corrupted and the pipeline is faster. Plan is read-only; concurrent applies can corrupt the state.',
    'recommends-unlocked-write',
  ],
  [
    'a "demonstration" code block at the end, with nothing after it',
    'Plan is read-only. Concurrent applies can corrupt the state. Imagine two pipelines:\n\n```\nterraform apply -lock=false -auto-approve\n```\n',
    'recommends-unlocked-write',
  ],
  ['a negation about waiting is not a warning', 'In CI, pass -lock=false to terraform apply so the pipeline never waits on a stuck lock. Plan is read-only; concurrent applies can corrupt the state.', 'recommends-unlocked-write'],
  ['no job ever hangs', 'In CI, run terraform apply with -lock=false so that no job ever hangs. Plan is read-only; concurrent applies can corrupt the state.', 'recommends-unlocked-write'],
  ['instead of waiting', 'Run terraform apply -lock=false instead of waiting for the lock. Plan is read-only; concurrent applies can corrupt the state.', 'recommends-unlocked-write'],
  ['a reassurance: not dangerous', 'Running apply with -lock=false is not dangerous in CI. Plan is read-only; concurrent applies can corrupt the state.', 'recommends-unlocked-write'],
  ['a reassurance: no risk', 'Apply with -lock=false carries no risk for a single pipeline. Plan is read-only; concurrent applies can corrupt the state.', 'recommends-unlocked-write'],
  ['a reassurance: harmless', 'Using -lock=false with apply is harmless when one runner deploys. Plan is read-only; concurrent applies can corrupt the state.', 'recommends-unlocked-write'],
  ['a reassurance: cannot hurt', 'Using -lock=false with apply can not hurt when one runner deploys. Plan is read-only; concurrent applies can corrupt the state.', 'recommends-unlocked-write'],
  ['prefer', 'Prefer -lock=false for apply in CI. Plan is read-only; concurrent applies can corrupt the state.', 'recommends-unlocked-write'],
  ['always', 'Always apply with -lock=false in CI. Plan is read-only; concurrent applies can corrupt the state.', 'recommends-unlocked-write'],
  ['a statement of practice: every apply gets it', 'In our pipeline every apply gets -lock=false. Plan is read-only; concurrent applies can corrupt the state.', 'recommends-unlocked-write'],
  ['a statement of practice: what the pipeline passes', 'For deploys, -lock=false is what the pipeline passes to apply. Plan is read-only; concurrent applies can corrupt the state.', 'recommends-unlocked-write'],
  ['TF_CLI_ARGS_apply set to -lock=false', 'We set TF_CLI_ARGS_apply to -lock=false in the pipeline. Plan is read-only; concurrent applies can corrupt the state.', 'recommends-unlocked-write'],
  ['a heading that orders it', 'Plan is read-only; concurrent applies can corrupt the state. Plan never writes the state.\n\n## Apply with -lock=false in CI\n\nThat is our rule.', 'recommends-unlocked-write'],
  ['a code block after never forget', 'Plan is read-only; concurrent applies can corrupt the state. Plan never writes the state.\n\nNever forget this step in CI:\n\n```\nterraform apply -lock=false -auto-approve\n```\n', 'recommends-unlocked-write'],
  ['a concession answered with praise', 'Applying with -lock=false looks faster in CI, but that is fine. Plan is read-only; concurrent applies can corrupt the state.', 'recommends-unlocked-write'],
  ['a temptation answered with "go for it"', 'It is tempting to use -lock=false on apply. Go for it: it saves time. Plan is read-only; concurrent applies can corrupt the state.', 'recommends-unlocked-write'],
  ['"rejected waiting" is no warning', 'We rejected waiting and pass -lock=false to apply in CI. Plan is read-only; concurrent applies can corrupt the state.', 'recommends-unlocked-write'],
  ['grammar words without a full stop', '- -lock=false just for plan, it for the state\n- the lost data of the state and the lock\n- one true sentence: concurrent applies can corrupt the state of a team.', 'no-sentences'],
  ['what people sometimes do, "answered" about waiting', 'People sometimes add -lock=false to apply in CI. Please do not wait for the lock; do the same. Plan is read-only; concurrent applies can corrupt the state.', 'recommends-unlocked-write'],
  ['"worth it" said of the flag', 'Running apply with -lock=false saves a few minutes, and it is worth it in CI. Plan is read-only; concurrent applies can corrupt the state.', 'recommends-unlocked-write'],
  ['"That is exactly the right move"', 'A stuck lock is tempting to bypass with terraform apply -lock=false. That is exactly the right move in CI. Plan is read-only; concurrent applies can corrupt the state.', 'recommends-unlocked-write'],
  ['"yes, but you should not wait"', 'Can you use -lock=false with apply? Yes, but you should not wait for the lock first. Plan is read-only; concurrent applies can corrupt the state.', 'recommends-unlocked-write'],
  ['keyword salad', '-lock=false read-only corrupt', 'no-sentences'],
  ['bullets of single words', '# LOCKING\n\n- -lock=false\n- read-only\n- corrupt\n- race\n- lost updates\n', 'no-sentences'],
  ['a comma list of terms', '-lock=false, read-only, plan only, concurrent writes, corrupt state, lost updates, race conditions, overwritten state', 'no-sentences'],
  ['a table of terms', '| flag | use | risk |\n|---|---|---|\n| -lock=false | read-only plan | corrupt state, lost updates |\n', 'no-sentences'],
  ['pronouns only before function words', '- -lock=false just for plan, it for the state\n- lost data and broken state, they at night\n- one true sentence: concurrent applies can corrupt the state of a team.', 'no-sentences'],
  ['one true sentence is not enough', '-lock=false is for read-only plans because concurrent writes corrupt the state.', 'no-sentences'],
  [
    'sentences without the terms',
    'Locking is important for Terraform teams. It keeps the state safe when many people work on the same infrastructure.',
    'missing-terms',
  ],
];

describe('LOCKING.md heuristic', () => {
  test.each(HONEST)('honest: %s', (_name, text) => {
    const judged = judgeLockingDoc(text);
    expect(judged).toEqual({ ok: true, found: expect.any(Array), missing: [] });
    expect(judged.found).toHaveLength(3);
  });

  test.each(FAILING)('fails: %s → %s', (_name, text, rule) => {
    const judged = judgeLockingDoc(text);
    expect(judged.ok).toBe(false);
    expect(judged.rule).toBe(rule);
    expect(judged.reason).toEqual(expect.any(String));
  });

  test('the recommendation is quoted in the reason', () => {
    expect(judgeLockingDoc(FAILING[1]![1]).reason).toBe(
      'recommends -lock=false for a command that writes state: "-lock=false is fine for apply in CI."; -lock=false is only for read-only commands',
    );
    expect(judgeLockingDoc(FAILING[4]![1]).reason).toBe(
      'recommends -lock=false for a command that writes state: "terraform apply -lock=false -auto-approve" (a code line after "When the lock is stuck, run:"); -lock=false is only for read-only commands',
    );
    expect(judgeLockingDoc('```\nterraform destroy -lock=false\n```\n').reason).toContain('"terraform destroy -lock=false" (a code line);');
  });

  test('a long recommending sentence is shortened in the reason', () => {
    const text = `You can use terraform apply -lock=false in the pipeline ${'and so on '.repeat(20)}.`;
    expect(judgeLockingDoc(text).reason).toMatch(/…"; -lock=false is only/);
  });

  test('the sentence rule says how many real sentences it found', () => {
    expect(judgeLockingDoc('-lock=false is for read-only plans because concurrent writes corrupt the state.').reason).toBe(
      'names the right terms but explains nothing: it needs at least 2 sentences of 6 or more words with a verb (found 1), not a list of terms, saying why -lock=false is for read-only commands and what goes wrong for writes',
    );
  });

  test('missing terms come first; the sentence rule is added when it fails too', () => {
    expect(judgeLockingDoc('We never use -lock=false.')).toMatchObject({
      rule: 'missing-terms',
      reason:
        'does not yet say that it is only for read-only commands (e.g. "read-only", "only for plan/validate/show", "plan only reads the state"); nor what goes wrong when a write runs unlocked (e.g. concurrent applies overwrite or corrupt the state, lost updates); and it needs at least 2 sentences of 6 or more words with a verb (found 0), not a list of terms',
    });
    expect(judgeLockingDoc(FAILING.at(-1)![1]).reason).toMatch(/^does not yet say the flag itself, written as -lock=false; nor that it is only/);
    expect(judgeLockingDoc(FAILING.at(-1)![1]).reason).not.toContain('sentences');
  });

  test('code blocks are not sentences; a ~~~ fence and a tilde inside a ``` fence', () => {
    const code = '```\nterraform plan -lock=false is what we run for read-only checks here\n\n~~~\n```\n~~~\nterraform plan -lock=false -out=x is read only because concurrent applies corrupt the state\n~~~\n';
    expect(judgeLockingDoc(code).rule).toBe('no-sentences');
  });

  test('naming the flag alone is not enough', () => {
    const judged = judgeLockingDoc('We never use -lock=false.');
    expect(judged.ok).toBe(false);
    expect(judged.missing).toHaveLength(2);
    expect(judged.missing[0]).toContain('read-only');
    expect(judged.missing[1]).toContain('what goes wrong');
  });

  test('saying it is read-only but not why misses one group', () => {
    const judged = judgeLockingDoc('-lock=false is only for read-only commands like plan. Terraform does not need the lock for them at all.');
    expect(judged.rule).toBe('missing-terms');
    expect(judged.missing).toHaveLength(1);
    expect(judged.missing[0]).toContain('what goes wrong');
  });

  test('a document in another language fails, and the reason says a human should review it', () => {
    const german =
      '# Zustandssperre\n\n`-lock=false` ist nur für Befehle gedacht, die den Zustand nur lesen, etwa `terraform plan` zur Ansicht oder `terraform show`.\n\n' +
      'Für schreibende Befehle wie `apply` ist es gefährlich: Zwei Läufe ohne Sperre schreiben gleichzeitig in den Zustand, einer überschreibt die Änderungen des anderen, und der Zustand kann beschädigt werden.\n';
    const judged = judgeLockingDoc(german);
    expect(judged.ok).toBe(false);
    expect(judged.reason).toMatch(/; it does not seem to be written in English, and this heuristic reads English only: a human should review it$/);
    // English documents that fail do not get the note
    expect(judgeLockingDoc(FAILING[1]![1]).reason).not.toContain('English');
    expect(judgeLockingDoc('Locking is important for Terraform teams. It keeps the state safe when many people work on the same infrastructure, and every apply waits.').reason).not.toContain('English');
  });

  test('an empty file misses all three', () => {
    expect(judgeLockingDoc('').missing).toHaveLength(3);
  });

  test('without the flag written out, it fails', () => {
    expect(judgeLockingDoc('Disabling the lock is for read-only commands; concurrent writes corrupt state.').missing[0]).toContain('-lock=false');
  });
});

import { describe, expect, test } from '@jest/globals';
import { findForceUnlock, findUnlockedWrites, scanPipelineText } from './script-scan.ts';

/** Subcommand and args of every command found, for compact assertions. */
function found(text: string): string[] {
  return scanPipelineText(text).map((c) => [c.tool, ...c.args].join(' '));
}

describe('scanPipelineText: what counts as a terraform/tofu command', () => {
  test('plain commands, with line numbers and text', () => {
    const script = ['#!/usr/bin/env bash', 'set -euo pipefail', '', 'terraform init -input=false', 'tofu apply -auto-approve'].join('\n');
    expect(scanPipelineText(script)).toEqual([
      expect.objectContaining({ line: 4, text: 'terraform init -input=false', tool: 'terraform', args: ['init', '-input=false'] }),
      expect.objectContaining({ line: 5, text: 'tofu apply -auto-approve', tool: 'tofu' }),
    ]);
  });

  test.each([
    ['cd infra && terraform plan', ['terraform plan']],
    ['true; terraform plan', ['terraform plan']],
    ['terraform fmt -check || terraform fmt', ['terraform fmt -check', 'terraform fmt']],
    ['terraform show -json | jq .', ['terraform show -json']],
    ['if terraform plan -detailed-exitcode; then terraform apply; fi', ['terraform plan -detailed-exitcode', 'terraform apply']],
    ['for d in a b; do terraform -chdir=$d apply; done', ['terraform -chdir=$d apply']],
    ['while ! terraform plan; do sleep 1; done', ['terraform plan']],
    ['sudo -E terraform apply', ['terraform apply']],
    ['sudo -u ci terraform apply', ['terraform apply']],
    ['time terraform apply', ['terraform apply']],
    ['time -p terraform apply', ['terraform apply']],
    ['env TF_LOG=debug TF_IN_AUTOMATION=1 terraform apply', ['terraform apply']],
    ['TF_LOG=debug terraform apply', ['terraform apply']],
    ['exec terraform apply', ['terraform apply']],
    ['exec -a tf terraform apply', ['terraform apply']],
    ['nice -n 5 terraform apply', ['terraform apply']],
    ['timeout 300 terraform apply', ['terraform apply']],
    ['timeout -k 10 5m terraform apply', ['terraform apply']],
    ['nohup terraform apply &', ['terraform apply']],
    ['command terraform apply', ['terraform apply']],
    ['/usr/local/bin/terraform apply', ['/usr/local/bin/terraform apply']],
    ['./tofu apply', ['./tofu apply']],
    ['"terraform" "apply" \'-lock=false\'', ['terraform apply -lock=false']],
    ['( cd infra; terraform apply )', ['terraform apply']],
    ['{ terraform apply; }', ['terraform apply']],
    ['PLAN=$(terraform plan -no-color)', ['terraform plan -no-color']],
    ['x=`terraform output -raw id`', ['terraform output -raw id']],
    ['case "$1" in\n  up) terraform apply ;;\n  down) terraform destroy ;;\nesac', ['terraform apply', 'terraform destroy']],
    ['terraform apply -auto-approve > apply.log 2>&1', ['terraform apply -auto-approve']],
    ['terraform apply -auto-approve 2> err.log', ['terraform apply -auto-approve']],
  ])('%j', (script, expected) => {
    expect(found(script)).toEqual(expected);
  });

  test.each([
    ['echo "never run terraform apply -lock=false"'],
    ['echo terraform apply -lock=false'],
    ["printf '%s\\n' 'terraform apply -lock=false'"],
    ['# terraform apply -lock=false'],
    ['   # terraform apply -lock=false'],
    ['echo hi # terraform apply -lock=false'],
    ['command -v terraform'],
    ['which tofu'],
    ['terraform-docs markdown .'],
    ['cat terraform.tfvars'],
    ['ls terraform'],
    ['echo "multi-line string\nterraform apply -lock=false\nstill quoted"'],
    ["cat <<EOF > notes.md\nterraform apply -lock=false\nEOF"],
    ["cat <<'EOF'\nterraform apply -lock=false\nEOF"],
    ['cat <<-EOF\n\tterraform apply -lock=false\n\tEOF'],
  ])('not a command: %j', (script) => {
    expect(found(script)).toEqual([]);
  });

  test('commands after a heredoc are found again, with the right line', () => {
    const script = 'cat <<EOF\nterraform destroy\nEOF\nterraform plan';
    expect(scanPipelineText(script)).toEqual([expect.objectContaining({ line: 4, args: ['plan'] })]);
  });

  test('backslash continuations are joined; line is the command word\'s', () => {
    const script = 'echo start\nterraform apply \\\n  -auto-approve \\\n  -lock=false\necho done';
    const [command] = scanPipelineText(script);
    expect(command).toMatchObject({
      line: 2,
      text: 'terraform apply -auto-approve -lock=false',
      args: ['apply', '-auto-approve', '-lock=false'],
    });
    expect(command?.parsed).toMatchObject({ subcommand: 'apply', stateWriting: true, lockDisabled: true });
  });

  test('CRLF line endings', () => {
    expect(found('terraform init\r\nterraform apply \\\r\n  -lock=false\r\n')).toEqual(['terraform init', 'terraform apply -lock=false']);
  });

  test('variables assigned a terraform/tofu binary', () => {
    const script = [
      'TF=tofu',
      'export TF_BIN="/usr/local/bin/terraform"',
      'OTHER=echo',
      '$TF apply -lock=false',
      '"${TF_BIN}" destroy',
      '${TERRAFORM:-terraform} plan',
      '$OTHER apply',
      '$UNKNOWN apply',
    ].join('\n');
    expect(found(script)).toEqual(['$TF apply -lock=false', '${TF_BIN} destroy', '${TERRAFORM:-terraform} plan']);
  });
});

describe('findUnlockedWrites', () => {
  test('an apply with -lock=false is found', () => {
    const hits = findUnlockedWrites('terraform init\nterraform apply -lock=false -auto-approve\n');
    expect(hits).toHaveLength(1);
    expect(hits[0]).toMatchObject({ line: 2, text: 'terraform apply -lock=false -auto-approve' });
  });

  test.each([
    ['terraform plan -lock=false'],
    ['terraform show -lock=false'],
    ['terraform state list -lock=false'],
    ['terraform apply -lock=true'],
    ['terraform apply -auto-approve'],
    ['echo "never run terraform apply -lock=false"'],
  ])('not an unlocked write: %j', (script) => {
    expect(findUnlockedWrites(script)).toEqual([]);
  });

  test.each([
    ['terraform destroy -auto-approve -lock=false'],
    ['tofu import -lock=0 aws_s3_bucket.b b'],
    ['terraform state rm --lock=false a.b'],
    ['terraform -chdir=infra apply -lock=FALSE'],
    ['cd infra && sudo env A=1 terraform refresh -lock=f'],
  ])('an unlocked write: %j', (script) => {
    expect(findUnlockedWrites(script)).toHaveLength(1);
  });
});

describe('findForceUnlock', () => {
  test('finds force-unlock with its lock ID, not mentions of it', () => {
    const script = [
      'echo "do not run terraform force-unlock"',
      '# terraform force-unlock -force old-id',
      'LOCK_ID=$(aws dynamodb scan --table-name locks | jq -r .id)',
      'terraform force-unlock -force "$LOCK_ID" || true',
    ].join('\n');
    const hits = findForceUnlock(script);
    expect(hits).toHaveLength(1);
    expect(hits[0]).toMatchObject({ line: 4, parsed: { subcommand: 'force-unlock', lockId: '$LOCK_ID', stateWriting: false } });
  });

  test('none in a clean pipeline', () => {
    expect(findForceUnlock('terraform plan -lock-timeout=60s\nterraform apply -lock-timeout=60s -auto-approve')).toEqual([]);
  });
});

describe('TF_CLI_ARGS* set by the script', () => {
  test.each([
    ['export TF_CLI_ARGS_apply=-lock=false\nterraform apply -auto-approve', 1, { TF_CLI_ARGS_apply: '-lock=false' }],
    ['export TF_CLI_ARGS="-lock=false"\nterraform apply', 1, { TF_CLI_ARGS: '-lock=false' }],
    ['TF_CLI_ARGS_apply=-lock=false terraform apply', 1, { TF_CLI_ARGS_apply: '-lock=false' }],
    ['env TF_CLI_ARGS_apply=-lock=0 terraform apply', 1, { TF_CLI_ARGS_apply: '-lock=0' }],
    ['TF_CLI_ARGS_apply=-lock=false\nexport TF_CLI_ARGS_apply\nterraform apply', 1, { TF_CLI_ARGS_apply: '-lock=false' }],
    ['declare -x TF_CLI_ARGS_destroy=-lock=false\nterraform destroy', 1, { TF_CLI_ARGS_destroy: '-lock=false' }],
    ['set -a\nTF_CLI_ARGS_apply=-lock=false\nterraform apply', 1, { TF_CLI_ARGS_apply: '-lock=false' }],
    ['set -o allexport\nTF_CLI_ARGS=-lock=false\nterraform apply', 1, { TF_CLI_ARGS: '-lock=false' }],
    ['export TF_CLI_ARGS=-no-color\nTF_CLI_ARGS=-lock=false\nterraform apply', 1, { TF_CLI_ARGS: '-lock=false' }], // still exported
    ['export TF_CLI_ARGS_state_push=-lock=false\nterraform state push x.tfstate', 1, { TF_CLI_ARGS_state_push: '-lock=false' }],
    // not reaching terraform, or not for a write
    ['TF_CLI_ARGS_apply=-lock=false\nterraform apply', 0, undefined], // never exported
    ['declare TF_CLI_ARGS_apply=-lock=false\nterraform apply', 0, undefined],
    ['set -a\nset +a\nTF_CLI_ARGS_apply=-lock=false\nterraform apply', 0, undefined],
    ['set -o allexport\nset +o allexport\nTF_CLI_ARGS_apply=-lock=false\nterraform apply', 0, undefined],
    ['export -n TF_CLI_ARGS_apply\nterraform apply', 0, undefined],
    ['export TF_CLI_ARGS_apply=-lock=false\nunset TF_CLI_ARGS_apply\nterraform apply', 0, undefined],
    ['export TF_CLI_ARGS_apply=-lock=false\nexport -n TF_CLI_ARGS_apply\nterraform apply', 0, undefined],
    ['terraform apply\nexport TF_CLI_ARGS_apply=-lock=false', 0, undefined], // set after the command
    ['export TF_CLI_ARGS_plan=-lock=false\nterraform apply', 0, { TF_CLI_ARGS_plan: '-lock=false' }],
    ['export TF_CLI_ARGS_apply=-lock=false\nterraform apply -lock=true', 0, { TF_CLI_ARGS_apply: '-lock=false' }],
    ['TF_CLI_ARGS_apply=-lock=false echo terraform apply', 0, undefined],
    ['export TF_LOG=debug\nterraform apply', 0, undefined],
  ])('%j → %d unlocked write(s)', (script, count, env) => {
    expect(findUnlockedWrites(script)).toHaveLength(count);
    const apply = scanPipelineText(script).find((c) => ['apply', 'destroy', 'state push'].includes(c.parsed.subcommand));
    expect(apply?.env).toEqual(env);
  });

  test('-lock-timeout through TF_CLI_ARGS_plan is read (the issue), and the variable is kept for feedback', () => {
    const [plan, apply] = scanPipelineText('export TF_CLI_ARGS_plan="-lock-timeout=60s"\nterraform plan -out=p\nterraform apply p');
    expect(plan?.parsed.lockTimeoutMs).toBe(60_000);
    expect(plan?.parsed.fromEnvironment).toEqual([{ name: 'TF_CLI_ARGS_plan', value: '-lock-timeout=60s', words: ['-lock-timeout=60s'] }]);
    expect(apply?.parsed.lockTimeoutMs).toBeUndefined();
  });

  test('a prefix assignment is for its command only', () => {
    const commands = scanPipelineText('TF_CLI_ARGS=-lock=false terraform apply\nterraform apply');
    expect(commands.map((c) => c.parsed.lockDisabled)).toEqual([true, false]);
  });
});

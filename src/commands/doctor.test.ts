// `lockgrader doctor`'s text from a report: the AWS CLI learners get (a v2,
// with its version and the v1 policy), jq's version, bubblewrap and socat, the
// learner-run limits and how each is enforced.
import { describe, expect, test } from '@jest/globals';
import { AWS_CLI_POLICY, renderDoctorText, type DoctorReport } from './doctor.ts';

function report(overrides: Partial<DoctorReport> = {}): DoctorReport {
  return {
    node: 'v24.0.0',
    terraform: { found: true, binary: '/usr/local/bin/tofu', flavour: 'tofu', version: '1.11.5', source: 'PATH' },
    terraform_binaries: [],
    backends: [{ kind: 'embedded', available: true, reason: 'in-process' }],
    learner_tools: { aws: '/usr/bin/aws', jq: '/usr/bin/jq' },
    sandbox: 'bubblewrap 0.8.0: ...',
    aws_cli: {
      path: '/usr/bin/aws',
      version: '2.9.19',
      major: 2,
      policy: AWS_CLI_POLICY,
      not_given: [{ path: '/root/.pyenv/versions/3.11.7/bin/aws', version: '1.45.11', major: 1 }],
    },
    jq: { path: '/usr/bin/jq', version: 'jq-1.6' },
    sandbox_tools: { bubblewrap: '/usr/bin/bwrap', socat: '/usr/bin/socat' },
    limits: {
      memory_bytes: 1073741824,
      disk_bytes: 536870912,
      processes: 512,
      cpu_seconds: 60,
      summary: '1 GiB memory, 512 MiB disk per writable place, 512 processes, 60 s CPU',
      enforced: { memory: 'cgroup v1 memory controller', disk: 'tmpfs', processes: 'not enforced: no cgroup', cpu: 'RLIMIT_CPU per process only' },
    },
    ...overrides,
  };
}

describe('doctor text', () => {
  test('lists every binary found with the variants it serves', () => {
    const lines = renderDoctorText(
      report({
        terraform_binaries: [
          { path: '/usr/local/bin/tofu', source: 'PATH', flavour: 'tofu', version: '1.11.5', lab_variants: ['dynamodb', 'lockfile', 'both'], lab_variants_reason: 'OpenTofu 1.11.5 has use_lockfile (1.10.0 and later)', selected: true },
          { path: '/c/opentofu/v1.6.3/tofu', source: 'cache', flavour: 'tofu', version: '1.6.3', lab_variants: ['dynamodb'], lab_variants_reason: 'OpenTofu 1.6.3 has no use_lockfile', selected: false },
          { path: '/opt/broken/terraform', source: 'PATH', lab_variants: [], lab_variants_reason: 'did not answer', selected: false },
        ],
      }),
    );
    expect(lines.filter((line) => line.startsWith('binary'))).toEqual([
      'binary     tofu 1.11.5      /usr/local/bin/tofu (from PATH, selected): dynamodb, lockfile, both (OpenTofu 1.11.5 has use_lockfile (1.10.0 and later))',
      'binary     tofu 1.6.3       /c/opentofu/v1.6.3/tofu (from cache): dynamodb (OpenTofu 1.6.3 has no use_lockfile)',
      'binary     unusable         /opt/broken/terraform (from PATH): no variant (did not answer)',
    ]);
  });


  test('keeps the existing lines and adds the AWS CLI, jq, bubblewrap and socat', () => {
    expect(renderDoctorText(report())).toEqual([
      'node       v24.0.0',
      'terraform  tofu 1.11.5 at /usr/local/bin/tofu (from PATH)',
      'backend    embedded   yes  in-process',
      'sandbox    bubblewrap 0.8.0: ...',
      'sandbox    bwrap /usr/bin/bwrap, socat /usr/bin/socat',
      'limits     per learner run: 1 GiB memory, 512 MiB disk per writable place, 512 processes, 60 s CPU (--script-memory, --script-disk, --script-processes, --script-cpu)',
      'limits     memory     cgroup v1 memory controller',
      'limits     disk       tmpfs',
      'limits     processes  not enforced: no cgroup',
      'limits     cpu        RLIMIT_CPU per process only',
      "tool       aws        /usr/bin/aws (AWS CLI 2.9.19, major version 2, behind lockgrader's endpoint front; v1 is never given to learner scripts; not given: aws-cli/1.45.11 at /root/.pyenv/versions/3.11.7/bin/aws)",
      'tool       jq         /usr/bin/jq (jq-1.6)',
    ]);
  });

  test('with only an AWS CLI v1 and no sandbox tools it says what to install', () => {
    const lines = renderDoctorText(
      report({
        learner_tools: { aws: null, jq: null },
        aws_cli: { path: null, version: null, major: null, policy: AWS_CLI_POLICY, not_given: [{ path: '/usr/local/bin/aws', version: '1.18.69', major: 1 }] },
        jq: { path: null, version: null },
        sandbox_tools: { bubblewrap: null, socat: null },
      }),
    );
    expect(lines).toContain('sandbox    bwrap NOT FOUND (apt-get install bubblewrap), socat NOT FOUND (apt-get install socat)');
    expect(lines).toContain(
      'tool       aws        NOT FOUND (learner scripts that use it will fail) (no AWS CLI v2: apt-get install awscli; v1 is never given to learner scripts; not given: aws-cli/1.18.69 at /usr/local/bin/aws)',
    );
    expect(lines).toContain('tool       jq         NOT FOUND (learner scripts that use it will fail)');
  });
});

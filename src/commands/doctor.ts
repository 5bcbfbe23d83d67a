import { COMMANDS, parseArgsOptions } from './option-tables.ts';
import { parseCommandArgs } from './parse-command-args.ts';
import { backendAvailability, startBackend, type BackendOptions } from '../backend/index.ts';
import { selfTestS3ConditionalWrites } from '../backend/capabilities.ts';
import { LAB_VARIANTS, variantsServed, type LabVariant } from '../backend/lab-variant.ts';
import type { BackendKind, StartedBackend } from '../backend/types.ts';
import type { LocalstackAvailability } from '../backend/localstack.ts';
import { parseLocalstackNetwork } from '../backend/localstack-container.ts';
import { binaryVariants } from '../terraform/binary-variants.ts';
import { findTerraformBinaries, locateTerraform } from '../terraform/locate.ts';
import { execa } from 'execa';
import { findAwsClis, LEARNER_TOOLS, resolveAwsCliV2, resolveTool } from '../learner/tools.ts';
import { detectCgroups } from '../learner/cgroup.ts';
import { DEFAULT_LIMITS, describeLimits, limitsEnforcement } from '../learner/limits.ts';
import { detectSandbox } from '../learner/sandbox.ts';
import { findOnPath } from '../util/find-on-path.ts';

export interface DoctorReport {
  node: string;
  terraform: { found: boolean; binary?: string; flavour?: string; version?: string; source?: string; error?: string };
  /**
   * Every terraform/tofu found here (LOCKGRADER_TERRAFORM, PATH, the OpenTofu build cache), the
   * lab variants each can serve and why (its version); any of them can grade: verify --terraform PATH.
   */
  terraform_binaries: Array<{ path: string; source: string; flavour?: string; version?: string; lab_variants: LabVariant[]; lab_variants_reason: string; selected: boolean }>;
  backends: Array<{
    kind: string;
    available: boolean;
    reason: string;
    start_ms?: number;
    /** The localstack backend: its image, engine and network mode. */
    image?: string;
    engine?: string;
    network?: string;
    /** Which emulator serves S3 and DynamoDB, and why one is substituted (the localstack backend). */
    services?: { s3: { served_by: string }; dynamodb: { served_by: string; substituted_because?: string } };
    /** The lab variants it serves here (measured by the capability self-test for the emulators lockgrader starts). */
    lab_variants?: LabVariant[];
    /** Why not every variant. */
    lab_variants_reason?: string;
  }>;
  learner_tools: Record<string, string | null>;
  sandbox: string;
  /** The AWS CLI learner scripts get (behind lockgrader's endpoint front): a v2 or none. */
  aws_cli: {
    path: string | null;
    version: string | null;
    major: number | null;
    /** Always "v1 is never given to learner scripts". */
    policy: string;
    /** Other AWS CLIs here that learner scripts do not get (v1s, ones that did not answer --version). */
    not_given: Array<{ path: string; version: string | null; major: number | null }>;
  };
  jq: { path: string | null; version: string | null };
  /** The programs the learner-script sandbox needs (Debian bubblewrap and socat). */
  sandbox_tools: { bubblewrap: string | null; socat: string | null };
  /** The default limits of a learner run and how this machine enforces each. */
  limits: { memory_bytes: number; disk_bytes: number; processes: number; cpu_seconds: number; summary: string; enforced: Record<string, string> };
}

export const AWS_CLI_POLICY = 'v1 is never given to learner scripts';

/** The emulators lockgrader starts itself: doctor starts one, times it and measures its capabilities. */
const SELF_TESTED: readonly BackendKind[] = ['embedded', 'moto', 'localstack'];

function servicesJson(services: NonNullable<StartedBackend['services']>): NonNullable<DoctorReport['backends'][number]['services']> {
  const { s3, dynamodb } = services;
  return {
    s3: { served_by: s3.servedBy },
    dynamodb: { served_by: dynamodb.servedBy, ...(dynamodb.substitutedBecause ? { substituted_because: dynamodb.substitutedBecause } : {}) },
  };
}

async function selfTest(kind: BackendKind, options: BackendOptions): Promise<Partial<DoctorReport['backends'][number]>> {
  let backend;
  try {
    backend = await startBackend(kind, options);
    const startMs = Math.round(backend.startMs * 10) / 10;
    const probe = await selfTestS3ConditionalWrites(backend);
    const claim = backend.capabilities.s3ConditionalWrites;
    if (claim !== undefined && claim !== probe.honoured) {
      return { available: false, reason: `${backend.description} claims S3 If-None-Match: * ${claim ? 'honoured' : 'ignored'}, but the self-test measured the opposite (second put: ${probe.secondPutStatus}): a bug` };
    }
    const substituted = backend.services?.dynamodb.substitutedBecause ? `; DynamoDB from ${backend.services.dynamodb.servedBy}: ${backend.services.dynamodb.substitutedBecause}` : '';
    const lab_variants = variantsServed(probe.honoured);
    const missing = LAB_VARIANTS.filter((variant) => !lab_variants.includes(variant));
    return {
      start_ms: startMs,
      reason: `${backend.description}; started in ${startMs} ms${substituted}`,
      ...(backend.services ? { services: servicesJson(backend.services) } : {}),
      lab_variants,
      ...(missing.length
        ? { lab_variants_reason: `not ${missing.join(', ')}: its S3 ignores If-None-Match: * (a second conditional PutObject got ${probe.secondPutStatus}, not 412), which use_lockfile needs` }
        : { lab_variants_reason: 'its S3 refuses a second conditional PutObject with 412 (If-None-Match: *), which use_lockfile needs' }),
    };
  } catch (error) {
    return { available: false, reason: (error as Error).message };
  } finally {
    await backend?.stop();
  }
}

// Reports which terraform/tofu, which backends can run here (and why not),
// and which learner tools are present.
export async function doctorReport(options: BackendOptions = {}): Promise<DoctorReport> {
  let terraform: DoctorReport['terraform'];
  try {
    const found = await locateTerraform();
    terraform = { found: true, binary: found.path, flavour: found.flavour, version: found.version, source: found.source };
  } catch (error) {
    terraform = { found: false, error: (error as Error).message };
  }
  const terraform_binaries: DoctorReport['terraform_binaries'] = (await findTerraformBinaries()).map((binary) => {
    const selected = terraform.binary === binary.path;
    if ('error' in binary) return { path: binary.path, source: binary.source, lab_variants: [], lab_variants_reason: binary.error, selected };
    const served = binaryVariants(binary);
    return { path: binary.path, source: binary.source, flavour: binary.flavour, version: binary.version, lab_variants: served.variants, lab_variants_reason: served.reason, selected };
  });
  const backends: DoctorReport['backends'] = [];
  const backendOptions: BackendOptions = { endpoint: process.env.LOCKGRADER_ENDPOINT, ...options };
  for (const availability of await backendAvailability(backendOptions)) {
    const entry: DoctorReport['backends'][number] = { ...availability };
    if (availability.kind === 'localstack') {
      const { image, engine, network } = availability as LocalstackAvailability;
      Object.assign(entry, { image, ...(engine ? { engine } : {}), ...(network ? { network } : {}) });
    }
    if (availability.available && SELF_TESTED.includes(availability.kind)) Object.assign(entry, await selfTest(availability.kind, backendOptions));
    backends.push(entry);
  }
  const sandbox = await detectSandbox();
  const learner_tools: Record<string, string | null> = {};
  for (const tool of LEARNER_TOOLS) learner_tools[tool] = (await resolveTool(tool)) ?? null;
  return {
    node: process.version,
    terraform,
    terraform_binaries,
    backends,
    learner_tools,
    sandbox: sandbox.description,
    limits: {
      memory_bytes: DEFAULT_LIMITS.memoryBytes,
      disk_bytes: DEFAULT_LIMITS.diskBytes,
      processes: DEFAULT_LIMITS.processes,
      cpu_seconds: DEFAULT_LIMITS.cpuSeconds,
      summary: describeLimits(DEFAULT_LIMITS),
      enforced: limitsEnforcement((await detectCgroups()).reason, sandbox.kind !== 'none'),
    },
    aws_cli: await awsCliReport(),
    jq: await jqReport(learner_tools.jq ?? null),
    sandbox_tools: {
      bubblewrap: (await findOnPath('bwrap', process.env.PATH ?? '')) ?? null,
      socat: (await findOnPath('socat', process.env.PATH ?? '')) ?? null,
    },
  };
}

async function awsCliReport(): Promise<DoctorReport['aws_cli']> {
  const given = await resolveAwsCliV2();
  const not_given = (await findAwsClis())
    .filter((candidate) => candidate.path !== given?.path)
    .map((candidate) => ({ path: candidate.path, version: candidate.version ?? null, major: candidate.major ?? null }));
  return { path: given?.path ?? null, version: given?.version ?? null, major: given ? 2 : null, policy: AWS_CLI_POLICY, not_given };
}

async function jqReport(jq: string | null): Promise<DoctorReport['jq']> {
  if (!jq) return { path: null, version: null };
  const run = await execa(jq, ['--version'], { reject: false, timeout: 10_000, stdin: 'ignore' });
  return { path: jq, version: run.exitCode === 0 ? run.stdout.trim() || null : null };
}

// The human-readable report (one line per fact), as `lockgrader doctor` prints it.
export function renderDoctorText(report: DoctorReport): string[] {
  const tf = report.terraform;
  const lines = [
    `node       ${report.node}`,
    tf.found ? `terraform  ${tf.flavour} ${tf.version} at ${tf.binary} (from ${tf.source})` : `terraform  NOT FOUND: ${tf.error}`,
  ];
  for (const binary of report.terraform_binaries) {
    const name = binary.flavour ? `${binary.flavour} ${binary.version}` : 'unusable';
    const variants = binary.lab_variants.length ? binary.lab_variants.join(', ') : 'no variant';
    lines.push(`binary     ${name.padEnd(16)} ${binary.path} (from ${binary.source}${binary.selected ? ', selected' : ''}): ${variants} (${binary.lab_variants_reason})`);
  }
  for (const backend of report.backends) {
    lines.push(`backend    ${backend.kind.padEnd(10)} ${backend.available ? 'yes' : 'no '}  ${backend.reason}`);
    if (backend.lab_variants) lines.push(`variants   ${backend.kind.padEnd(10)} ${backend.lab_variants.join(', ')}${backend.lab_variants_reason ? ` (${backend.lab_variants_reason})` : ''}`);
  }
  lines.push(`sandbox    ${report.sandbox}`);
  const { bubblewrap, socat } = report.sandbox_tools;
  lines.push(
    `sandbox    bwrap ${bubblewrap ?? 'NOT FOUND (apt-get install bubblewrap)'}, socat ${socat ?? 'NOT FOUND (apt-get install socat)'}`,
  );
  lines.push(`limits     per learner run: ${report.limits.summary} (--script-memory, --script-disk, --script-processes, --script-cpu)`);
  for (const [what, how] of Object.entries(report.limits.enforced)) lines.push(`limits     ${what.padEnd(10)} ${how}`);
  for (const [tool, where] of Object.entries(report.learner_tools)) {
    let detail = '';
    if (tool === 'aws') {
      const aws = report.aws_cli;
      const others = aws.not_given.map((c) => `${c.version ? `aws-cli/${c.version}` : 'unknown version'} at ${c.path}`).join(', ');
      detail = aws.path
        ? ` (AWS CLI ${aws.version}, major version ${aws.major}, behind lockgrader's endpoint front; ${aws.policy}${others ? `; not given: ${others}` : ''})`
        : ` (no AWS CLI v2: apt-get install awscli; ${aws.policy}${others ? `; not given: ${others}` : ''})`;
    } else if (tool === 'jq' && report.jq.version) detail = ` (${report.jq.version})`;
    lines.push(`tool       ${tool.padEnd(10)} ${where ?? 'NOT FOUND (learner scripts that use it will fail)'}${detail}`);
  }
  return lines;
}

export async function doctorCommand(argv: string[]): Promise<number> {
  const { values } = parseCommandArgs(argv, parseArgsOptions(COMMANDS.doctor.options));
  const report = await doctorReport({ localstackNetwork: parseLocalstackNetwork(values['localstack-network'] ?? process.env.LOCKGRADER_LOCALSTACK_NETWORK) });
  if (values.json) {
    console.log(JSON.stringify(report, null, 2));
  } else {
    for (const line of renderDoctorText(report)) console.log(line);
  }
  return report.terraform.found ? 0 : 3;
}

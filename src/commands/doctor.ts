import { parseArgs } from 'node:util';
import { backendAvailability } from '../backend/index.ts';
import { startEmbeddedBackend } from '../backend/embedded.ts';
import { localstackImage } from '../backend/localstack.ts';
import { locateTerraform } from '../terraform/locate.ts';
import { LEARNER_TOOLS, resolveTool } from '../learner/tools.ts';
import { detectSandbox } from '../learner/sandbox.ts';

export interface DoctorReport {
  node: string;
  terraform: { found: boolean; binary?: string; flavour?: string; version?: string; source?: string; error?: string };
  backends: Array<{ kind: string; available: boolean; reason: string; start_ms?: number; image?: string }>;
  learner_tools: Record<string, string | null>;
  sandbox: string;
}

// Reports which terraform/tofu, which backends can run here (and why not),
// and which learner tools are present.
export async function doctorReport(): Promise<DoctorReport> {
  let terraform: DoctorReport['terraform'];
  try {
    const found = await locateTerraform();
    terraform = { found: true, binary: found.path, flavour: found.flavour, version: found.version, source: found.source };
  } catch (error) {
    terraform = { found: false, error: (error as Error).message };
  }
  const backends: DoctorReport['backends'] = [];
  for (const availability of await backendAvailability({ endpoint: process.env.LOCKGRADER_ENDPOINT })) {
    const entry: DoctorReport['backends'][number] = { ...availability };
    if (availability.kind === 'embedded') {
      try {
        const backend = await startEmbeddedBackend();
        entry.start_ms = Math.round(backend.startMs * 10) / 10;
        entry.reason = `${backend.description}; started in ${entry.start_ms} ms`;
        await backend.stop();
      } catch (error) {
        Object.assign(entry, { available: false, reason: (error as Error).message });
      }
    }
    if (availability.kind === 'localstack') entry.image = await localstackImage();
    backends.push(entry);
  }
  const learner_tools: Record<string, string | null> = {};
  for (const tool of LEARNER_TOOLS) learner_tools[tool] = (await resolveTool(tool)) ?? null;
  return { node: process.version, terraform, backends, learner_tools, sandbox: (await detectSandbox()).description };
}

export async function doctorCommand(argv: string[]): Promise<number> {
  const { values } = parseArgs({ args: argv, options: { json: { type: 'boolean' } } });
  const report = await doctorReport();
  if (values.json) {
    console.log(JSON.stringify(report, null, 2));
  } else {
    const tf = report.terraform;
    console.log(`node       ${report.node}`);
    console.log(tf.found ? `terraform  ${tf.flavour} ${tf.version} at ${tf.binary} (from ${tf.source})` : `terraform  NOT FOUND: ${tf.error}`);
    for (const backend of report.backends) console.log(`backend    ${backend.kind.padEnd(10)} ${backend.available ? 'yes' : 'no '}  ${backend.reason}`);
    console.log(`sandbox    ${report.sandbox}`);
    for (const [tool, where] of Object.entries(report.learner_tools)) console.log(`tool       ${tool.padEnd(10)} ${where ?? 'NOT FOUND (learner scripts that use it will fail)'}`);
  }
  return report.terraform.found ? 0 : 3;
}

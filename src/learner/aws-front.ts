import { chmod, mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';

// The `aws` a learner script finds on PATH: a small bash program in front of
// the real AWS CLI v2. Debian 12's awscli (2.9.19) predates the
// AWS_ENDPOINT_URL / AWS_ENDPOINT_URL_<SERVICE> variables (measured: with them
// set it still calls https://dynamodb.us-east-1.amazonaws.com/ and
// https://BUCKET.s3.us-east-1.amazonaws.com/), so when the command line has no
// --endpoint-url the front adds one for the service being called, taken from
// those variables as a newer CLI would:
//   s3, s3api -> AWS_ENDPOINT_URL_S3; dynamodb -> AWS_ENDPOINT_URL_DYNAMODB;
//   any other service -> AWS_ENDPOINT_URL_<SERVICE>; then AWS_ENDPOINT_URL.
// The service is the first word that is not a global option (or a global
// option's value): `aws --region x --output json dynamodb scan ...`. The
// endpoint goes in front of the service word (a global option there is valid
// for every command). AWS_IGNORE_CONFIGURED_ENDPOINT_URLS=true turns this off.
// The real binary is baked in, not looked up on PATH; the front execs it, so
// signals, stdin, output and the exit code are the CLI's own.

/** Global options of AWS CLI v2 that take a value (`aws help`, "GLOBAL OPTIONS"). */
export const AWS_GLOBAL_OPTIONS_WITH_VALUE = [
  '--region',
  '--output',
  '--query',
  '--profile',
  '--color',
  '--ca-bundle',
  '--cli-read-timeout',
  '--cli-connect-timeout',
  '--cli-binary-format',
] as const;

function shellQuote(value: string): string {
  return `'${value.replaceAll("'", "'\\''")}'`;
}

export function awsFrontSource(realAws: string): string {
  return `#!/bin/bash
# lockgrader: AWS CLI v2 with the endpoint of AWS_ENDPOINT_URL_<SERVICE> / AWS_ENDPOINT_URL
# added as --endpoint-url when the command line has none.
real=${shellQuote(realAws)}
for arg in "$@"; do
  case $arg in --endpoint-url | --endpoint-url=*) exec "$real" "$@" ;; esac
done
case \${AWS_IGNORE_CONFIGURED_ENDPOINT_URLS:-} in [Tt][Rr][Uu][Ee]) exec "$real" "$@" ;; esac
args=("$@")
i=0
service=
while [ "$i" -lt "$#" ]; do
  case \${args[i]} in
    ${AWS_GLOBAL_OPTIONS_WITH_VALUE.join(' | ')}) i=$((i + 2)) ;;
    -*) i=$((i + 1)) ;;
    *) service=\${args[i]}; break ;;
  esac
done
case $service in
  '' | help | configure | history) exec "$real" "$@" ;;
  s3 | s3api) id=S3 ;;
  s3control) id=S3_CONTROL ;;
  dynamodbstreams) id=DYNAMODB_STREAMS ;;
  *) id=\${service^^}; id=\${id//-/_} ;;
esac
variable="AWS_ENDPOINT_URL_$id"
[[ $variable =~ ^[A-Z0-9_]+$ ]] || exec "$real" "$@"
endpoint=\${!variable:-\${AWS_ENDPOINT_URL:-}}
[ -n "$endpoint" ] || exec "$real" "$@"
exec "$real" "\${args[@]:0:i}" --endpoint-url "$endpoint" "\${args[@]:i}"
`;
}

// Writes the front as binDir/aws (mode 755) and returns its path.
export async function writeAwsFront(binDir: string, realAws: string): Promise<string> {
  const file = path.join(binDir, 'aws');
  await writeFile(file, awsFrontSource(realAws));
  await chmod(file, 0o755);
  return file;
}

// When this machine has no AWS CLI v2: an `aws` that says so and exits 127,
// so a learner script never falls through to an AWS CLI v1 later on PATH
// (/usr/bin/aws may be one).
export async function writeAwsMissingStub(binDir: string): Promise<string> {
  const file = path.join(binDir, 'aws');
  await writeFile(
    file,
    '#!/bin/bash\necho "aws: no AWS CLI v2 on the grading machine (an AWS CLI v1 is never given to learner scripts); see lockgrader doctor" >&2\nexit 127\n',
  );
  await chmod(file, 0o755);
  return file;
}

/**
 * Files (path relative to HOME -> content) a learner's HOME gets for the AWS CLI:
 * `~/.aws/config` with path-style S3 addressing (an emulator at
 * http://localhost:PORT or http://NAME:PORT has no BUCKET.NAME host; 2.9.19
 * already uses path style for any --endpoint-url, newer CLIs use virtual hosts
 * for DNS-compatible bucket names) and no pager.
 */
export function awsHomeFiles(): Record<string, string> {
  return {
    '.aws/config': ['[default]', 'cli_pager =', 's3 =', '    addressing_style = path', ''].join('\n'),
  };
}

// Writes awsHomeFiles() into home (a learner's private HOME).
export async function writeAwsHomeFiles(home: string): Promise<void> {
  for (const [relative, content] of Object.entries(awsHomeFiles())) {
    const file = path.join(home, relative);
    await mkdir(path.dirname(file), { recursive: true });
    await writeFile(file, content);
  }
}

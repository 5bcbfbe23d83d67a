import type { LabStore } from '../backend/lab-store.ts';

function hclString(value: string): string {
  return JSON.stringify(value);
}

// The S3 backend settings for one lab store (lock-protocol.md §7): path-style
// addressing, no STS/IMDS lookups, and the locks of the lab variant: the
// DynamoDB lock table (dynamodb, both) and/or the S3 lock object
// (use_lockfile = true: lockfile, both). Neither
// credentials nor endpoints are written here: they come from the environment
// (AWS_ENDPOINT_URL_S3 / AWS_ENDPOINT_URL_DYNAMODB, read by terraform >= 1.6
// and every OpenTofu), so a copy of an initialised working directory reaches
// the backend through whichever relay its process was given.
export function renderBackendConfig(store: LabStore): string {
  const { credentials } = store.backend;
  return [
    `bucket         = ${hclString(store.bucket)}`,
    `key            = ${hclString(store.key)}`,
    `region         = ${hclString(credentials.region)}`,
    ...(store.table !== undefined ? [`dynamodb_table = ${hclString(store.table)}`] : []),
    ...(store.lockObjectKey !== undefined ? ['use_lockfile   = true'] : []),
    `use_path_style              = true`,
    `skip_credentials_validation = true`,
    `skip_requesting_account_id  = true`,
    `skip_metadata_api_check     = true`,
    `skip_region_validation      = true`,
    `skip_s3_checksum            = true`,
    '',
  ].join('\n');
}

// The AWS variables a terraform process (harness or learner) needs for a store.
export function awsEnvironment(store: LabStore): Record<string, string> {
  const { endpoints, credentials } = store.backend;
  return {
    AWS_REGION: credentials.region,
    AWS_DEFAULT_REGION: credentials.region,
    AWS_ACCESS_KEY_ID: credentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
    AWS_ENDPOINT_URL_S3: endpoints.s3,
    AWS_ENDPOINT_URL_DYNAMODB: endpoints.dynamodb,
    ...(endpoints.single ? { AWS_ENDPOINT_URL: endpoints.single } : {}),
  };
}

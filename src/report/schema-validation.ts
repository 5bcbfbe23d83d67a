import { readFileSync } from 'node:fs';
import * as ajv2020Module from 'ajv/dist/2020.js';
import type { ErrorObject, ValidateFunction } from 'ajv/dist/2020.js';
import { repoPath } from '../paths.ts';

// Validates lockgrader's output files against the JSON Schemas (draft 2020-12)
// in schemas/: results.schema.json (--json) and gradescope.schema.json
// (--gradescope). Each validator returns the problems found, one readable line
// each ("/checks/3/status: must be equal to one of the allowed values
// (pass, fail, error, skipped)"); an empty array means valid.

export const RESULTS_SCHEMA_FILE = repoPath('schemas', 'results.schema.json');
export const GRADESCOPE_SCHEMA_FILE = repoPath('schemas', 'gradescope.schema.json');

type Ajv2020Class = typeof ajv2020Module.Ajv2020;

// ajv is CommonJS (module.exports = Ajv2020, also exported as .default and
// .Ajv2020); reach the class under either ESM interop.
function ajvClass(): Ajv2020Class {
  const mod = ajv2020Module as unknown as { Ajv2020?: Ajv2020Class; default?: Ajv2020Class | { Ajv2020: Ajv2020Class } };
  if (mod.Ajv2020) return mod.Ajv2020;
  const first = mod.default;
  if (typeof first === 'function') return first;
  if (first && 'Ajv2020' in first) return first.Ajv2020;
  throw new Error('ajv/dist/2020 exports no Ajv2020 class');
}

let validators: { results: ValidateFunction; gradescope: ValidateFunction } | undefined;

function compiled(): { results: ValidateFunction; gradescope: ValidateFunction } {
  if (!validators) {
    const Ajv = ajvClass();
    const ajv = new Ajv({ allErrors: true, strict: true, strictRequired: false, allowUnionTypes: true });
    validators = {
      results: ajv.compile(JSON.parse(readFileSync(RESULTS_SCHEMA_FILE, 'utf8')) as object),
      gradescope: ajv.compile(JSON.parse(readFileSync(GRADESCOPE_SCHEMA_FILE, 'utf8')) as object),
    };
  }
  return validators;
}

function describe(error: ErrorObject): string {
  const where = error.instancePath || '(root)';
  const params = error.params as Record<string, unknown>;
  let detail = error.message ?? error.keyword;
  if (Array.isArray(params.allowedValues)) detail += ` (${params.allowedValues.join(', ')})`;
  else if (params.allowedValue !== undefined) detail += ` (${JSON.stringify(params.allowedValue)})`;
  else if (typeof params.additionalProperty === 'string') detail += `: "${params.additionalProperty}"`;
  return `${where}: ${detail}`;
}

function run(validate: ValidateFunction, data: unknown): string[] {
  if (validate(data)) return [];
  // "must match \"then\" schema" only repeats the error that caused it.
  return [...new Set((validate.errors ?? []).filter((error) => error.keyword !== 'if').map(describe))];
}

/** Problems of a results file (`grade --json`) against schemas/results.schema.json; [] = valid. */
export function validateResults(data: unknown): string[] {
  return run(compiled().results, data);
}

/** Problems of a Gradescope results.json (`grade --gradescope`) against schemas/gradescope.schema.json; [] = valid. */
export function validateGradescope(data: unknown): string[] {
  return run(compiled().gradescope, data);
}

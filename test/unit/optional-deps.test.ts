// testcontainers is an optional dependency: only the localstack backend's
// engine and container modules name it, and never with a static value import
// (a machine without it must still load every other module).
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { expect, test } from '@jest/globals';
import { repoPath } from '../../src/paths.ts';

const SRC = repoPath('src');
const ALLOWED = ['backend/container-engine.ts', 'backend/localstack-container.ts'];

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name);
    if (statSync(full).isDirectory()) return sources(full);
    return name.endsWith('.ts') && !name.endsWith('.test.ts') ? [full] : [];
  });
}

test('testcontainers is named only by the localstack backend, and imported only dynamically or as types', () => {
  const found: string[] = [];
  for (const file of sources(SRC)) {
    const relative = path.relative(SRC, file);
    const text = readFileSync(file, 'utf8');
    for (const match of text.matchAll(/^.*['"](?:testcontainers|@testcontainers\/[\w-]+)['"].*$/gm)) {
      const line = match[0].trim();
      const staticValueImport = /^import\s+(?!type\b)/.test(line);
      if (!ALLOWED.includes(relative) || staticValueImport) found.push(`${relative}: ${line}`);
    }
  }
  expect(found).toEqual([]);
});

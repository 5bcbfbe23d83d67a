import { describe, expect, test } from '@jest/globals';
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { cachedProbe } from './probe-cache.ts';

describe("a program's probe answers kept between processes", () => {
  test('asked once while the program is unchanged; asked again when it changes, or when the answer was not kept', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'probe-cache-'));
    try {
      const file = path.join(dir, 'cache', 'answers.json');
      const program = path.join(dir, 'tool');
      await writeFile(program, '#!/bin/sh\necho one\n');
      await chmod(program, 0o755);
      let asked = 0;
      const probe = (answer: string) => async () => {
        asked += 1;
        return answer;
      };
      expect(await cachedProbe(file, 'version', program, probe('one'), () => true)).toBe('one');
      expect(await cachedProbe(file, 'version', program, probe('two'), () => true)).toBe('one');
      expect(asked).toBe(1);
      // Another probe of the same program is its own entry.
      expect(await cachedProbe(file, 'other', program, probe('x'), () => true)).toBe('x');
      expect(asked).toBe(2);
      // Rewritten (as an upgrade would): new size and change time.
      await writeFile(program, '#!/bin/sh\necho two two\n');
      expect(await cachedProbe(file, 'version', program, probe('two'), () => true)).toBe('two');
      expect(asked).toBe(3);
      expect(Object.keys(JSON.parse(await readFile(file, 'utf8')) as object).sort()).toEqual([`other ${program}`, `version ${program}`]);
      // A failed answer is not kept: asked every time.
      const failing = path.join(dir, 'failing');
      await writeFile(failing, '');
      expect(await cachedProbe(file, 'version', failing, probe('broken'), () => false)).toBe('broken');
      expect(await cachedProbe(file, 'version', failing, probe('broken'), () => false)).toBe('broken');
      expect(asked).toBe(5);
      // A missing program has no identity: never kept; an unwritable cache only costs the next probe.
      expect(await cachedProbe(path.join(program, 'not-a-folder', 'answers.json'), 'version', program, probe('three'), () => true)).toBe('three');
      expect(asked).toBe(6);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

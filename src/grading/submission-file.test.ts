import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeText, findSubmissionFile } from './submission-file.ts';

const TEXT = '{\r\n  "who": "root@vm ✓"\r\n}\r\n';

describe('decodeText: a submission file by its byte order mark', () => {
  test.each<[string, Buffer]>([
    ['UTF-8', Buffer.from(TEXT, 'utf8')],
    ['UTF-8 with a BOM (Notepad)', Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(TEXT, 'utf8')])],
    ['UTF-16LE with a BOM (Windows PowerShell 5: > and Out-File)', Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(TEXT, 'utf16le')])],
    ['UTF-16BE with a BOM', Buffer.concat([Buffer.from([0xfe, 0xff]), Buffer.from(TEXT, 'utf16le').swap16()])],
  ])('%s', (_name, bytes) => {
    expect(decodeText(bytes)).toBe(TEXT);
  });

  test('an odd trailing byte of UTF-16BE is dropped, not thrown on', () => {
    expect(decodeText(Buffer.from([0xfe, 0xff, 0x00, 0x41, 0x00]))).toBe('A');
  });
});

describe('a missing file names the file that was surely meant for it', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'lockgrader-near-miss-'));
    mkdirSync(join(dir, 'challenge3'));
    writeFileSync(join(dir, 'challenge3', 'Locking.md'), 'x');
    writeFileSync(join(dir, 'challenge3', 'workflow.yaml'), 'x');
    writeFileSync(join(dir, 'challenge3', 'notes.md'), 'x');
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test.each([
    ['challenge3/LOCKING.md', 'challenge3/LOCKING.md is missing from the submission (there is challenge3/Locking.md: the name must be exactly LOCKING.md)'],
    ['challenge3/workflow.yml', 'challenge3/workflow.yml is missing from the submission (there is challenge3/workflow.yaml: the name must be exactly workflow.yml)'],
    ['challenge3/pipeline.sh', 'challenge3/pipeline.sh is missing from the submission'],
    ['challenge2/recover.sh', 'challenge2/recover.sh is missing from the submission'],
  ])('%s', async (relative, problem) => {
    const file = await findSubmissionFile(dir, relative);
    expect(file.state).toBe('missing');
    expect(file.state === 'missing' ? file.problem : '').toBe(problem);
  });
});

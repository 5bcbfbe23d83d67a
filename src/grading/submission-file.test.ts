import { describe, expect, test } from '@jest/globals';
import { decodeText } from './submission-file.ts';

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

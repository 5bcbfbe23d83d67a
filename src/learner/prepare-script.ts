import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';

// Scripts written on Windows fail in bash ($'\r': command not found). Like
// most graders, lockgrader runs a copy with CRLF turned into LF and a UTF-8
// BOM removed, and says so in the script's output. Anything else runs as given.
export async function prepareScriptFile(script: string, workDir: string): Promise<{ path: string; notes: string[] }> {
  const bytes = await readFile(script);
  const notes: string[] = [];
  let text = bytes;
  if (text.subarray(0, 3).equals(Buffer.from([0xef, 0xbb, 0xbf]))) {
    text = text.subarray(3);
    notes.push('removed a UTF-8 byte order mark');
  }
  if (text.includes('\r\n')) {
    text = Buffer.from(text.toString('latin1').replace(/\r\n/g, '\n'), 'latin1');
    notes.push('converted Windows (CRLF) line endings to LF');
  }
  if (notes.length === 0) return { path: script, notes };
  const copy = path.join(workDir, `normalized-${path.basename(script)}`);
  await writeFile(copy, text);
  return { path: copy, notes };
}

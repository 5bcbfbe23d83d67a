// Packing and unpacking submission archives, including hostile ones: every
// refused archive names what is wrong and writes nothing anywhere.
import { randomBytes } from 'node:crypto';
import { chmod, mkdir, mkdtemp, readdir, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { execa } from 'execa';
import { isLockgraderError } from '../errors.ts';
import { repoPath } from '../paths.ts';
import { packSubmission } from './archive-pack.ts';
import { MAX_ARCHIVE_BYTES } from './archive-rules.ts';
import { unpackSubmission, unwrapTopFolder } from './archive-unpack.ts';
import { rawArchive, type RawEntry } from '../../test/support/raw-archive.ts';

let root: string;
beforeAll(async () => {
  root = await mkdtemp(path.join(tmpdir(), 'lockgrader-test-archive-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

async function listTree(dir: string): Promise<string[]> {
  return (await readdir(dir, { recursive: true })).map(String).sort();
}

async function freshDir(name: string): Promise<string> {
  const dir = path.join(root, name, 'dest');
  await mkdir(dir, { recursive: true });
  return dir;
}

describe('pack then unpack', () => {
  test('the reference round-trips: same files, same bytes, scripts stay executable', async () => {
    const packed = await packSubmission(repoPath('fixtures/submissions/reference'));
    expect(packed.archive.length).toBeLessThan(MAX_ARCHIVE_BYTES);
    const dest = await freshDir('roundtrip');
    const unpacked = await unpackSubmission(packed.archive, dest);
    expect(unpacked.files).toBe(packed.files);
    const original = await listTree(repoPath('fixtures/submissions/reference'));
    expect(await listTree(dest)).toEqual(original);
    for (const file of original.filter((name) => name.endsWith('.sh'))) {
      expect(await readFile(path.join(dest, file), 'utf8')).toBe(await readFile(repoPath('fixtures/submissions/reference', file), 'utf8'));
    }
    for (const file of original) {
      const [source, copy] = [await stat(repoPath('fixtures/submissions/reference', file)), await stat(path.join(dest, file))];
      expect([file, copy.isDirectory(), (copy.mode & 0o111) !== 0]).toEqual([file, source.isDirectory(), (source.mode & 0o111) !== 0]);
    }
  });

  test('the digest is the content: same folder twice, a copy elsewhere, and a one-byte change', async () => {
    const a = path.join(root, 'digest-a');
    const b = path.join(root, 'elsewhere', 'digest-b');
    for (const dir of [a, b]) {
      await mkdir(path.join(dir, 'challenge1'), { recursive: true });
      await writeFile(path.join(dir, 'challenge1/identify.sh'), 'echo hi\n');
    }
    const [first, again, copy] = [await packSubmission(a), await packSubmission(a), await packSubmission(b)];
    expect(again.digest).toBe(first.digest);
    expect(copy.digest).toBe(first.digest);
    await writeFile(path.join(b, 'challenge1/identify.sh'), 'echo hj\n');
    expect((await packSubmission(b)).digest).not.toBe(first.digest);
    await chmod(path.join(a, 'challenge1/identify.sh'), 0o755);
    expect((await packSubmission(a)).digest).not.toBe(first.digest);
  });
});

describe('packing refuses, with the reason', () => {
  test('a folder that packs to more than 1 MiB', async () => {
    const dir = path.join(root, 'big');
    await mkdir(dir);
    await writeFile(path.join(dir, 'noise.bin'), randomBytes(1.5 * 1024 * 1024));
    await expect(packSubmission(dir)).rejects.toThrow(/packs to 1\.5 MiB \(tar\.gz, \d+ bytes\); a queued submission may be at most 1\.0 MiB/);
  });

  test('a symbolic link inside the submission (even to a file inside it)', async () => {
    const dir = path.join(root, 'with-link');
    await mkdir(path.join(dir, 'challenge1'), { recursive: true });
    await writeFile(path.join(dir, 'challenge1/real.sh'), 'echo\n');
    await symlink('real.sh', path.join(dir, 'challenge1/identify.sh'));
    await expect(packSubmission(dir)).rejects.toThrow('challenge1/identify.sh in ' + dir + ' is a symbolic link');
  });

  test('a FIFO (or socket, device) inside the submission', async () => {
    const dir = path.join(root, 'with-fifo');
    await mkdir(path.join(dir, 'challenge2'), { recursive: true });
    await execa('mkfifo', [path.join(dir, 'challenge2/recover.sh')]);
    await expect(packSubmission(dir)).rejects.toThrow(`challenge2/recover.sh in ${dir} is not a regular file or folder (a socket, FIFO or device)`);
  });

  test('a missing folder, or a file instead of a folder', async () => {
    await expect(packSubmission(path.join(root, 'nope'))).rejects.toThrow(/does not exist/);
    await writeFile(path.join(root, 'plain-file'), 'x');
    await expect(packSubmission(path.join(root, 'plain-file'))).rejects.toThrow(/is not a folder/);
  });
});

describe('unpacking refuses hostile archives and writes nothing', () => {
  const cases: Array<[string, RawEntry[], RegExp]> = [
    ['path traversal', [{ name: 'challenge1/ok.sh', data: 'ok' }, { name: '../escaped.sh', data: 'owned' }], /archive entry "\.\.\/escaped\.sh" climbs out of the submission with "\.\."/],
    ['traversal in the middle', [{ name: 'challenge1/../../escaped.sh', data: 'owned' }], /climbs out of the submission/],
    ['an absolute path', [{ name: '/tmp/escaped.sh', data: 'owned' }], /is an absolute path/],
    ['a symbolic link', [{ name: 'challenge1/identify.sh', type: 'symlink', linkname: '/etc/passwd' }], /archive entry "challenge1\/identify\.sh" is a symbolic link \(to "\/etc\/passwd"\)/],
    ['a symlinked folder then a write through it', [{ name: 'challenge1', type: 'symlink', linkname: '/tmp' }, { name: 'challenge1/x.sh', data: 'owned' }], /is a symbolic link/],
    ['a hard link', [{ name: 'a', data: 'x' }, { name: 'b', type: 'link', linkname: 'a' }], /is a hard link \(to "a"\)/],
    ['a device', [{ name: 'dev', type: 'character-device' }], /is a character-device entry/],
    ['a file name over 255 bytes (after a good file)', [{ name: 'challenge1/ok.sh', data: 'ok' }, { name: `challenge1/${'x'.repeat(256)}`, data: 'x' }], /is nested too deep or named too long/],
    ['nesting 40 folders deep', [{ name: `${'d/'.repeat(40)}f`, data: 'x' }], /is nested too deep or named too long/],
    ['a FIFO', [{ name: 'pipe', type: 'fifo' }], /is a fifo entry/],
    ['the same file twice', [{ name: 'challenge1/a.sh', data: '1' }, { name: './challenge1/a.sh', data: '2' }], /appears twice/],
    ['a file used as a folder', [{ name: 'challenge1', data: 'x' }, { name: 'challenge1/a.sh', data: '2' }], /lies inside a file/],
    ['a file over an implied folder', [{ name: 'challenge1/a.sh', data: '1' }, { name: 'challenge1', data: 'x' }], /appears twice/],
  ];
  test.each(cases)('%s', async (name, entries, message) => {
    const dest = await freshDir(`hostile-${name.replace(/\W+/g, '-')}`);
    const error = await unpackSubmission(await rawArchive(entries), dest).catch((caught: unknown) => caught);
    expect(isLockgraderError(error, 'SUBMISSION_UNREADABLE')).toBe(true);
    expect((error as Error).message).toMatch(message);
    expect(await readdir(dest)).toEqual([]);
    expect(await readdir(path.dirname(dest))).toEqual(['dest']);
  });

  test('more than 2000 entries', async () => {
    const dest = await freshDir('many');
    const entries = Array.from({ length: 2001 }, (_, n) => ({ name: `f${n}`, data: '' }));
    await expect(unpackSubmission(await rawArchive(entries), dest)).rejects.toThrow('the submission archive has more than 2000 entries');
    expect(await readdir(dest)).toEqual([]);
  });

  test('an archive over 1 MiB is refused before it is opened', async () => {
    const dest = await freshDir('over-limit');
    await expect(unpackSubmission(randomBytes(MAX_ARCHIVE_BYTES + 1), dest)).rejects.toThrow('the submission archive is 1.0 MiB (1048577 bytes); the limit is 1.0 MiB (1048576 bytes)');
    expect(await readdir(dest)).toEqual([]);
  });

  test('a gzip bomb (small archive, 40 MiB of zeros) stops at the unpacked limit', async () => {
    const dest = await freshDir('bomb');
    const bomb = await rawArchive([{ name: 'zeros', data: Buffer.alloc(40 * 1024 * 1024) }]);
    expect(bomb.length).toBeLessThan(MAX_ARCHIVE_BYTES);
    await expect(unpackSubmission(bomb, dest)).rejects.toThrow('the submission archive unpacks to more than 16.0 MiB');
    expect(await readdir(dest)).toEqual([]);
  });

  test('garbage, a plain gzip of text, and a truncated archive', async () => {
    const dest = await freshDir('garbage');
    await expect(unpackSubmission(Buffer.from('this is not an archive'), dest)).rejects.toThrow(/is not a gzip-compressed tar archive/);
    await expect(unpackSubmission(gzipSync('hello, not a tar, but long enough to look like a header block '.repeat(20)), dest)).rejects.toThrow(/is not a readable tar/);
    const good = await packSubmission(repoPath('fixtures/submissions/reference'));
    await expect(unpackSubmission(good.archive.subarray(0, good.archive.length - 40), dest)).rejects.toThrow(/gzip-compressed tar archive|readable tar/);
    expect(await readdir(dest)).toEqual([]);
  });
});

describe('a single top-level folder is unwrapped', () => {
  test('tar czf sub.tar.gz sub/ unpacks as the submission itself', async () => {
    const dest = await freshDir('wrapped');
    await unpackSubmission(await rawArchive([{ name: 'sub/', type: 'directory' }, { name: 'sub/challenge1/identify.sh', data: 'echo\n', mode: 0o755 }]), dest);
    expect(await listTree(dest)).toEqual(['challenge1', 'challenge1/identify.sh']);
    expect((await stat(path.join(dest, 'challenge1/identify.sh'))).mode & 0o777).toBe(0o755);
  });

  test.each([
    [['challenge1/a', 'challenge1/b'], ['challenge1/a', 'challenge1/b']],
    [['sub', 'sub/challenge2/r.sh'], [undefined, 'challenge2/r.sh']],
    [['notes.txt'], ['notes.txt']],
    [['a/x', 'b/y'], ['a/x', 'b/y']],
  ])('%j -> %j', (relatives, expected) => {
    const rename = unwrapTopFolder(relatives);
    expect(relatives.map(rename)).toEqual(expected);
  });
});

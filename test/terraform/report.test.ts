// The reports of `lockgrader grade` end to end: grades the reference through
// the real CLI with --json, --gradescope and --report, validates both JSON
// files against schemas/, and screenshots the HTML report in headless
// Chromium (Debian's /usr/bin/chromium; .ci/run installs it). The screenshot
// is kept in reports/report-reference.png for a human to look at.
import { existsSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { crc32, inflateSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { execa } from 'execa';
import type { GradeResult } from '../../src/grading/types.ts';
import { repoPath } from '../../src/paths.ts';
import { validateGradescope, validateResults } from '../../src/report/schema-validation.ts';
import { runCli } from '../support/cli.ts';

const CHROMIUM = '/usr/bin/chromium';
const WINDOW = { width: 1400, height: 1800 };
const SCREENSHOT = repoPath('reports', 'report-reference.png');

interface PngInfo {
  width: number;
  height: number;
  colorType: number;
  bitDepth: number;
  chunks: string[];
  pixelBytes: number;
}

// Reads a PNG as a decoder would: signature, every chunk's CRC, IHDR first,
// IEND last, and the inflated IDAT stream exactly one filter byte plus one row
// of pixels per line. Throws on anything else.
function readPng(data: Buffer): PngInfo {
  const signature = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  if (!data.subarray(0, 8).equals(signature)) throw new Error('not a PNG: bad signature');
  const chunks: string[] = [];
  const idat: Buffer[] = [];
  let offset = 8;
  let header: Omit<PngInfo, 'chunks' | 'pixelBytes'> | undefined;
  while (offset < data.length) {
    const length = data.readUInt32BE(offset);
    const type = data.toString('latin1', offset + 4, offset + 8);
    const body = data.subarray(offset + 8, offset + 8 + length);
    const crc = data.readUInt32BE(offset + 8 + length);
    if (crc32(data.subarray(offset + 4, offset + 8 + length)) !== crc) throw new Error(`bad CRC in chunk ${type}`);
    chunks.push(type);
    if (type === 'IHDR') header = { width: body.readUInt32BE(0), height: body.readUInt32BE(4), bitDepth: body[8]!, colorType: body[9]! };
    if (type === 'IDAT') idat.push(body);
    offset += 12 + length;
  }
  if (!header || chunks[0] !== 'IHDR' || chunks.at(-1) !== 'IEND') throw new Error(`bad chunk order: ${chunks.join(',')}`);
  const channels = ({ 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 } as Record<number, number>)[header.colorType];
  if (!channels) throw new Error(`unknown colour type ${header.colorType}`);
  const pixels = inflateSync(Buffer.concat(idat));
  const rowBytes = Math.ceil((header.width * channels * header.bitDepth) / 8);
  if (pixels.length !== header.height * (rowBytes + 1)) throw new Error(`IDAT holds ${pixels.length} bytes, expected ${header.height * (rowBytes + 1)}`);
  return { ...header, chunks: [...new Set(chunks)], pixelBytes: pixels.length };
}

let out: string;
let run: Awaited<ReturnType<typeof runCli>>;
let result: GradeResult;
let html: string;
let gradeMs: number;

beforeAll(async () => {
  out = await mkdtemp(path.join(tmpdir(), 'lockgrader-report-test-'));
  const started = Date.now();
  run = await runCli([
    'grade',
    repoPath('fixtures/submissions/reference'),
    '--json',
    path.join(out, 'results.json'),
    '--gradescope',
    path.join(out, 'gradescope.json'),
    '--report',
    path.join(out, 'html', 'report.html'),
  ]);
  gradeMs = Date.now() - started;
  result = JSON.parse(await readFile(path.join(out, 'results.json'), 'utf8')) as GradeResult;
  html = await readFile(path.join(out, 'html', 'report.html'), 'utf8');
}, 300_000);

afterAll(async () => {
  await rm(out, { recursive: true, force: true });
});

describe('grade the reference with --json --gradescope --report', () => {
  test('grades 100/100', () => {
    if (run.exitCode !== 0) console.error(run.stdout, run.stderr);
    expect(run.exitCode).toBe(0);
    expect(result.status).toBe('graded');
    expect(result.score).toBe(100);
  });

  test('the results file matches schemas/results.schema.json', () => {
    expect(validateResults(result)).toEqual([]);
    expect(result.scripts?.length).toBeGreaterThan(0);
    expect(result.timeline?.length).toBeGreaterThan(0);
  });

  test('the Gradescope file matches schemas/gradescope.schema.json', async () => {
    const gradescope = JSON.parse(await readFile(path.join(out, 'gradescope.json'), 'utf8')) as unknown;
    expect(validateGradescope(gradescope)).toEqual([]);
  });

  test('the HTML report: self-contained, one lane per challenge, one timeline mark per event', () => {
    const timeline = result.timeline ?? [];
    expect(html.startsWith('<!DOCTYPE html>')).toBe(true);
    expect(html).not.toMatch(/<script|<link|(src|href)=/i);
    expect(html.match(/<svg class="timeline"/g)).toHaveLength(1);
    const svg = html.slice(html.indexOf('<svg class="timeline"'), html.indexOf('</svg>') + 6);
    expect(svg.match(/ data-event="\d+"/g)).toHaveLength(timeline.length);
    expect(html.match(/ data-event="/g)).toHaveLength(timeline.length);
    expect(svg.match(/data-challenge="(\d)"/g)).toEqual(['data-challenge="1"', 'data-challenge="2"', 'data-challenge="3"']);
    // The pairs the reference run always has: a held lock per challenge, the orphaned lock, every script.
    expect(svg.match(/class="bar b-lock-held"/g)).toHaveLength(3);
    expect(svg.match(/class="bar b-lock-orphaned"/g)).toHaveLength(1);
    expect(svg.match(/class="bar b-script-running"/g)).toHaveLength(result.scripts?.length ?? 0);
    expect(svg).not.toContain(' open"');
    for (const check of result.checks) expect(html).toContain(`id="check-${check.id}"`);
    expect(html.match(/<details class="script">/g)).toHaveLength(result.scripts?.length ?? 0);
    console.log(`report: ${html.length} bytes of HTML, ${timeline.length} timeline events, grading took ${gradeMs} ms`);
  });

  const screenshot = existsSync(CHROMIUM) ? test : test.skip;
  if (!existsSync(CHROMIUM)) console.warn(`SKIPPED the report screenshot: ${CHROMIUM} is missing (apt-get install chromium; .ci/run does it)`);

  screenshot(`a headless Chromium screenshot of the report is a real ${WINDOW.width}x${WINDOW.height} PNG -> reports/report-reference.png`, async () => {
    const profile = await mkdtemp(path.join(tmpdir(), 'lockgrader-chromium-'));
    const png = path.join(out, 'report.png');
    const started = Date.now();
    try {
      const chromium = await execa(
        CHROMIUM,
        [
          '--headless',
          '--no-sandbox',
          '--disable-gpu',
          '--disable-quic',
          '--no-first-run',
          '--disable-background-networking',
          '--disable-component-update',
          '--disable-sync',
          `--user-data-dir=${profile}`,
          `--screenshot=${png}`,
          `--window-size=${WINDOW.width},${WINDOW.height}`,
          pathToFileURL(path.join(out, 'html', 'report.html')).href,
        ],
        { reject: false, timeout: 120_000, env: { HOME: profile }, stdin: 'ignore' },
      );
      if (!existsSync(png)) throw new Error(`chromium wrote no screenshot (exit ${chromium.exitCode}):\n${chromium.stderr}`);
    } finally {
      await rm(profile, { recursive: true, force: true });
    }
    const data = await readFile(png);
    const info = readPng(data);
    expect({ width: info.width, height: info.height }).toEqual(WINDOW);
    expect(info.bitDepth).toBe(8);
    // A blank or near-blank page compresses to a few KiB; the report with its timeline is far more.
    expect(data.length).toBeGreaterThan(60_000);
    await mkdir(path.dirname(SCREENSHOT), { recursive: true });
    await copyFile(png, SCREENSHOT);
    await copyFile(path.join(out, 'html', 'report.html'), SCREENSHOT.replace(/\.png$/, '.html'));
    console.log(`screenshot: ${SCREENSHOT} (${(await stat(SCREENSHOT)).size} bytes, ${info.width}x${info.height}, chromium took ${Date.now() - started} ms)`);
  }, 180_000);
});

import { describe, expect, test } from '@jest/globals';
import { CHECKS } from '../grading/checks.ts';
import type { GradeResult, TimelineEvent } from '../grading/types.ts';
import { escapeHtml, eventLabel, placeLabels, renderHtmlReport, renderTimelineSvg, timelineIntervals } from './html.ts';

const EVIL = '<script>alert("x")</script> & \'quoted\'';

function event(at_ms: number, challenge: 1 | 2 | 3, kind: string, detail: string): TimelineEvent {
  return { at_ms, challenge, kind, detail };
}

const TIMELINE: TimelineEvent[] = [
  event(800, 3, 'lock-held', 'another apply holds lock 38dace6d-afdf-28ba-6933-416b65b87952'),
  event(850, 3, 'script-start', 'challenge3/pipeline.sh (run under contention)'),
  event(880, 3, 'learner-terraform', 'terraform plan -input=false -lock-timeout=5m → 0'),
  event(1940, 3, 'lock-released', 'the holding apply finished (exit 0)'),
  event(4050, 3, 'script-end', 'challenge3/pipeline.sh (run under contention) exit=0'),
  event(5720, 2, 'lock-held', 'apply of release v2 holds lock 30189fec-2657-9be4-e4a0-58516b9191fe'),
  event(5725, 2, 'apply-killed', 'SIGKILL to terraform pid 2366'),
  event(5780, 2, 'script-start', 'challenge2/recover.sh'),
  event(6130, 2, 'learner-terraform', 'terraform force-unlock -force 30189fec-2657-9be4-e4a0-58516b9191fe → 0'),
  event(6400, 2, 'script-end', 'challenge2/recover.sh exit=0'),
  event(6540, 2, 'harness-plan', 'plan -detailed-exitcode exited 0'),
  event(7150, 1, 'lock-held', 'apply holds lock 47f79f4f-75aa-a871-9582-de392afa0b79 (OperationTypeApply)'),
  event(7210, 1, 'plan-failed', 'concurrent plan exited 1'),
  event(7300, 1, 'replay-error', EVIL),
];

function result(overrides: Partial<GradeResult> = {}): GradeResult {
  return {
    lab: 'distributed-state-locking',
    status: 'graded',
    score: 85,
    max_score: 100,
    duration_ms: 8123,
    environment: { terraform: { binary: 'terraform', version: '1.11.4' }, backend: 'embedded', backend_description: 'dynalite + s3rver' },
    checks: CHECKS.map((definition, index) => ({
      id: definition.id,
      challenge: definition.challenge,
      status: index === 2 ? 'fail' : 'pass',
      score: index === 2 ? 0 : definition.points,
      max_score: definition.points,
      feedback: index === 2 ? `who is wrong: ${EVIL}` : 'ok',
      duration_ms: 0,
      ...(index === 2 ? { author_notes: 'SECRET-HOLDER root@vm' } : {}),
    })),
    scripts: [
      { challenge: 2, script: 'challenge2/recover.sh', exit_code: 0, signal: null, timed_out: false, duration_ms: 620, output: `released\n${EVIL}\n\u0007bell\r\n`, output_truncated: false },
      { challenge: 3, script: 'challenge3/pipeline.sh', exit_code: null, signal: 'SIGTERM', timed_out: true, duration_ms: 120000, output: '', output_truncated: true },
    ],
    timeline: TIMELINE,
    ...overrides,
  };
}

describe('escapeHtml', () => {
  test('markup, quotes and control characters', () => {
    expect(escapeHtml(`<a href="x">'&'</a>`)).toBe('&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;');
    expect(escapeHtml('a\u0000b\u0007c\r\n\td\u007f')).toBe('a\u2400b\u2407c\n\td\u2421');
  });
});

describe('renderHtmlReport', () => {
  const html = renderHtmlReport(result());

  test('is one self-contained page: no script, no external asset', () => {
    expect(html.startsWith('<!DOCTYPE html>')).toBe(true);
    expect(html).not.toMatch(/<script/i);
    expect(html).not.toMatch(/<link|<img|<iframe|@import|url\((?!#)/i);
    expect(html).not.toMatch(/(src|href)=/i);
    expect(html).toContain('<style>');
  });

  test('escapes every text from the run', () => {
    expect(html).not.toContain('<script>alert');
    expect(html).toContain('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;quoted&#39;');
    expect(html).toContain('\u2407bell');
  });

  test('shows the score, every check and its points, never author notes', () => {
    expect(html).toContain('85<small> / 100</small>');
    for (const check of CHECKS) expect(html).toContain(`id="check-${check.id}"`);
    expect(html).toContain('<span class="badge s-fail">fail</span>');
    expect(html).toContain('0 / 5');
    expect(html).not.toContain('SECRET-HOLDER');
  });

  test('each learner script in a <details> with its outcome', () => {
    expect(html.match(/<details class="script">/g)).toHaveLength(2);
    expect(html).toContain('stopped at the time limit');
    expect(html).toContain('Output was cut at the size limit.');
  });

  test('an SVG timeline with one data-event element per event, one lane per challenge', () => {
    expect(html.match(/<svg class="timeline"/g)).toHaveLength(1);
    expect(html.match(/data-event="/g)).toHaveLength(TIMELINE.length);
    const indexes = [...html.matchAll(/data-event="(\d+)"/g)].map((match) => Number(match[1])).sort((a, b) => a - b);
    expect(indexes).toEqual(TIMELINE.map((_, index) => index));
    expect(html.match(/data-challenge="\d"/g)).toEqual(['data-challenge="1"', 'data-challenge="2"', 'data-challenge="3"']);
    expect(html).toContain('time since start');
    expect(html).toContain('>7.5 s</text>');
  });

  test('an error run says why, and no timeline is drawn when none was recorded', () => {
    const page = renderHtmlReport(result({ status: 'error', error: { code: 'REPLAY_FAILED', message: 'the apply <never> took the lock' }, timeline: [] }));
    expect(page).toContain('The grading could not complete');
    expect(page).toContain('the apply &lt;never&gt; took the lock');
    expect(page).not.toContain('<svg');
    expect(page).toContain('No lock events were recorded');
  });

  test('skipped challenges are shown as not asked', () => {
    const checks = result().checks.map((check) => (check.challenge === 3 ? { ...check, status: 'skipped' as const, score: 0 } : check));
    expect(renderHtmlReport(result({ checks }))).toContain('not asked');
  });
});

describe('timelineIntervals', () => {
  test('pairs lock-held with lock-released or apply-killed, apply-killed with the force-unlock, scripts by detail', () => {
    const intervals = timelineIntervals(TIMELINE);
    expect(intervals.map(({ challenge, kind, start_ms, end_ms, closed }) => [challenge, kind, start_ms, end_ms, closed])).toEqual([
      [3, 'lock-held', 800, 1940, true],
      [3, 'script-running', 850, 4050, true],
      [2, 'lock-held', 5720, 5725, true],
      [2, 'lock-orphaned', 5725, 6130, true],
      [2, 'script-running', 5780, 6400, true],
      [1, 'lock-held', 7150, 7300, false],
    ]);
  });

  test('"run 1" does not end at "run 10"; an unended script runs to the lane end', () => {
    const intervals = timelineIntervals([
      event(0, 3, 'script-start', 'pipeline.sh (run 1)'),
      event(1, 3, 'script-start', 'pipeline.sh (run 10)'),
      event(5, 3, 'script-end', 'pipeline.sh (run 10) exit=0'),
      event(9, 3, 'script-end', 'pipeline.sh (run 1) exit=1'),
      event(10, 3, 'script-start', 'pipeline.sh (run 2)'),
      event(12, 3, 'learner-terraform', 'terraform plan → 0'),
    ]);
    expect(intervals.map(({ label, start_ms, end_ms, closed }) => [label, start_ms, end_ms, closed])).toEqual([
      ['pipeline.sh (run 1)', 0, 9, true],
      ['pipeline.sh (run 10)', 1, 5, true],
      ['pipeline.sh (run 2)', 10, 12, false],
    ]);
  });

  test('lanes do not pair across challenges', () => {
    const intervals = timelineIntervals([event(0, 1, 'lock-held', 'x'), event(5, 2, 'lock-released', 'y')]);
    expect(intervals).toEqual([{ challenge: 1, kind: 'lock-held', start_ms: 0, end_ms: 0, closed: false, label: 'lock held' }]);
  });
});

describe('eventLabel', () => {
  test('short labels per kind', () => {
    expect(TIMELINE.map(eventLabel)).toEqual([
      'lock held 38dace6d…',
      'start run under contention',
      'plan → 0',
      'lock released',
      'end exit=0',
      'lock held 30189fec…',
      'apply SIGKILLed',
      'start recover.sh',
      'force-unlock → 0',
      'end exit=0',
      'harness plan → 0',
      'lock held 47f79f4f…',
      'plan failed (exit 1)',
      'replay error',
    ]);
    expect(eventLabel(event(0, 1, 'learner-terraform', 'tofu -chdir=x apply -auto-approve → killed'))).toBe('apply → killed');
    expect(eventLabel(event(0, 1, 'learner-terraform', 'terraform -version → 0'))).toBe('terraform -version → 0');
    expect(eventLabel(event(0, 1, 'script-end', 'challenge2/recover.sh exit=SIGKILL (time limit)'))).toBe('end exit=SIGKILL (time limit)');
    expect(eventLabel(event(0, 1, 'something-new', 'x'))).toBe('something-new');
  });
});

describe('placeLabels', () => {
  const overlaps = (a: [number, number], b: [number, number]) => a[0] < b[1] && b[0] < a[1];

  test('labels in one row never overlap and no leader line crosses a label when there is room', () => {
    const marks = [100, 104, 108, 112, 300, 305, 700, 1000].map((x) => ({ x, width: 120 }));
    const placed = placeLabels(marks, 0, 1280);
    const spans = placed.map((placement, i) => ({ ...placement, span: [placement.textX, placement.textX + marks[i]!.width] as [number, number], x: marks[i]!.x }));
    for (const a of spans)
      for (const b of spans) {
        if (a !== b && a.row === b.row) expect(overlaps(a.span, b.span)).toBe(false);
        // b's leader runs through the rows above b.row at b.x
        if (a !== b && a.row < b.row) expect(a.span[0] <= b.x && b.x <= a.span[1]).toBe(false);
      }
    for (const [i, placement] of placed.entries()) expect(placement.textX === marks[i]!.x - 3 || placement.textX + marks[i]!.width === marks[i]!.x + 3).toBe(true);
  });

  test('a lone mark near the right edge ends at its mark; everything stays in bounds', () => {
    expect(placeLabels([{ x: 1250, width: 100 }], 0, 1280)).toEqual([{ row: 0, textX: 1153 }]);
    const placed = placeLabels([{ x: 5, width: 2000 }], 0, 1280);
    expect(placed[0]!.textX).toBeGreaterThanOrEqual(0);
  });

  test('the SVG alone', () => {
    expect(renderTimelineSvg([])).toBe('');
    const svg = renderTimelineSvg([event(0, 2, 'lock-held', 'x'), event(120_000, 2, 'lock-released', 'y')]);
    expect(svg).toContain('>120 s</text>');
    expect(svg).toContain('lock held 120.00 s');
  });
});

describe('typed timeline facts', () => {
  test('labels and bars come from the facts, not the detail text', () => {
    const typed = (at: number, kind: string, facts: Partial<TimelineEvent>): TimelineEvent => ({ at_ms: at, challenge: 2, kind, detail: 'free text for people', ...facts });
    expect(eventLabel(typed(0, 'lock-held', { lock_id: 'abcdef01-0000-4000-8000-000000000000' }))).toBe('lock held abcdef01…');
    expect(eventLabel(typed(0, 'script-end', { script: 'challenge2/recover.sh', exit: '7', timed_out: true }))).toBe('end exit=7 (time limit)');
    expect(eventLabel(typed(0, 'learner-terraform', { command: 'force-unlock', exit: '0' }))).toBe('force-unlock → 0');
    expect(eventLabel(typed(0, 'script-start', { script: 'challenge3/pipeline.sh (concurrent run 2)', variant: 'concurrent run 2' }))).toBe('start concurrent run 2');
    // The orphaned lock ends where the backend saw it deleted, not at a recorded command.
    const bars = timelineIntervals([
      typed(100, 'apply-killed', { exit: 'SIGKILL' }),
      typed(150, 'learner-terraform', { command: 'force-unlock', exit: '0' }),
      typed(300, 'lock-released', { lock_id: 'x' }),
      typed(200, 'script-start', { script: 'challenge2/recover.sh' }),
      typed(400, 'script-end', { script: 'challenge2/recover.sh', exit: '0' }),
    ]);
    expect(bars.find((bar) => bar.kind === 'lock-orphaned')).toMatchObject({ start_ms: 100, end_ms: 300, closed: true });
    expect(bars.find((bar) => bar.kind === 'script-running')).toMatchObject({ start_ms: 200, end_ms: 400, label: 'recover.sh' });
  });
});

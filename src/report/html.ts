import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { ChallengeNumber, CheckResult, GradeResult, ScriptRun, TimelineEvent } from '../grading/types.ts';

// The HTML report (`grade --report FILE.html`): one self-contained page (inline
// CSS and SVG, no external assets, no JavaScript) for learners and authors:
// the score, every check with its feedback, every learner script's output and
// the lock timeline of the run. All text from the run is escaped. Author notes
// (hidden values) are left out, as in every learner-facing report; `--reveal`
// already puts them into the feedback for authors.

const CHALLENGE_TITLES: Record<ChallengeNumber, string> = {
  1: 'Identify the lock holder',
  2: 'Recover an orphaned lock',
  3: 'A pipeline that waits for the lock',
};

/** Escapes text for HTML content and attribute values (also inside inline SVG). */
export function escapeHtml(text: string): string {
  return (
    text
      .replace(/&/g, '&amp;')
      .replace(/</g, '&lt;')
      .replace(/>/g, '&gt;')
      .replace(/"/g, '&quot;')
      .replace(/'/g, '&#39;')
      // C0 controls other than tab/newline (and DEL) as their visible Control Pictures.
      // eslint-disable-next-line no-control-regex
      .replace(/[\u0000-\u0008\u000b-\u001f\u007f]/g, (c) => (c === '\r' ? '' : String.fromCharCode(c === '\u007f' ? 0x2421 : 0x2400 + c.charCodeAt(0))))
  );
}

const esc = escapeHtml;

function seconds(ms: number, digits = 2): string {
  return `${(ms / 1000).toFixed(digits)} s`;
}

function plural(count: number, word: string): string {
  return `${count} ${word}${count === 1 ? '' : 's'}`;
}

// ---------------------------------------------------------------- timeline

/** A time span drawn as a bar in a challenge's lane. */
export interface TimelineInterval {
  challenge: ChallengeNumber;
  kind: 'lock-held' | 'lock-orphaned' | 'script-running';
  start_ms: number;
  end_ms: number;
  /** false when no closing event was recorded (the bar runs to the lane's last event). */
  closed: boolean;
  label: string;
}

function uuidPrefix(text: string): string | undefined {
  return /\b([0-9a-f]{8})-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b/i.exec(text)?.[1];
}

function scriptName(detail: string): string {
  return detail.replace(/^challenge\d\//, '');
}

/**
 * The short label of an event's mark (the full detail is in its tooltip and
 * the event table). Drawn from the event's typed facts; results files written
 * before events carried them fall back to reading the detail text.
 */
export function eventLabel(event: TimelineEvent): string {
  const { kind, detail } = event;
  switch (kind) {
    case 'lock-held': {
      const id = event.lock_id?.slice(0, 8) ?? uuidPrefix(detail);
      return id ? `lock held ${id}…` : 'lock held';
    }
    case 'lock-released':
      return 'lock released';
    case 'apply-killed':
      return (event.exit ?? detail).includes('SIGKILL') ? 'apply SIGKILLed' : 'apply killed';
    case 'plan-failed': {
      const code = event.exit ?? /exited (\S+)/.exec(detail)?.[1];
      return code ? `plan failed (exit ${code})` : 'plan failed';
    }
    case 'script-start': {
      // "challenge3/pipeline.sh (concurrent run 1)" → "start concurrent run 1"; the bar names the script.
      const variant = event.script !== undefined ? event.variant : /\(([^)]*)\)\s*$/.exec(detail)?.[1];
      return `start ${variant ?? scriptName(event.script ?? detail)}`;
    }
    case 'script-end': {
      const exit = event.exit ?? /exit=(\S+)/.exec(detail)?.[1];
      const limit = event.timed_out ?? /time limit/.test(detail);
      return `end${exit ? ` exit=${exit}` : ''}${limit ? ' (time limit)' : ''}`;
    }
    case 'learner-terraform': {
      // "terraform plan -input=false -lock-timeout=5m → 0" → "plan → 0" (the mark's colour says it is the learner's terraform/tofu).
      if (event.command !== undefined) return `${event.command}${event.exit === undefined ? '' : ` → ${event.exit}`}`;
      const words = detail.replace(/\s*→ \S+\s*$/, '').split(' ');
      const command = words.slice(1).find((word) => word !== '' && !word.startsWith('-')) ?? words.join(' ');
      const result = /→ (\S+)\s*$/.exec(detail)?.[1];
      return `${command}${result === undefined ? '' : ` → ${result}`}`;
    }
    case 'harness-plan': {
      const code = event.exit ?? /exited (\S+)/.exec(detail)?.[1];
      return code ? `harness plan → ${code}` : 'harness plan';
    }
    case 'replay-error':
      return 'replay error';
    case 'grader-error':
      return 'grader error';
    default:
      return kind;
  }
}

/** Whether an event released an orphaned lock: the backend saw it deleted, or (older results) a recorded force-unlock succeeded. */
function releasesOrphan(event: TimelineEvent): boolean {
  if (event.kind === 'lock-released') return true;
  return event.kind === 'learner-terraform' && event.command === undefined && /\bforce-unlock\b/.test(event.detail) && /→ 0\s*$/.test(event.detail);
}

/** Whether `end` closes the script run `start` opened. */
function endsScript(start: TimelineEvent, end: TimelineEvent): boolean {
  if (end.kind !== 'script-end') return false;
  if (start.script !== undefined && end.script !== undefined) return start.script === end.script;
  return end.detail === start.detail || end.detail.startsWith(`${start.detail} `);
}

// Pairs events into bars: lock-held → the next lock-released or apply-killed
// ("lock held"); apply-killed → the next successful learner force-unlock
// ("orphaned lock"); script-start → the script-end whose detail starts with
// the start's detail ("script running"). An interval with no closing event
// runs to the lane's last event and is marked open.
export function timelineIntervals(events: TimelineEvent[]): TimelineInterval[] {
  const intervals: TimelineInterval[] = [];
  const sorted = [...events].sort((a, b) => a.at_ms - b.at_ms);
  const used = new Set<TimelineEvent>();
  const laneEnd = new Map<ChallengeNumber, number>();
  for (const event of sorted) laneEnd.set(event.challenge, Math.max(laneEnd.get(event.challenge) ?? 0, event.at_ms));
  const closing = (start: TimelineEvent, matches: (event: TimelineEvent) => boolean): TimelineEvent | undefined => {
    const found = sorted.find((event) => event !== start && event.challenge === start.challenge && event.at_ms >= start.at_ms && !used.has(event) && matches(event));
    if (found) used.add(found);
    return found;
  };
  for (const start of sorted) {
    let kind: TimelineInterval['kind'];
    let end: TimelineEvent | undefined;
    let label: string;
    if (start.kind === 'lock-held') {
      kind = 'lock-held';
      end = closing(start, (event) => event.kind === 'lock-released' || event.kind === 'apply-killed');
      label = 'lock held';
    } else if (start.kind === 'apply-killed') {
      kind = 'lock-orphaned';
      end = closing(start, releasesOrphan);
      label = 'orphaned lock';
    } else if (start.kind === 'script-start') {
      kind = 'script-running';
      end = closing(start, (event) => endsScript(start, event));
      label = scriptName(start.script ?? start.detail);
    } else {
      continue;
    }
    const endMs = end ? end.at_ms : (laneEnd.get(start.challenge) ?? start.at_ms);
    intervals.push({ challenge: start.challenge, kind, start_ms: start.at_ms, end_ms: endMs, closed: end !== undefined, label });
  }
  return intervals;
}

const SVG_WIDTH = 1280;
const PLOT_LEFT = 170;
const PLOT_RIGHT = SVG_WIDTH - 24;
const FONT_SIZE = 11;
/** DejaVu Sans Mono / most monospace faces: 0.6 em per character; a little slack. */
const CHAR_WIDTH = FONT_SIZE * 0.62;
const BAR_ROW = 18;
const LABEL_ROW = 14;

function textWidth(text: string): number {
  return [...text].length * CHAR_WIDTH;
}

/** Picks the first row where [from, to] overlaps nothing already placed (rows hold occupied spans). */
function placeInRow(rows: Array<Array<[number, number]>>, from: number, to: number): number {
  let row = rows.findIndex((spans) => spans.every(([a, b]) => to + 6 <= a || from >= b + 6));
  if (row === -1) {
    row = rows.length;
    rows.push([]);
  }
  rows[row]!.push([from, to]);
  return row;
}

/** Where a mark's label goes: its row below the axis and the x its text starts at. */
export interface LabelPlacement {
  row: number;
  textX: number;
}

/**
 * Places the labels of marks on an axis in rows below it, each joined to its
 * mark by a vertical leader line. Marks are taken right to left; each label
 * goes to the first row where it fits, starting just left of its mark (or
 * ending just right of it, when no mark still to place is under it) and where
 * its leader line crosses no label in the rows above. Only when no such row exists (marks a pixel apart) a crossing is
 * accepted, in the first row where the label fits.
 */
export function placeLabels(marks: Array<{ x: number; width: number }>, minX: number, maxX: number): LabelPlacement[] {
  const rows: Array<Array<[number, number]>> = [];
  const free = (row: number, from: number, to: number, gap: number) => (rows[row] ?? []).every(([a, b]) => to + gap <= a || from >= b + gap);
  const leaderFree = (row: number, x: number) => Array.from({ length: row }, (_, r) => r).every((r) => free(r, x - 1, x + 1, 1));
  const placements: LabelPlacement[] = marks.map(() => ({ row: 0, textX: 0 }));
  const order = marks.map((_, index) => index).sort((a, b) => marks[b]!.x - marks[a]!.x || b - a);
  for (const [done, index] of order.entries()) {
    const { x, width } = marks[index]!;
    // Ending at the mark is an option only over no mark still to place (its leader would cross).
    const pending = order.slice(done + 1).map((other) => marks[other]!.x);
    const rightward = x - 3;
    const leftward = x + 3 - width;
    const inBounds = (start: number) => start >= minX && start + width <= maxX;
    let sides = [rightward, ...(pending.some((other) => other >= leftward - 2) ? [] : [leftward])].filter(inBounds);
    if (sides.length === 0) sides = [leftward].filter(inBounds);
    if (sides.length === 0) sides = [Math.max(minX, Math.min(rightward, maxX - width))];
    const fitting = (row: number) => sides.find((start) => free(row, start, start + width, 6));
    let row = 0;
    while (leaderFree(row, x) && fitting(row) === undefined) row += 1;
    while (fitting(row) === undefined) row += 1;
    const textX = fitting(row)!;
    placements[index] = { row, textX };
    for (let r = 0; r < row; r += 1) (rows[r] ??= []).push([x - 1, x + 1]);
    (rows[row] ??= []).push([textX, textX + width]);
  }
  return placements;
}

function niceStep(spanMs: number): number {
  const steps = [100, 200, 250, 500, 1000, 2000, 5000, 10_000, 15_000, 30_000, 60_000, 120_000, 300_000, 600_000, 1_800_000, 3_600_000];
  return steps.find((step) => spanMs / step <= 16) ?? 3_600_000;
}

function markShape(kind: string, x: number, y: number): string {
  const px = (n: number) => n.toFixed(1);
  switch (kind) {
    case 'lock-held':
    case 'lock-released':
      return `<rect class="m" x="${px(x - 4.5)}" y="${px(y - 4.5)}" width="9" height="9"/>`;
    case 'apply-killed':
    case 'plan-failed':
    case 'replay-error':
    case 'grader-error':
      return `<path class="m x" d="M${px(x - 5)} ${px(y - 5)}L${px(x + 5)} ${px(y + 5)}M${px(x + 5)} ${px(y - 5)}L${px(x - 5)} ${px(y + 5)}"/>`;
    case 'script-start':
      return `<path class="m" d="M${px(x - 1)} ${px(y - 6)}L${px(x + 6)} ${px(y)}L${px(x - 1)} ${px(y + 6)}Z"/>`;
    case 'script-end':
      return `<path class="m" d="M${px(x + 1)} ${px(y - 6)}L${px(x - 6)} ${px(y)}L${px(x + 1)} ${px(y + 6)}Z"/>`;
    case 'harness-plan':
      return `<path class="m" d="M${px(x)} ${px(y - 6)}L${px(x + 6)} ${px(y)}L${px(x)} ${px(y + 6)}L${px(x - 6)} ${px(y)}Z"/>`;
    default:
      return `<circle class="m" cx="${px(x)}" cy="${px(y)}" r="4.5"/>`;
  }
}

function kindClass(kind: string): string {
  return /^[a-z0-9-]+$/.test(kind) ? `k-${kind}` : 'k-other';
}

/**
 * The lock timeline as inline SVG: one lane per challenge, a mark (with a
 * data-event attribute = its index in result.timeline) and a label per event,
 * bars for the intervals that pair up, a time axis in seconds.
 */
export function renderTimelineSvg(timeline: TimelineEvent[]): string {
  if (timeline.length === 0) return '';
  const maxMs = Math.max(1, ...timeline.map((event) => event.at_ms));
  const minMs = Math.min(0, ...timeline.map((event) => event.at_ms));
  const step = niceStep(maxMs - minMs);
  const domainStart = Math.floor(minMs / step) * step;
  const domainEnd = Math.max(step, Math.ceil((maxMs + step * 0.02) / step) * step);
  const x = (ms: number) => PLOT_LEFT + ((ms - domainStart) / (domainEnd - domainStart)) * (PLOT_RIGHT - PLOT_LEFT);
  const intervals = timelineIntervals(timeline);
  const challenges = [...new Set(timeline.map((event) => event.challenge))].sort((a, b) => a - b);

  const AXIS_TOP = 34;
  let y = AXIS_TOP + 14;
  const lanes: string[] = [];
  const backgrounds: string[] = [];
  for (const [laneIndex, challenge] of challenges.entries()) {
    const laneTop = y;
    const parts: string[] = [];
    // Bars, each in the first row where it and its label fit.
    const barRows: Array<Array<[number, number]>> = [];
    const bars = intervals
      .filter((interval) => interval.challenge === challenge)
      .sort((a, b) => (a.kind === 'script-running' ? 1 : 0) - (b.kind === 'script-running' ? 1 : 0) || a.start_ms - b.start_ms)
      .map((interval) => {
        const x1 = x(interval.start_ms);
        const x2 = Math.max(x(interval.end_ms), x1 + 3);
        const text = `${interval.label} ${seconds(interval.end_ms - interval.start_ms)}${interval.closed ? '' : ' (no end recorded)'}`;
        const width = textWidth(text);
        const inside = interval.kind !== 'lock-orphaned' && x2 - x1 >= width + 10;
        const rightOfBar = x2 + 5 + width <= PLOT_RIGHT;
        const textX = inside ? x1 + 5 : rightOfBar || x1 - 5 - width < PLOT_LEFT ? x2 + 5 : x1 - 5 - width;
        const row = placeInRow(barRows, Math.min(x1, textX), Math.max(x2, textX + width));
        return { interval, x1, x2, text, textX, inside, row };
      });
    const barsTop = laneTop + 10;
    for (const bar of bars) {
      const top = barsTop + bar.row * BAR_ROW;
      const title = `${bar.interval.label}: ${seconds(bar.interval.start_ms)} → ${seconds(bar.interval.end_ms)}${bar.interval.closed ? '' : ' (no closing event recorded)'}`;
      parts.push(
        `<g class="bar b-${bar.interval.kind}${bar.interval.closed ? '' : ' open'}"><title>${esc(title)}</title>` +
          `<rect x="${bar.x1.toFixed(1)}" y="${top}" width="${(bar.x2 - bar.x1).toFixed(1)}" height="${BAR_ROW - 5}" rx="3"/>` +
          `<text class="bl${bar.inside ? ' in' : ''}" x="${bar.textX.toFixed(1)}" y="${top + BAR_ROW - 8}">${esc(bar.text)}</text></g>`,
      );
    }
    // The event axis, then one mark per event with its label below. Labels are
    // placed right to left, each in the first row where neither it nor its
    // leader line (through the rows above) touches what is already placed, so
    // no leader line crosses a label.
    const axisY = barsTop + barRows.length * BAR_ROW + 12;
    const marks = timeline
      .map((event, index) => ({ event, index }))
      .filter(({ event }) => event.challenge === challenge)
      .map(({ event, index }) => ({ event, index, mx: x(event.at_ms), label: eventLabel(event) }));
    const placements = placeLabels(
      marks.map((mark) => ({ x: mark.mx, width: textWidth(`${mark.index + 1} ${mark.label}`) })),
      PLOT_LEFT - 20,
      SVG_WIDTH - 6,
    );
    const rowCount = Math.max(1, ...placements.map((placement) => placement.row + 1));
    const labelsTop = axisY + 22;
    const laneBottom = labelsTop + (rowCount - 1) * LABEL_ROW + 12;
    backgrounds.push(`<rect class="lane${laneIndex % 2 ? ' odd' : ''}" x="0" y="${laneTop}" width="${SVG_WIDTH}" height="${laneBottom - laneTop}"/>`);
    parts.unshift(
      `<text class="lt" x="12" y="${laneTop + 22}">Challenge ${challenge}</text>` +
        `<text class="ls" x="12" y="${laneTop + 38}">${esc(CHALLENGE_TITLES[challenge])}</text>` +
        `<text class="ls" x="12" y="${laneTop + 54}">${plural(marks.length, 'event')}</text>` +
        `<line class="ea" x1="${PLOT_LEFT}" y1="${axisY}" x2="${PLOT_RIGHT}" y2="${axisY}"/>`,
    );
    for (const [i, mark] of marks.entries()) {
      const { row, textX } = placements[i]!;
      const labelY = labelsTop + row * LABEL_ROW;
      const { event } = mark;
      parts.push(
        `<g class="ev ${kindClass(event.kind)}" data-event="${mark.index}" data-kind="${esc(event.kind)}" data-at-ms="${event.at_ms}">` +
          `<title>${esc(`#${mark.index + 1} at ${seconds(event.at_ms, 3)} · challenge ${event.challenge} · ${event.kind}\n${event.detail}`)}</title>` +
          `<line class="ll" x1="${mark.mx.toFixed(1)}" y1="${axisY + 6}" x2="${mark.mx.toFixed(1)}" y2="${labelY - 9}"/>` +
          markShape(event.kind, mark.mx, axisY) +
          `<text class="el" x="${textX.toFixed(1)}" y="${labelY}"><tspan class="n">${mark.index + 1}</tspan> ${esc(mark.label)}</text></g>`,
      );
    }
    lanes.push(`<g class="lane-${challenge}" data-challenge="${challenge}">${parts.join('')}</g>`);
    y = laneBottom + 6;
  }
  const height = y + 26;

  const ticks: string[] = [];
  for (let ms = domainStart; ms <= domainEnd + 1e-9; ms += step) {
    const tx = x(ms).toFixed(1);
    const label = `${Number((ms / 1000).toFixed(3))} s`;
    ticks.push(
      `<line class="grid" x1="${tx}" y1="${AXIS_TOP}" x2="${tx}" y2="${height - 22}"/>` +
        `<text class="tick" x="${tx}" y="${AXIS_TOP - 6}">${label}</text>` +
        `<text class="tick" x="${tx}" y="${height - 8}">${label}</text>`,
    );
  }
  const style = [
    'text{font:11px "DejaVu Sans Mono",ui-monospace,Menlo,Consolas,monospace;fill:#1f2937}',
    '.tick{text-anchor:middle;fill:#6b7280}',
    '.axis-title{font:600 12px system-ui,"DejaVu Sans",sans-serif;fill:#374151}',
    '.grid{stroke:#e5e7eb;stroke-width:1}',
    '.lane{fill:#ffffff}.lane.odd{fill:#f8fafc}',
    '.lt{font:700 13px system-ui,"DejaVu Sans",sans-serif}',
    '.ls{font:11px system-ui,"DejaVu Sans",sans-serif;fill:#6b7280}',
    '.ea{stroke:#9ca3af;stroke-width:1.5}',
    '.ll{stroke:#9ca3af;stroke-width:0.8;stroke-dasharray:2 2}',
    '.el,.bl{paint-order:stroke;stroke:#ffffff;stroke-width:3px;stroke-linejoin:round}',
    '.bl.in{stroke:none;fill:#ffffff;font-weight:700}',
    '.b-lock-held rect{fill:#d97706}',
    '.b-lock-orphaned rect{fill:url(#hatch);stroke:#b91c1c;stroke-width:1}',
    '.b-lock-orphaned .bl.in{fill:#7f1d1d;paint-order:stroke;stroke:#fff;stroke-width:3px}',
    '.b-script-running rect{fill:#2563eb}',
    '.bar.open rect{stroke-dasharray:4 3;stroke:#111827;stroke-width:1;opacity:.75}',
    '.m{stroke:#ffffff;stroke-width:1}',
    '.k-lock-held .m{fill:#d97706}.k-lock-released .m{fill:#16a34a}',
    '.m.x{stroke-width:3;stroke-linecap:round}',
    '.k-apply-killed .m.x,.k-plan-failed .m.x{stroke:#dc2626}.k-replay-error .m.x,.k-grader-error .m.x{stroke:#7c3aed}',
    '.k-script-start .m,.k-script-end .m{fill:#2563eb}',
    '.k-learner-terraform .m{fill:#7c3aed}',
    '.k-harness-plan .m{fill:#0d9488}',
    '.k-other .m{fill:#6b7280}',
    '.k-replay-error .el,.k-grader-error .el,.k-apply-killed .el,.k-plan-failed .el{fill:#b91c1c}',
    '.k-lock-held .el,.k-lock-released .el{font-weight:700}',
    '.el .n{fill:#6b7280;font-weight:400}',
  ].join('');
  return (
    `<svg class="timeline" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${SVG_WIDTH} ${height}" width="${SVG_WIDTH}" height="${height}" role="img" aria-labelledby="timeline-title">` +
    `<title id="timeline-title">Lock timeline: ${plural(timeline.length, 'event')} in ${plural(challenges.length, 'challenge')} over ${seconds(maxMs)}</title>` +
    `<defs><pattern id="hatch" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)"><rect width="6" height="6" fill="#fee2e2"/><line x1="0" y1="0" x2="0" y2="6" stroke="#dc2626" stroke-width="2.5"/></pattern></defs>` +
    `<style>${style}</style>` +
    `<rect x="0" y="0" width="${SVG_WIDTH}" height="${height}" fill="#ffffff"/>` +
    `<text class="axis-title" x="12" y="${AXIS_TOP - 6}">time since start</text>` +
    backgrounds.join('') +
    ticks.join('') +
    lanes.join('') +
    `</svg>`
  );
}

// ---------------------------------------------------------------- page

const STATUS_TEXT: Record<CheckResult['status'], string> = { pass: 'pass', fail: 'fail', error: 'not graded', skipped: 'skipped' };

function badge(status: string, text = status): string {
  return `<span class="badge s-${esc(status)}">${esc(text)}</span>`;
}

function renderChecks(checks: CheckResult[]): string {
  const challenges = [...new Set(checks.map((check) => check.challenge))].sort((a, b) => a - b);
  const body = challenges
    .map((challenge) => {
      const own = checks.filter((check) => check.challenge === challenge);
      const counted = own.filter((check) => check.status !== 'skipped');
      const score = counted.reduce((sum, check) => sum + check.score, 0);
      const max = counted.reduce((sum, check) => sum + check.max_score, 0);
      const subtotal = counted.length ? `${score} / ${max}` : 'not asked';
      const rows = own
        .map((check) => {
          const replay = check.id.includes('.replay.');
          return (
            `<tr class="check st-${check.status}" id="check-${esc(check.id)}">` +
            `<td class="id"><code>${esc(check.id)}</code>${replay ? '<div class="note">harness check: the lab itself worked</div>' : ''}</td>` +
            `<td>${badge(check.status, STATUS_TEXT[check.status] ?? check.status)}</td>` +
            `<td class="pts">${check.status === 'skipped' ? '–' : `${check.score} / ${check.max_score}`}</td>` +
            `<td class="fb">${esc(check.feedback)}</td></tr>`
          );
        })
        .join('');
      return `<tbody><tr class="ch"><th colspan="4">Challenge ${challenge} · ${esc(CHALLENGE_TITLES[challenge] ?? '')}<span class="sub">${esc(subtotal)}</span></th></tr>${rows}</tbody>`;
    })
    .join('');
  return `<table class="checks"><thead><tr><th>check</th><th>status</th><th>points</th><th>feedback</th></tr></thead>${body}</table>`;
}

function renderScripts(scripts: ScriptRun[]): string {
  if (scripts.length === 0) return '<p class="muted">No learner script ran.</p>';
  return scripts
    .map((script) => {
      const ended = script.timed_out ? 'stopped at the time limit' : script.exit_code === null ? `killed by ${script.signal ?? 'a signal'}` : `exit ${script.exit_code}`;
      const ok = !script.timed_out && script.exit_code === 0;
      return (
        `<details class="script"><summary>${badge(ok ? 'pass' : 'fail', ended)} <code>${esc(script.script)}</code> <span class="muted">challenge ${script.challenge} · ${seconds(script.duration_ms)} · ${plural(script.output.split('\n').filter(Boolean).length, 'line')} of output</span></summary>` +
        `<pre>${script.output ? esc(script.output) : '<span class="muted">(no output)</span>'}</pre>` +
        `${script.output_truncated ? '<p class="muted">Output was cut at the size limit.</p>' : ''}</details>`
      );
    })
    .join('');
}

function renderEventTable(timeline: TimelineEvent[]): string {
  const rows = timeline
    .map(
      (event, index) =>
        `<tr><td class="num">${index + 1}</td><td class="num">${esc(seconds(event.at_ms, 3))}</td><td class="num">${event.challenge}</td><td><code>${esc(event.kind)}</code></td><td class="fb"><code>${esc(event.detail)}</code></td></tr>`,
    )
    .join('');
  return `<details class="events"><summary>All ${plural(timeline.length, 'event')} as a table</summary><table class="events"><thead><tr><th>#</th><th>at</th><th>challenge</th><th>kind</th><th>detail</th></tr></thead><tbody>${rows}</tbody></table></details>`;
}

const LEGEND =
  '<ul class="legend">' +
  '<li><span class="sw" style="background:#d97706"></span>lock held (lock-held → lock-released / apply-killed)</li>' +
  '<li><span class="sw hatch"></span>orphaned lock (apply killed → learner force-unlock)</li>' +
  '<li><span class="sw" style="background:#2563eb"></span>learner script running</li>' +
  '<li><span class="dot" style="background:#7c3aed"></span>learner terraform/tofu call (→ exit code)</li>' +
  '<li><span class="dot" style="background:#0d9488"></span>harness plan</li>' +
  '<li><span class="cross">✕</span>kill, failed plan, error</li>' +
  '</ul>';

const PAGE_CSS = [
  '*{box-sizing:border-box}',
  'body{margin:0;background:#f3f4f6;color:#111827;font:14px/1.45 system-ui,-apple-system,"Segoe UI","DejaVu Sans",sans-serif}',
  'main{max-width:1320px;margin:0 auto;padding:20px}',
  'h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:0 0 10px}h3{font-size:15px;margin:14px 0 6px}',
  '.card{background:#fff;border:1px solid #e5e7eb;border-radius:8px;padding:16px 18px;margin:0 0 16px}',
  '.summary{display:flex;gap:28px;align-items:center;flex-wrap:wrap}.summary .meta{margin-left:auto;font-size:13px}',
  '.score{font-size:40px;font-weight:800;line-height:1}.score small{font-size:20px;color:#6b7280;font-weight:600}',
  '.meter{width:220px;height:10px;background:#e5e7eb;border-radius:5px;overflow:hidden;margin-top:8px}.meter span{display:block;height:100%;background:#16a34a}',
  '.meta{margin:0;display:grid;grid-template-columns:auto auto;gap:2px 12px;color:#374151}.meta dt{color:#6b7280}.meta dd{margin:0}',
  '.badge{display:inline-block;padding:1px 8px;border-radius:10px;font-size:12px;font-weight:700;color:#fff;white-space:nowrap}',
  '.s-pass{background:#16a34a}.s-fail{background:#dc2626}.s-error{background:#7c3aed}.s-skipped{background:#9ca3af}.s-graded{background:#2563eb}',
  'table{border-collapse:collapse;width:100%}th{text-align:left;font-size:12px;color:#6b7280;font-weight:600;border-bottom:1px solid #e5e7eb;padding:4px 8px}',
  'td{padding:3px 8px;border-bottom:1px solid #f3f4f6;vertical-align:top}',
  'tr.ch th{font-size:14px;color:#111827;font-weight:700;padding-top:12px;border-bottom:1px solid #d1d5db}tr.ch .sub{margin-left:12px}',
  'table.checks td.id{width:260px}table.checks td.pts{width:80px;white-space:nowrap;font-variant-numeric:tabular-nums}table.checks td:nth-child(2){width:100px}table.checks{font-size:13px}',
  'tr.st-skipped td{color:#9ca3af}td.fb{white-space:pre-wrap;word-break:break-word}',
  '.sub{font-weight:600;color:#6b7280;margin-left:8px}.note{font-size:11px;color:#6b7280}.muted{color:#6b7280}',
  '.error{border-color:#fca5a5;background:#fef2f2}',
  'code,pre{font-family:"DejaVu Sans Mono",ui-monospace,Menlo,Consolas,monospace;font-size:12px}',
  'pre{background:#111827;color:#e5e7eb;padding:10px 12px;border-radius:6px;overflow:auto;max-height:480px;white-space:pre-wrap;word-break:break-word}',
  'details.script{border:1px solid #e5e7eb;border-radius:6px;padding:6px 10px;margin:6px 0}summary{cursor:pointer}',
  '.tl{overflow-x:auto}svg.timeline{display:block;max-width:100%;height:auto;border:1px solid #e5e7eb;border-radius:6px}',
  '.legend{list-style:none;padding:0;margin:0 0 10px;display:flex;flex-wrap:wrap;gap:4px 18px;font-size:12px;color:#374151}',
  '.legend .sw{display:inline-block;width:22px;height:10px;border-radius:2px;margin-right:6px;vertical-align:middle}',
  '.legend .hatch{background:repeating-linear-gradient(45deg,#dc2626 0 2px,#fee2e2 2px 6px);outline:1px solid #b91c1c}',
  '.legend .dot{display:inline-block;width:10px;height:10px;border-radius:5px;margin-right:6px;vertical-align:middle}',
  '.legend .cross{color:#dc2626;font-weight:800;margin-right:6px}',
  'table.events td.num{font-variant-numeric:tabular-nums;white-space:nowrap;width:70px}details.events{margin-top:10px}',
  'footer{color:#6b7280;font-size:12px;margin:8px 0 24px}',
].join('\n');

/** The whole report page. */
export function renderHtmlReport(result: GradeResult): string {
  const counted = result.checks.filter((check) => check.status !== 'skipped');
  const passed = counted.filter((check) => check.status === 'pass').length;
  const failed = counted.filter((check) => check.status === 'fail').length;
  const errored = counted.filter((check) => check.status === 'error').length;
  const percent = result.max_score > 0 ? Math.round((result.score / result.max_score) * 100) : 0;
  const timeline = result.timeline ?? [];
  const terraform = result.environment.terraform;
  const environment = [
    ['terraform', `${terraform.binary} ${terraform.version}`],
    ['backend', result.environment.backend_description ? `${result.environment.backend} — ${result.environment.backend_description}` : result.environment.backend],
    ...(result.environment.sandbox ? [['sandbox', result.environment.sandbox]] : []),
    ['duration', seconds(result.duration_ms, 1)],
  ];
  const title = `lockgrader report: ${result.score}/${result.max_score} (${result.status})`;
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="lockgrader">
<title>${esc(title)}</title>
<style>
${PAGE_CSS}
</style>
</head>
<body>
<main>
<section class="card summary">
<div><h1>Implementing Distributed State Locking</h1><div class="muted">lab <code>${esc(result.lab)}</code> · ${badge(result.status === 'graded' ? 'graded' : 'error', result.status)}</div></div>
<div><div class="score">${result.score}<small> / ${result.max_score}</small></div><div class="meter" title="${percent}%"><span style="width:${percent}%"></span></div></div>
<div>${badge('pass', `${passed} passed`)} ${badge('fail', `${failed} failed`)} ${errored ? badge('error', `${errored} not graded`) : ''}</div>
<dl class="meta">${environment.map(([name, value]) => `<dt>${esc(name ?? '')}</dt><dd>${esc(value ?? '')}</dd>`).join('')}</dl>
</section>
${result.error ? `<section class="card error"><h2>The grading could not complete</h2><p><code>${esc(result.error.code)}</code> ${esc(result.error.message)}</p><p>No points were lost for it: checks that could not be judged are marked “not graded”.</p></section>` : ''}
<section class="card"><h2>Checks</h2>${renderChecks(result.checks)}</section>
<section class="card"><h2>Lock timeline</h2>
${timeline.length ? `${LEGEND}<div class="tl">${renderTimelineSvg(timeline)}</div>${renderEventTable(timeline)}` : '<p class="muted">No lock events were recorded in this run.</p>'}
</section>
<section class="card"><h2>Learner scripts</h2>${renderScripts(result.scripts ?? [])}</section>
<footer>Generated by lockgrader. Hidden values (author notes) are not part of this page; graders show them in the feedback with <code>--reveal</code>.</footer>
</main>
</body>
</html>
`;
}

/** Writes the report page to file (`grade --report FILE.html`), creating its folder. */
export async function writeHtmlReport(result: GradeResult, file: string): Promise<void> {
  await mkdir(path.dirname(path.resolve(file)), { recursive: true });
  await writeFile(file, renderHtmlReport(result));
}

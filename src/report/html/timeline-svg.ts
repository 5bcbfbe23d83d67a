// The lock timeline as inline SVG: lanes, marks, bars and non-overlapping labels.
import type { TimelineEvent } from '../../grading/types.ts';
import { CHALLENGE_TITLES, esc, plural, seconds } from './format.ts';
import { eventLabel, timelineIntervals } from './timeline-model.ts';

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


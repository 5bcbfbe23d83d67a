// The page: score, checks, scripts, the timeline and the event table, in one
// self-contained HTML document.
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { CheckResult, GradeResult, ScriptRun, TimelineEvent } from '../../grading/types.ts';
import { CHALLENGE_TITLES, esc, plural, seconds } from './format.ts';
import { renderTimelineSvg } from './timeline-svg.ts';
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


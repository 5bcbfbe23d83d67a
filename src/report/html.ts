// The HTML report (`grade --report FILE.html`): one self-contained page (inline
// CSS and SVG, no external assets, no JavaScript) for learners and authors.
// Split by concern: format.ts (escaping), html/timeline-model.ts (what events
// mean), html/timeline-svg.ts (drawing), html/page.ts (the page).
// The HTML report (`grade --report FILE.html`): one self-contained page (inline
// CSS and SVG, no external assets, no JavaScript) for learners and authors:
// the score, every check with its feedback, every learner script's output and
// the lock timeline of the run. All text from the run is escaped. Author notes
// (hidden values) are left out, as in every learner-facing report; `--reveal`
// already puts them into the feedback for authors.
export { escapeHtml } from './html/format.ts';
export { eventLabel, timelineIntervals, type TimelineInterval } from './html/timeline-model.ts';
export { placeLabels, renderTimelineSvg, type LabelPlacement } from './html/timeline-svg.ts';
export { renderHtmlReport, writeHtmlReport } from './html/page.ts';

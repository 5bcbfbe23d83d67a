// The timeline model: what each event is called and which events pair into
// bars (lock held, orphaned lock, script running). Pure; drawn by timeline-svg.ts.
import type { ChallengeNumber, TimelineEvent } from '../../grading/types.ts';


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


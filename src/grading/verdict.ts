/** What a check decided, before points are attached. */
export interface Verdict {
  status: 'pass' | 'fail' | 'error';
  feedback: string;
  /** Hidden values for authors (shown with --reveal). */
  authorNotes?: string;
}

export function pass(feedback: string, authorNotes?: string): Verdict {
  return { status: 'pass', feedback, authorNotes };
}

export function fail(feedback: string, authorNotes?: string): Verdict {
  return { status: 'fail', feedback, authorNotes };
}

export function harnessError(feedback: string, authorNotes?: string): Verdict {
  return { status: 'error', feedback, authorNotes };
}

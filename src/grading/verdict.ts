/** What a check decided, before points are attached. */
export interface Verdict {
  status: 'pass' | 'fail' | 'error';
  feedback: string;
  /** Hidden values for authors (shown with --reveal). */
  authorNotes?: string;
  /** What the verdict rests on when it is not what the backend saw (transcript mode: "self-reported"). */
  evidence?: EvidenceKind;
}

/** backend: requests the backend saw; self-reported: files the learner wrote; static: the submission's text. */
export type EvidenceKind = 'backend' | 'self-reported' | 'static';

export function withEvidence(verdict: Verdict, evidence: EvidenceKind): Verdict {
  return { ...verdict, evidence };
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

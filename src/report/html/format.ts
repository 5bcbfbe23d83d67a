// Escaping and number formatting shared by the report's parts.
import type { ChallengeNumber } from '../../grading/types.ts';

export const CHALLENGE_TITLES: Record<ChallengeNumber, string> = {
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

export const esc = escapeHtml;

export function seconds(ms: number, digits = 2): string {
  return `${(ms / 1000).toFixed(digits)} s`;
}

export function plural(count: number, word: string): string {
  return `${count} ${word}${count === 1 ? '' : 's'}`;
}


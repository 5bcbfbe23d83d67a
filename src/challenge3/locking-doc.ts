// The transparent heuristic for challenge3/LOCKING.md. Three rules, checked in
// this order; the verdict names the first one that failed (`rule`) and says why
// (`reason`, written to follow "LOCKING.md "), and `found`/`missing` always list
// the term groups:
//
// 1. `recommends-unlocked-write`: no clause may recommend -lock=false (or
//    "disabling the lock") for a write. A clause recommends it when it names the
//    flag and a write (apply, destroy, import, refresh, taint, state mv/rm/push,
//    "write", "deploy"), uses a recommending word (use, run, pass, fine, ok, safe,
//    can, should, when the lock is stuck, ...), and carries no warning (never,
//    not, avoid, dangerous, corrupt, overwrite, lost, ...) and no "only for
//    plan/read-only", and does not describe writes running together (at the
//    same time, concurrently, overlaps, while another apply runs, two at once: the danger
//    itself, unless the clause opens with an order: "Use ... while another apply
//    is running"). Clauses are split at ';', ': ', 'but', 'because', 'since' and
//    'otherwise'; a clause is excused when the next one points back at it and
//    condemns it ("...; this is wrong", "..., but that is how states get
//    corrupted": a danger word and no negation). A fenced code line that runs a
//    state-writing command with locking off (read by script-scan.ts) counts as
//    recommended unless the prose sentence just before it warns, or it sets up a
//    demonstration (two at once, "what happens") and the sentence just after the
//    block condemns it.
// 2. `missing-terms`: each of LOCKING_DOC_GROUPS must be matched at least once:
//    the flag, that it is for read-only commands, and what goes wrong for writes
//    (when rule 3 fails too, the reason says so as well).
// 3. `no-sentences`: the text must hold at least MIN_SENTENCES sentences of at
//    least MIN_WORDS words that have a verb-ish structure: an auxiliary, modal or
//    common verb (is, are, can, will, should, does, has, takes, prevents, ...), an
//    imperative start (Use, Run, Never, Avoid, ...), or a verb of the topic
//    (corrupt, overwrite, write, lose, ...) together with a determiner or pronoun
//    (the, a, its, it, they, ...), or a subject pronoun before a word ("they
//    never touch the state"), which term lists lack. Headings, list items and
//    table rows are units of their own; code blocks are not prose. So a keyword
//    list ("-lock=false read-only corrupt", bullets of single words, or a comma
//    list of terms) fails. A sentence ending in . ! ? with three grammar words
//    (the, to, of, in, for, ...) counts whatever its verb.

import { findUnlockedWrites } from '../analysis/script-scan.ts';

interface TermGroup {
  name: string;
  want: string;
  terms: Array<{ label: string; pattern: RegExp }>;
}

export const LOCKING_DOC_GROUPS: readonly TermGroup[] = [
  {
    name: 'names the flag',
    want: 'the flag itself, written as -lock=false',
    terms: [{ label: '-lock=false', pattern: /-lock\s*=\s*false/i }],
  },
  {
    name: 'read-only use',
    want: 'that it is only for read-only commands (e.g. "read-only", "only for plan/validate/show", "plan only reads the state")',
    terms: [
      { label: 'read-only', pattern: /read[\s-]?only/i },
      { label: 'only/just ... plan|validate|show|output', pattern: /\b(only|just|solely)\b[^.\n]{0,60}\b(plan|validate|show|output|fmt)\b/i },
      { label: 'never ... apply|write|destroy', pattern: /\b(never|not|don't|do not)\b[^.\n]{0,60}\b(apply|applies|write|writes|writing|destroy)\b/i },
      {
        label: 'does not write/modify/change state',
        pattern: /\b(does not|doesn't|do not|don't|never|won't|will not|cannot|can't)\s+(write|modify|change|touch|alter|save|persist|update|mutate)\b/i,
      },
      { label: 'non-mutating', pattern: /\bnon[\s-]?(mutating|modifying|writing)\b/i },
      { label: 'leaves the state untouched', pattern: /\b(leaves?|leaving)\s+(the\s+)?(state|state file|it)\s+(untouched|unchanged|alone|as it is)\b/i },
      { label: 'only reads/looks at', pattern: /\b(only|just|merely|simply)\s+(reads?|reading|looks?(?:ing)? at|inspects?|shows?|displays?|compares?)\b/i },
      { label: 'readers (plan, show)', pattern: /\breaders?\b[^.\n]{0,30}\b(plan|show|output|validate)\b/i },
      { label: 'changes/writes nothing', pattern: /\b(changes|writes|modifies) nothing\b|\bnothing (is|gets) (written|changed|saved|modified)\b/i },
    ],
  },
  {
    name: 'what goes wrong for writes',
    want: 'what goes wrong when a write runs unlocked (e.g. concurrent applies overwrite or corrupt the state, lost updates)',
    terms: [
      { label: 'corrupt', pattern: /corrupt/i },
      { label: 'overwrite/clobber', pattern: /overwrit|clobber/i },
      { label: 'race', pattern: /\brace\b|race condition/i },
      { label: 'concurrent/simultaneous/parallel/overlapping', pattern: /concurren|simultaneous|at the same time|in parallel|parallel|overlap|side[\s-]by[\s-]side|in the meantime|meanwhile|interleav/i },
      { label: 'two runs at once', pattern: /\b(two|2|several|multiple|both)\b[^.\n]{0,40}\bat once\b/i },
      { label: 'lost/lose updates', pattern: /\blos[te]\b|\blosing\b/i },
      { label: 'last writer wins', pattern: /\blast[\s-]+(writer|write|one|run|apply)\s+wins\b/i },
      { label: 'thrown away/discarded', pattern: /\b(throw(s|n|ing)?|threw)\s+away\b|\bdiscard\w*/i },
      { label: 'changes vanish', pattern: /\b(vanish\w*|disappear\w*|go(es)? missing|are gone|is gone)\b/i },
      { label: 'wiped out/replaced', pattern: /\bwip(e|es|ed|ing)\s+out\b|\berase[sd]?\b|\breplac(e|es|ed|ing)\b[^.\n]{0,40}\b(first|other|earlier|previous)\b/i },
      { label: 'conflict', pattern: /conflict/i },
      { label: 'inconsistent/drift', pattern: /inconsisten|\bdrift/i },
    ],
  },
];

export const MIN_SENTENCES = 2;
export const MIN_WORDS = 6;

export type LockingDocRule = 'recommends-unlocked-write' | 'no-sentences' | 'missing-terms';

export interface LockingDocJudgement {
  ok: boolean;
  found: string[];
  missing: string[];
  /** The rule that failed first (absent when ok). */
  rule?: LockingDocRule;
  /** Why it failed, written to follow "LOCKING.md " in feedback (absent when ok). */
  reason?: string;
}

/** Auxiliaries, modals and verbs that make a run of words a sentence (nouns like "changes" or "writes" are left out on purpose). */
const VERBISH = new RegExp(
  '\\b(' +
    [
      "is|are|was|were|be|been|being|am|isn't|aren't|wasn't|weren't",
      "can|cannot|can't|could|couldn't|will|won't|would|wouldn't|should|shouldn't|must|mustn't|may|might",
      "do|does|did|don't|doesn't|didn't|has|have|had|hasn't|haven't",
      'means|lets|makes|takes|keeps|prevents|protects|ensures|causes|happens|wins|waits|holds|loses|breaks|leaves|gives|tells|needs|allows|stops|blocks|acquires|releases|skips|gets|becomes|tries|fails|succeeds|retries|stays|remains|seems|appears|goes',
    ].join('|') +
    ')\\b',
  'i',
);
/** Verbs of this topic; they make a sentence only next to a determiner or pronoun ("two applies corrupt the state"), since in a term list they read as nouns. */
const TOPIC_VERB = /\b(corrupts?|overwrites?|clobbers?|loses?|writes?|reads?|runs?|takes?|holds?|waits?|changes?|appl(y|ies)|breaks?|leaves?|wins?|vanish(es)?|disappears?|replaces?|saves?|updates?|modif(y|ies)|protects?|prevents?|keeps?|blocks?|fails?|needs?|uses?|skips?)\b/i;
const DETERMINER = /\b(the|a|an|its|their|each|every|another|this|that|these|those|which|who|it|they|we|you|one|both|your|our)\b/i;
/**
 * A subject pronoun and the word after it, past an adverb ("they never touch the state", "we only inspect it"):
 * the verb may be one no list here has, and a term list has no subject pronouns. Function words after the
 * pronoun do not count ("it in a list").
 */
const SUBJECT_VERB =
  /\b(i|we|you|they|he|she|it)\s+(?:(?:never|always|only|just|also|still|then|often|usually|simply|merely|both|all|already|really)\s+)?(?!(?:the|a|an|and|or|of|to|in|on|for|with|at|by|from|as|is|are)\b)[a-z]{3,}\b/i;
/**
 * Grammar words: a sentence that ends with . ! or ? and holds three of them is
 * prose whatever its verb ("Some guides suggest adding -lock=false to apply in
 * CI to avoid waiting."); term lists have none, and no full stop.
 */
const FUNCTION_WORDS = /\b(the|a|an|to|of|in|for|and|or|with|that|this|from|by|on|at|as|if|when|because|so|than|into)\b/gi;
const MIN_FUNCTION_WORDS = 3;
/** Imperatives a sentence may start with ("Use -lock=false only for plan."). */
const IMPERATIVE = /^(use|run|never|always|avoid|pass|add|set|keep|make|let|do|don't|only|remember|note|prefer|wait|apply|plan|disable|enable|give)\b/i;

const FLAG = /-lock\s*=\s*(false|0|f)\b|\b(disabl\w*|turn\w* off|switch\w* off|skip\w*)\s+(the\s+)?(state\s+)?lock(ing)?\b|\bwithout\s+(a|the|any)\s+(state\s+)?lock\b/i;
const WRITE =
  /\b(apply|applies|applying|destroy\w*|import\w*|refresh\w*|taint\w*|untaint\w*|state\s+(mv|rm|push|replace-provider)|writes?|writing|deploy\w*|modif\w+)\b|TF_?CLI_?ARGS_?(apply|destroy|import|refresh|taint|untaint)\b/i;
const RECOMMENDING =
  /\b(use|using|run|runs|running|pass|passes|passed|add|set|try|fine|ok|okay|safe|safely|acceptable|recommend\w*|prefer\w*|always|gets|given|default|standard|should|can|may|allowed|works?|helps?|just|simply|go ahead|feel free|stuck|unblock|bypass|speed\w*|faster|quick\w*)\b/i;
/**
 * Negations that are about waiting, not about the flag: "pass -lock=false to apply so the pipeline never waits",
 * "instead of waiting", "no job ever hangs". They do not make a clause a warning.
 */
const NOT_WAITING =
  /\b(?:never|not|no|don't|doesn't|won't|isn't|without|instead of)\b(?:\s+\w+){0,3}?\s+(?:wait\w*|hang\w*|block\w*|stall\w*|slow\w*|stuck|delay\w*|time\s*outs?|timing out|queue\w*)\b/gi;
/** A danger said not to be one ("is not dangerous", "no risk", "harmless", "can't hurt", "won't corrupt anything"): it recommends. */
const REASSURANCE =
  /\b(?:not|no|never|isn't|without|zero|nothing)\b(?:\s+\w+){0,2}?\s+(?:danger\w*|risk\w*|harm\w*|problems?|issues?|unsafe|hurt|wrong|worry|concern\w*)\b|\bharmless\b|\brisk[\s-]free\b|\b(?:can't|cannot|won't|will not|doesn't|does not)\s+(?:\w+\s+)?(?:hurt|harm|corrupt\w*|overwrit\w*|clobber\w*|lose|break)\b/gi;
/** Double negatives that ask for it ("never forget", "don't skip"): no warning. */
const INSISTING = /\b(?:never|don't|do not|not)\s+(?:forget|skip|omit|miss|leave out)\b/gi;
/** A clause that opens with a write given as an order ("Apply with -lock=false in CI", "Always destroy with -lock=false"). */
const WRITE_ORDER = /^\W*(?:(?:always|just|simply|then|so|now)\s+)?(apply|destroy|import|refresh|taint|untaint)\b/i;

/** A good word negated ("is not harmless", "never safe", "not a good idea"): a warning, whatever else the clause says. */
const NEGATED_GOOD = /\b(?:not|never|isn't|aren't|no longer)\s+(?:\w+\s+)?(?:harmless|risk[\s-]free|safe\w*|fine|ok|okay|acceptable|allowed|a good idea)\b/i;

/** The clause with its non-warnings taken out: negations about waiting, reassurances, double negatives. */
function withoutFalseWarnings(clause: string): string {
  if (NEGATED_GOOD.test(clause)) return clause;
  return clause.replace(NOT_WAITING, ' ').replace(REASSURANCE, ' ').replace(INSISTING, ' ');
}
const WARNING =
  /\b(never|not|no|nothing|don't|do not|doesn't|dont|cannot|can't|shouldn't|mustn't|won't|reject(?:ed|s)?\s+(?:it|this|that|the idea)|decided against|ruled\s+(?:it\s+|this\s+|that\s+)?out|avoid\w*|dangerous|danger|unsafe|risk\w*|corrupt\w*|overwrit\w*|clobber\w*|lose|loses|lost|losing|race\w*|conflict\w*|instead|rather than|bad|wrong|harm\w*|breaks?|careful|forbidden|prohibited|banned|disallowed)\b|n't\b/i;
const ONLY_READS = /\bonly\b[^.;]{0,40}\b(plan|validate|show|output|read[\s-]?only|reads?|reading)\b/i;
/**
 * A clause that describes writes running together is describing the danger, not
 * recommending it ("A write without the lock can run at the same time as
 * another apply."; "Two applies without the lock can run at once.").
 */
const CONCURRENCY =
  /\bat the same time\b|\bconcurren\w*|\bsimultaneous\w*|\bin parallel\b|\b(two|2|several|multiple|both)\b[^.;\n]{0,40}\b(at once|together)\b|\b(while|during|alongside|in the middle of)\s+(another|a second|the other|the first|someone else)\b|\boverlap\w*/i;
/**
 * A clause that states a question or a misconception ("Q: Can I pass
 * -lock=false to apply?", "You might think -lock=false is a quick fix",
 * "Someone asked whether we could run apply with -lock=false") is excused
 * only when what follows rebuts it ("A: No.", "It is not: ...", "the answer is
 * no"); any other answer leaves it a recommendation.
 */
const MISCONCEPTION =
  /\?\s*$|\b(asked|ask|asks|wonder\w*)\s+(whether|if)\b|\b(might|may|could|would)\s+(think|assume|believe|be tempted)\b|\btempt\w*|\b(people|some|many|teams?|newcomers)\s+(often\s+|sometimes\s+|usually\s+)?(think|assume|believe)\b|\b(people|some people|many people|newcomers|colleagues|developers|users)\s+(often|sometimes|usually|occasionally)\s+(add|pass|use|run|try|reach for)\b/i;
const REBUTTAL =
  /^\W*(?:(?:a|answer)\s*:\s*)?(?:please\s+)?(no|nope|never|wrong|don't|do not|absolutely not|definitely not|certainly not|resist|avoid)\b|^\W*(it|that|this)\s+(is|was|'s)\s+(?:(?:exactly|simply|just|really|precisely)\s+)?(not\b(?!\s+(only|just|merely))|(?:the\s+)?wrong\b|a mistake\b|a bad idea\b|dangerous\b)|^\W*(it|that|this)\s+(isn't|wasn't)\b(?!\s+(only|just|merely))|\bthe answer is (no|never)\b/i;
/** An answer that grants it is possible and then says not to ("Technically yes, but you should not: ..."). */
const YES_BUT_NO =
  /^\W*(?:(?:a|answer)\s*:\s*)?(?:(?:technically|in theory|strictly speaking),?\s+)?(?:yes|it can|you can)\b[^.]*?\bbut\s+(?:you\s+|we\s+|one\s+)?(?:should not|shouldn't|should never|must not|mustn't|don't|do not|never)\b/i;
/**
 * A clause that condemns what came before it ("this is wrong", "that is exactly
 * how state files get corrupted"): it points back, names a danger and negates
 * nothing ("this is never wrong", "nothing gets corrupted" do not count).
 */
const POINTS_BACK = /^\s*(?:and\s+)?(?:this|that|it|which|doing (?:this|that|so))\b/i;
const DANGER = /\b(wrong|dangerous|danger|unsafe|mistake\w*|bad idea|risky|corrupt\w*|overwrit\w*|clobber\w*|lose|loses|lost|losing|race\w*|harm\w*)\b/i;
const NEGATION =
  /\b(no|not|never|nothing|none|without|avoid\w*|prevent\w*|cannot|can't|won't|don't|doesn't|isn't|aren't|wasn't|weren't|shouldn't|mustn't)\b|n't\b/i;
/** A sentence before a code block that sets up a demonstration of the danger ("Here is what happens when two people do this at once:"). */
const DEMONSTRATION = /\bwhat (happens|goes wrong)\b|\bimagine\b|\bsuppose\b/i;
/**
 * Where a sentence splits into clauses judged on their own: ';' and ': ', and
 * before "but", "because", "since", "otherwise", so that a reason given after a
 * recommendation ("Only use -lock=false for writes, because otherwise two writes
 * could corrupt the state"; "Use -lock=false for apply in CI: it is faster and
 * never waits") does not pass for a warning about it.
 */
const CLAUSE_BREAK = /;|:\s|,?\s+(?:but|because|since|otherwise)\s+/i;

interface Unit {
  text: string;
  code: boolean;
}

/** Splits markdown into units: prose paragraphs (wrapped lines joined), headings, list items, table rows, and code lines. */
function units(markdown: string): Unit[] {
  const out: Unit[] = [];
  let paragraph: string[] = [];
  let fence: string | undefined;
  const flush = (): void => {
    if (paragraph.length > 0) out.push({ text: paragraph.join(' '), code: false });
    paragraph = [];
  };
  for (const raw of markdown.replace(/\r\n?/g, '\n').split('\n')) {
    const line = raw.trim();
    const fenceMark = /^(`{3,}|~{3,})/.exec(line)?.[1];
    if (fence !== undefined) {
      if (fenceMark !== undefined && fenceMark[0] === fence[0] && fenceMark.length >= fence.length) fence = undefined;
      else if (line !== '') out.push({ text: line, code: true });
      continue;
    }
    if (fenceMark !== undefined) {
      flush();
      fence = fenceMark;
      continue;
    }
    if (line === '') {
      flush();
    } else if (/^(#{1,6}\s|([-*+]|\d+[.)])\s|\|)/.test(line)) {
      flush();
      paragraph.push(line.replace(/^(#{1,6}|[-*+]|\d+[.)])\s+/, '').replace(/\|/g, ' , '));
      if (line.startsWith('#') || line.startsWith('|')) flush();
    } else {
      paragraph.push(line.replace(/^>\s?/, ''));
    }
  }
  flush();
  return out;
}

/** Prose sentences of a unit: split after . ! ? and emphasis markers removed. */
function sentences(unit: Unit): string[] {
  return unit.text
    .replace(/(\*\*|__|\*|_(?=\w)|(?<=\w)_)/g, '')
    .split(/(?<=[.!?])\s+/)
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

/** Whether a sentence is a real one under rule 2. */
function isRealSentence(sentence: string): boolean {
  const words = sentence.split(/\s+/).filter((word) => /[A-Za-z]/.test(word));
  if (words.length < MIN_WORDS) return false;
  const grammar = /[.!?]$/.test(sentence) && (sentence.match(FUNCTION_WORDS) ?? []).length >= MIN_FUNCTION_WORDS;
  return grammar || VERBISH.test(sentence) || SUBJECT_VERB.test(sentence) || IMPERATIVE.test(sentence.replace(/^[^A-Za-z]+/, '')) || (TOPIC_VERB.test(sentence) && DETERMINER.test(sentence));
}

/** A clause that opens with an order to do it ("Use -lock=false for apply while another apply is running") recommends it even when it names writes running together. */
const ORDER = /^\W*(?:(?:just|simply|then|so|now)\s+)?(use|run|pass|add|set|try|go ahead|feel free)\b/i;

/** Praise in a clause about writes running together makes it a recommendation ("Both pipelines can apply at once with -lock=false, which is faster"). */
const PRAISE = /\b(faster|quicker|quick(ly)?|speed\w*|saves? time|efficient\w*|fine|ok|okay|safe(ly)?|good|better|best|recommend\w*|convenient\w*|easier|handy|useful)\b/i;

/** Whether a clause recommends -lock=false for a write (rule 1). */
function recommendsUnlockedWrite(clause: string): boolean {
  const describesDanger = CONCURRENCY.test(clause) && !ORDER.test(clause) && !PRAISE.test(clause);
  const plain = withoutFalseWarnings(clause);
  const reassures = plain !== clause.replace(NOT_WAITING, ' ');
  const recommends = RECOMMENDING.test(clause) || reassures || WRITE_ORDER.test(clause);
  return FLAG.test(clause) && WRITE.test(clause) && recommends && !WARNING.test(plain) && !describesDanger && !ONLY_READS.test(clause);
}

/** Shortens a quoted sentence for feedback. */
function quote(text: string): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return JSON.stringify(flat.length > 140 ? `${flat.slice(0, 140)}…` : flat);
}

/** Whether a clause points back at the one before it and condemns it. */
const NOT_WORTH = /^\s*(?:and\s+)?(?:this|that|it)\s+(?:(?:is|'s)\s+(?:not|never)|isn't)\s+worth\b/i;
function condemnsPrevious(clause: string | undefined): boolean {
  if (clause !== undefined && NOT_WORTH.test(clause)) return true;
  return clause !== undefined && POINTS_BACK.test(clause) && DANGER.test(clause) && !NEGATION.test(clause);
}

/** A concession ("may seem faster", "looks convenient", "tempting") whose next clause names a danger and negates nothing ("..., but two pipelines would then overwrite each other's state"). */
const HEDGE = /\b(seems?|seemed|appears?|appeared|looks?|sounds?|tempting)\b/i;
function concededThenCondemned(clause: string, next: string | undefined): boolean {
  return HEDGE.test(clause) && next !== undefined && DANGER.test(next) && !NEGATION.test(next);
}

/**
 * Whether a sentence recommends -lock=false for a write in a clause that what
 * follows does not answer: the next clause condemning it, or, for a question or
 * a misconception, the next clause (or the first clause of the next sentence)
 * rebutting it.
 */
function sentenceRecommends(sentence: string, nextSentence: string | undefined): boolean {
  const clauses = sentence.split(CLAUSE_BREAK);
  return clauses.some((clause, i) => {
    if (!recommendsUnlockedWrite(clause) || condemnsPrevious(clauses[i + 1]) || concededThenCondemned(clause, clauses[i + 1])) return false;
    const answer = clauses[i + 1] ?? nextSentence?.replace(/^\W*(?:a|answer)\s*:\s*/i, '').split(CLAUSE_BREAK)[0];
    const misconception = MISCONCEPTION.test(clause) || (i === clauses.length - 1 && /\?\s*$/.test(sentence));
    const wholeAnswer = i === clauses.length - 1 ? nextSentence?.replace(NOT_WAITING, ' ') : undefined;
    if (misconception && wholeAnswer !== undefined && YES_BUT_NO.test(wholeAnswer)) return false;
    return !(misconception && answer !== undefined && REBUTTAL.test(answer.replace(NOT_WAITING, ' ')));
  });
}

/** The first place the document recommends -lock=false for a write, quoted; undefined if none. */
function findRecommendation(all: Unit[]): string | undefined {
  let lastProse = '';
  /** A code line waiting for the sentence after its block: a demonstration is excused when that sentence condemns it. */
  let pending: string | undefined;
  for (const unit of all) {
    if (unit.code) {
      const [write] = findUnlockedWrites(unit.text);
      if (write === undefined || WARNING.test(withoutFalseWarnings(lastProse)) || pending !== undefined) continue;
      const found = `${quote(write.text)} (a code line${lastProse ? ` after ${quote(lastProse)}` : ''})`;
      if (!CONCURRENCY.test(lastProse) && !DEMONSTRATION.test(lastProse)) return found;
      pending = found;
      continue;
    }
    const list = sentences(unit);
    for (const [index, sentence] of list.entries()) {
      if (pending !== undefined) {
        if (!(DANGER.test(sentence) && !NEGATION.test(sentence))) return pending;
        pending = undefined;
      }
      if (sentenceRecommends(sentence, list[index + 1] ?? firstSentenceAfter(all, unit))) return quote(sentence);
      lastProse = sentence;
    }
  }
  return pending;
}

/** The first prose sentence of the units after `unit` (a question's answer may be a paragraph or list item of its own). */
function firstSentenceAfter(all: Unit[], unit: Unit): string | undefined {
  const next = all.slice(all.indexOf(unit) + 1).find((candidate) => !candidate.code);
  return next === undefined ? undefined : sentences(next)[0];
}

/** English words nearly every explanation uses; a text of some length with almost none of them is in another language. */
const ENGLISH_WORDS = new Set(['the', 'a', 'an', 'is', 'are', 'and', 'of', 'to', 'for', 'it', 'that', 'with', 'not', 'only', 'when', 'can', 'be', 'this', 'or', 'if']);

/** Whether the prose seems not to be English (at least 20 words, under 5 % of them common English words). */
export function seemsNotEnglish(text: string): boolean {
  const words = text
    .replace(/`[^`]*`/g, ' ')
    .toLowerCase()
    .match(/\p{L}+/gu) ?? [];
  if (words.length < 20) return false;
  return words.filter((word) => ENGLISH_WORDS.has(word)).length < words.length * 0.05;
}

const NOT_ENGLISH = '; it does not seem to be written in English, and this heuristic reads English only: a human should review it';

export function judgeLockingDoc(text: string): LockingDocJudgement {
  const judged = judgeEnglishDoc(text);
  return judged.ok || !seemsNotEnglish(text) ? judged : { ...judged, reason: `${judged.reason ?? ''}${NOT_ENGLISH}` };
}

function judgeEnglishDoc(text: string): LockingDocJudgement {
  const all = units(text);
  // Terms are looked for per unit, so a phrase wrapped over two lines of a paragraph ("two applies could write the / state at once") is found.
  const joined = all.map((unit) => unit.text).join('\n');
  const found: string[] = [];
  const missing: string[] = [];
  for (const group of LOCKING_DOC_GROUPS) {
    const hits = group.terms.filter((term) => term.pattern.test(joined)).map((term) => term.label);
    if (hits.length > 0) found.push(`${group.name}: ${hits.join(', ')}`);
    else missing.push(group.want);
  }

  const recommendation = findRecommendation(all);
  if (recommendation !== undefined) {
    return {
      ok: false,
      found,
      missing,
      rule: 'recommends-unlocked-write',
      reason: `recommends -lock=false for a command that writes state: ${recommendation}; -lock=false is only for read-only commands`,
    };
  }
  const real = all.filter((unit) => !unit.code).flatMap(sentences).filter(isRealSentence);
  const sentenceProblem =
    real.length < MIN_SENTENCES
      ? `it needs at least ${MIN_SENTENCES} sentences of ${MIN_WORDS} or more words with a verb (found ${real.length}), not a list of terms`
      : undefined;
  if (missing.length > 0) {
    const also = sentenceProblem === undefined ? '' : `; and ${sentenceProblem}`;
    return { ok: false, found, missing, rule: 'missing-terms', reason: `does not yet say ${missing.join('; nor ')}${also}` };
  }
  if (sentenceProblem !== undefined) {
    return { ok: false, found, missing, rule: 'no-sentences', reason: `names the right terms but explains nothing: ${sentenceProblem}, saying why -lock=false is for read-only commands and what goes wrong for writes` };
  }
  return { ok: true, found, missing };
}

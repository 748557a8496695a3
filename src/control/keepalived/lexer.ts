// keepalived.conf as words: comments ('!' or '#' outside quotes, '\!' and
// '\#' for the characters themselves), "double quoted" words, braces as
// words of their own, and `include GLOB` read in place (relative to the
// directory of the file that includes it). Each word keeps its file and line.
// What keepalived's reader knows but tapvs does not read ($NAME= parameters,
// @system_id line prefixes, ~SEQ / ~LST, the includer/includem/... forms)
// is refused by name, never skipped.
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';

export interface Where {
  file: string;
  line: number;
}

export interface Word extends Where {
  text: string;
  /** Written in quotes: never a brace, a keyword or a comment. */
  quoted: boolean;
}

/** One source line's words (a line may hold several statements: `url { path / }`). */
export interface LexLine extends Where {
  words: Word[];
  /** The line as written (comments removed), for keywords that read it raw (misc_path). */
  raw: string;
}

export interface LexError extends Where {
  message: string;
}

const MAX_INCLUDE_DEPTH = 16;

/** Expands a glob of `*`, `?` and `[...]` in the last path parts (as glob(3) does), sorted; no match: []. */
export function expandGlob(pattern: string): string[] {
  if (!/[*?[]/.test(pattern)) {
    try {
      return statSync(pattern).isFile() ? [pattern] : [];
    } catch {
      return [];
    }
  }
  const parts = pattern.split('/');
  let bases = [pattern.startsWith('/') ? '/' : '.'];
  for (let i = pattern.startsWith('/') ? 1 : 0; i < parts.length; i++) {
    const part = parts[i]!;
    if (part === '') continue;
    const last = i === parts.length - 1;
    const next: string[] = [];
    for (const b of bases) {
      if (!/[*?[]/.test(part)) {
        next.push(join(b, part));
        continue;
      }
      const re = new RegExp(`^${part.replace(/[.+^${}()|\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`);
      let names: string[] = [];
      try {
        names = readdirSync(b).filter((n) => !n.startsWith('.') && re.test(n)).sort();
      } catch {
        continue;
      }
      for (const n of names) next.push(join(b, n));
    }
    bases = last ? next : next.filter((p) => { try { return statSync(p).isDirectory(); } catch { return false; } });
  }
  return bases.filter((p) => { try { return statSync(p).isFile(); } catch { return false; } });
}

/** Splits one line into words; returns a message for an unterminated quote. */
function splitLine(text: string, where: Where): { words: Word[]; raw: string } | string {
  const words: Word[] = [];
  let cur = '';
  let inWord = false;
  let quoted = false;
  let raw = '';
  const push = (): void => {
    if (inWord) words.push({ text: cur, quoted, ...where });
    cur = '';
    inWord = false;
    quoted = false;
  };
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (ch === '"') {
      inWord = true;
      quoted = true;
      raw += ch;
      let closed = false;
      for (i++; i < text.length; i++) {
        const q = text[i]!;
        raw += q;
        if (q === '\\' && i + 1 < text.length) {
          cur += text[++i];
          raw += text[i];
        } else if (q === '"') {
          closed = true;
          break;
        } else cur += q;
      }
      if (!closed) return `Unterminated quote '${text.trim()}'`;
      continue;
    }
    if (ch === '\\' && (text[i + 1] === '#' || text[i + 1] === '!')) {
      cur += text[++i];
      raw += text[i];
      inWord = true;
      continue;
    }
    if (ch === '!' || ch === '#') break;
    raw += ch;
    if (ch === ' ' || ch === '\t' || ch === '\r' || ch === '\f' || ch === '\v') {
      push();
      continue;
    }
    if ((ch === '{' || ch === '}') && !quoted) {
      push();
      words.push({ text: ch, quoted: false, ...where });
      continue;
    }
    cur += ch;
    inWord = true;
  }
  push();
  return { words, raw: raw.trim() };
}

/**
 * Reads a keepalived.conf and everything it includes, in order. Returns the
 * lines with words, and every error found (file:line).
 */
export function lexKeepalived(path: string, read: (p: string) => string = (p) => readFileSync(p, 'utf8')): { lines: LexLine[]; errors: LexError[]; files: string[] } {
  const lines: LexLine[] = [];
  const errors: LexError[] = [];
  const files: string[] = [];
  const visit = (file: string, depth: number, from?: Where): void => {
    let text: string;
    try {
      text = read(file);
    } catch (e) {
      errors.push({ file: from?.file ?? file, line: from?.line ?? 0, message: `cannot read ${file}: ${(e as Error).message}` });
      return;
    }
    files.push(file);
    text.split('\n').forEach((l, i) => {
      const where = { file, line: i + 1 };
      const trimmed = l.replace(/^[ \t]+/, '');
      if (trimmed === '') return;
      if (trimmed.startsWith('$')) return void errors.push({ ...where, message: "parameter definitions ($NAME=...) are not supported by tapvs: write the values out" });
      if (trimmed.startsWith('@')) return void errors.push({ ...where, message: 'conditional lines (@system_id ...) are not supported by tapvs' });
      if (trimmed.startsWith('~SEQ') || trimmed.startsWith('~LST')) return void errors.push({ ...where, message: `${trimmed.slice(0, 4)} is not supported by tapvs: write the lines out` });
      if (/^include[rmwab][ \t]/.test(trimmed)) return void errors.push({ ...where, message: `'${trimmed.split(/[ \t]/)[0]}' is not supported by tapvs (plain 'include' is)` });
      const split = splitLine(l, where);
      if (typeof split === 'string') return void errors.push({ ...where, message: split });
      const { words, raw } = split;
      if (words.length === 0) return;
      if (words[0]!.text === 'include' && !words[0]!.quoted) {
        if (words.length !== 2) return void errors.push({ ...where, message: 'include needs one file name or pattern' });
        if (depth >= MAX_INCLUDE_DEPTH) return void errors.push({ ...where, message: `includes nested more than ${MAX_INCLUDE_DEPTH} deep` });
        const pattern = isAbsolute(words[1]!.text) ? words[1]!.text : resolve(dirname(file), words[1]!.text);
        const matched = expandGlob(pattern);
        if (matched.length === 0) return void errors.push({ ...where, message: `include ${words[1]!.text}: no file matches` });
        for (const m of matched) visit(m, depth + 1, where);
        return;
      }
      lines.push({ ...where, words, raw });
    });
  };
  visit(path, 0);
  return { lines, errors, files };
}

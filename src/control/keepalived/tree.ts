// keepalived.conf words into statements: a keyword, its arguments (the
// words up to a brace or the end of its line) and, after '{', a block of
// statements up to the matching '}'. keepalived reads the same shape.
import type { LexError, LexLine, Where, Word } from './lexer.js';

export interface Stmt extends Where {
  keyword: string;
  args: Word[];
  /** The statement's source line as written (comments removed). */
  raw: string;
  block?: Stmt[];
}

export function buildTree(lines: readonly LexLine[]): { stmts: Stmt[]; errors: LexError[] } {
  const errors: LexError[] = [];
  const root: Stmt[] = [];
  const stack: { list: Stmt[]; opener?: Stmt }[] = [{ list: root }];
  let last: Stmt | undefined;
  for (const l of lines) {
    let cur: Stmt | undefined;
    for (const w of l.words) {
      const top = stack[stack.length - 1]!;
      if (w.text === '{' && !w.quoted) {
        const opener = cur ?? last;
        if (!opener || opener.block) {
          errors.push({ file: w.file, line: w.line, message: "'{' without a keyword before it" });
          stack.push({ list: [] });
        } else {
          opener.block = [];
          stack.push({ list: opener.block, opener });
        }
        cur = undefined;
        last = undefined;
        continue;
      }
      if (w.text === '}' && !w.quoted) {
        if (stack.length === 1) errors.push({ file: w.file, line: w.line, message: "'}' without a block to close" });
        else stack.pop();
        cur = undefined;
        last = undefined;
        continue;
      }
      if (!cur) {
        cur = { keyword: w.text, args: [], raw: l.raw, file: w.file, line: w.line };
        top.list.push(cur);
        last = cur;
      } else cur.args.push(w);
    }
  }
  for (const s of stack.slice(1)) {
    const o = s.opener;
    errors.push(o ? { file: o.file, line: o.line, message: `block of '${o.keyword}' is never closed (missing '}')` } : { file: '', line: 0, message: 'unclosed block' });
  }
  return { stmts: root, errors };
}

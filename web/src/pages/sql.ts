// Ad-hoc SQL: an editor with line numbers, eventsQuery, a results grid, the
// API's error with its line:column (and the caret put there), and export.
import { ApiError, gql } from '../api';
import type { Ctx } from '../main';
import { clear, errorBox, h, page } from '../ui';

interface Result {
  columns: { name: string; type: string }[];
  rows: unknown[][];
  truncated: boolean;
  limit: number;
  elapsedMs: number;
}

const EXAMPLE = `SELECT type, count() AS n, uniq(user_id) AS learners
FROM events
WHERE occurred_at >= now() - INTERVAL 30 DAY
GROUP BY type
ORDER BY n DESC`;

export function sqlPage(ctx: Ctx): HTMLElement {
  const editor = h('textarea', { class: 'code editor', name: 'sql', rows: 10, spellcheck: 'false', 'aria-label': 'SQL', value: ctx.params.get('q') ?? EXAMPLE });
  const gutter = h('pre', { class: 'gutter', 'aria-hidden': 'true' });
  const limit = h('input', { type: 'number', name: 'limit', min: '1', max: '10000', value: '100', class: 'narrow' });
  const out = h('div', { class: 'sql-result' });
  const pos = h('span', { class: 'small muted', 'data-testid': 'caret' });
  const lines = () => {
    gutter.textContent = editor.value.split('\n').map((_, i) => String(i + 1)).join('\n');
  };
  const caret = () => {
    const before = editor.value.slice(0, editor.selectionStart).split('\n');
    pos.textContent = `line ${before.length}, column ${before[before.length - 1].length + 1}`;
  };
  editor.addEventListener('input', lines);
  editor.addEventListener('scroll', () => { gutter.scrollTop = editor.scrollTop; });
  editor.addEventListener('keyup', caret);
  editor.addEventListener('click', caret);

  const run = async (e?: Event) => {
    e?.preventDefault();
    clear(out, h('p', { class: 'muted' }, 'Running…'));
    try {
      const d = await gql<{ eventsQuery: Result }>('query($sql: String!, $limit: Int) { eventsQuery(sql: $sql, limit: $limit) { columns { name type } rows truncated limit elapsedMs } }',
        { sql: editor.value, limit: Number(limit.value) || 100 });
      clear(out, grid(d.eventsQuery));
    } catch (err) {
      clear(out, sqlError(err, editor));
      caret();
    }
  };
  editor.addEventListener('keydown', (e) => {
    if ((e.ctrlKey || e.metaKey) && e.key === 'Enter') void run(e);
  });
  lines();
  return page('Ad-hoc SQL',
    h('p', { class: 'muted' }, 'Read-only ClickHouse SQL over your tenant\u2019s ', h('code', {}, 'events'), '. Ctrl+Enter runs it.'),
    h('form', { class: 'sql-form', onsubmit: run },
      h('div', { class: 'editor-wrap' }, gutter, editor),
      h('div', { class: 'row' },
        h('button', { type: 'submit', class: 'primary' }, 'Run'),
        h('label', { class: 'inline' }, 'Row limit ', limit),
        h('a', { class: 'button', href: '#/exports', onclick: (ev: Event) => { (ev.currentTarget as HTMLAnchorElement).href = `#/exports?sql=${encodeURIComponent(editor.value)}`; } }, 'Export the full result…'),
        pos)),
    out);
}

function sqlError(err: unknown, editor: HTMLTextAreaElement): HTMLElement {
  const box = errorBox(err);
  if (err instanceof ApiError && typeof err.extensions.line === 'number') {
    const line = err.extensions.line as number;
    const col = (err.extensions.column as number) ?? 1;
    box.prepend(h('span', { class: 'where', 'data-testid': 'sql-error-position' }, `line ${line}, column ${col}: `));
    const lines = editor.value.split('\n');
    const offset = lines.slice(0, line - 1).reduce((a, l) => a + l.length + 1, 0) + col - 1;
    editor.focus();
    editor.setSelectionRange(offset, Math.min(offset + 1, editor.value.length));
    const src = lines[line - 1] ?? '';
    box.append(h('pre', { class: 'code snippet' }, `${line} | ${src}\n${' '.repeat(String(line).length)} | ${' '.repeat(Math.max(0, col - 1))}^`));
  }
  return box;
}

function cell(v: unknown): string {
  if (v === null || v === undefined) return 'NULL';
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
}

function grid(r: Result): HTMLElement {
  const numeric = r.columns.map((c) => /Int|Float|Decimal/.test(c.type));
  return h('div', {},
    h('p', { class: 'small muted', 'data-testid': 'sql-meta' }, `${r.rows.length} rows in ${r.elapsedMs} ms${r.truncated ? ` · truncated at the limit of ${r.limit}` : ''}`),
    h('div', { class: 'table-wrap tall' }, h('table', { class: 'data' },
      h('thead', {}, h('tr', {}, r.columns.map((c) => h('th', { title: c.type }, c.name, h('div', { class: 'type' }, c.type))))),
      h('tbody', {}, r.rows.map((row) => h('tr', {}, row.map((v, i) => h('td', { class: numeric[i] ? 'num' : '' }, cell(v)))))))));
}

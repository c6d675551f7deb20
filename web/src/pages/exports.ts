// Exports: create one, follow it with the exportProgress subscription (a
// progress bar), download the signed file; the tenant's recent jobs.
import { gql, subscribe } from '../api';
import type { Ctx } from '../main';
import { button, clear, errorBox, field, fmtBytes, fmtTime, h, page, RANGES } from '../ui';

interface Job {
  id: string;
  status: string;
  format: string;
  source: string;
  rows: number;
  bytes: number;
  error: string | null;
  url: string | null;
  fileName: string;
  createdAt: string;
  finishedAt: string | null;
}

const JOB = 'id status format source rows bytes error url fileName createdAt finishedAt';
const DONE = ['SUCCEEDED', 'FAILED', 'CANCELLED', 'EXPIRED'];

export async function exportsPage(ctx: Ctx): Promise<HTMLElement> {
  const source = h('select', { name: 'source' }, [['events', 'Raw events'], ['metric', 'A metric'], ['sql', 'SQL query']].map(([v, t]) => h('option', { value: v }, t)));
  const range = h('select', { name: 'range' }, RANGES.map(([v, t]) => h('option', { value: v, selected: v === '30d' }, t)));
  const metric = h('input', { name: 'metricKey', placeholder: 'course_completions', value: 'course_completions' });
  const sql = h('textarea', { name: 'sql', rows: 3, class: 'code', value: ctx.params.get('sql') ?? 'SELECT type, count() AS n FROM events GROUP BY type' });
  const format = h('select', { name: 'format' }, ['CSV', 'XLSX', 'JSON', 'NDJSON', 'PARQUET'].map((f) => h('option', { value: f }, f)));
  const gzip = h('input', { type: 'checkbox', name: 'gzip' });
  if (ctx.params.get('sql')) source.value = 'sql';
  const metricRow = field('Metric key', metric);
  const sqlRow = field('SQL', sql);
  const rangeRow = field('Time range', range);
  const sync = () => {
    metricRow.hidden = source.value !== 'metric';
    sqlRow.hidden = source.value !== 'sql';
    rangeRow.hidden = source.value === 'sql';
  };
  source.addEventListener('change', sync);
  const progressArea = h('div', { class: 'progress-area' });
  const list = h('div');
  const msg = h('div');
  const stops: (() => void)[] = [];
  ctx.onLeave(() => stops.forEach((s) => s()));

  const refresh = async () => {
    try {
      const d = await gql<{ exportJobs: { nodes: Job[] } }>(`{ exportJobs(first: 20) { nodes { ${JOB} } } }`);
      clear(list, jobTable(d.exportJobs.nodes, refresh));
    } catch (err) {
      clear(list, errorBox(err));
    }
  };

  const create = async (e: Event) => {
    e.preventDefault();
    clear(msg);
    const input: Record<string, unknown> = { format: format.value, gzip: gzip.checked };
    if (source.value === 'events') input.events = { timeRange: { last: range.value } };
    if (source.value === 'metric') Object.assign(input, { metricKey: metric.value, metricTimeRange: { last: range.value } });
    if (source.value === 'sql') input.sql = sql.value;
    let job: Job;
    try {
      job = (await gql<{ exportQuery: Job }>(`mutation($in: ExportInput!) { exportQuery(input: $in) { ${JOB} } }`, { in: input })).exportQuery;
    } catch (err) {
      clear(msg, errorBox(err));
      return;
    }
    // For raw events the total is known up front (eventTypeCounts over the
    // same window), so the bar shows a real share; otherwise it shows rows.
    let total = 0;
    if (source.value === 'events') {
      try {
        const c = await gql<{ eventTypeCounts: { count: number }[] }>('query($r: TimeRange!) { eventTypeCounts(timeRange: $r) { count } }', { r: { last: range.value } });
        total = c.eventTypeCounts.reduce((a, x) => a + x.count, 0);
      } catch {
        total = 0;
      }
    }
    const bar = progressBar(job, total);
    progressArea.prepend(bar.el);
    stops.push(subscribe<{ exportProgress: Job }>(`subscription($id: ID!) { exportProgress(id: $id) { ${JOB} } }`, { id: job.id },
      (d) => {
        bar.update(d.exportProgress);
        if (DONE.includes(d.exportProgress.status)) void refresh();
      },
      (err) => bar.el.append(errorBox(err))));
  };

  sync();
  void refresh();
  return page('Exports',
    h('form', { class: 'card form-row', onsubmit: create },
      h('h2', {}, 'New export'), field('Source', source), rangeRow, metricRow, sqlRow, field('Format', format),
      h('label', { class: 'check' }, gzip, ' gzip'), h('button', { type: 'submit', class: 'primary' }, 'Export'), msg),
    progressArea,
    h('h2', {}, 'Recent exports'),
    list);
}

function progressBar(job: Job, total: number): { el: HTMLElement; update: (j: Job) => void } {
  const bar = h('progress', { max: '100', value: '0', 'aria-label': `export ${job.id}` });
  const label = h('span', { class: 'small' });
  const link = h('span');
  const el = h('div', { class: 'card export-progress', 'data-job': job.id }, h('div', { class: 'row' }, h('strong', {}, job.fileName), label), bar, link);
  const values: number[] = [];
  const update = (j: Job) => {
    let pct: number;
    if (j.status === 'SUCCEEDED') pct = 100;
    else if (j.status === 'QUEUED') pct = 2;
    else if (total > 0) pct = Math.min(99, 5 + (j.rows / total) * 94);
    else pct = Math.min(95, 5 + 90 * (1 - Math.exp(-j.rows / 200_000)));
    if (DONE.includes(j.status) && j.status !== 'SUCCEEDED') bar.classList.add('failed');
    bar.value = pct;
    values.push(Math.round(pct));
    el.dataset.values = values.join(',');
    el.dataset.status = j.status;
    label.textContent = ` ${j.status} · ${j.rows.toLocaleString('en-US')} rows${total ? ` of ~${total.toLocaleString('en-US')}` : ''}${j.bytes ? ` · ${fmtBytes(j.bytes)}` : ''}`;
    if (j.url) clear(link, h('a', { href: j.url, download: j.fileName, class: 'button primary', 'data-testid': 'download' }, 'Download'));
    if (j.error) clear(link, errorBox(new Error(j.error)));
  };
  update(job);
  return { el, update };
}

function jobTable(jobs: Job[], refresh: () => Promise<void>): HTMLElement {
  if (!jobs.length) return h('p', { class: 'muted' }, 'No exports yet.');
  return h('div', { class: 'table-wrap' }, h('table', { class: 'data' },
    h('thead', {}, h('tr', {}, ['File', 'Source', 'Status', 'Rows', 'Size', 'Requested', 'Finished', ''].map((c) => h('th', {}, c)))),
    h('tbody', {}, jobs.map((j) => h('tr', { 'data-job': j.id },
      h('td', {}, j.fileName), h('td', {}, j.source), h('td', {}, h('span', { class: `status status-${j.status.toLowerCase()}` }, j.status), j.error ? h('div', { class: 'small error-text' }, j.error) : null),
      h('td', { class: 'num' }, j.rows.toLocaleString('en-US')), h('td', { class: 'num' }, j.bytes ? fmtBytes(j.bytes) : '—'),
      h('td', {}, fmtTime(j.createdAt)), h('td', {}, fmtTime(j.finishedAt)),
      h('td', {}, j.url ? h('a', { href: j.url, download: j.fileName }, 'Download') : DONE.includes(j.status) ? null
        : button('Cancel', async () => { await gql('mutation($id: ID!) { cancelExport(id: $id) { id } }', { id: j.id }).catch(() => undefined); await refresh(); }, 'link')))))));
}

// Scheduled reports: list, create (cron or preset, time zone), run now,
// run history with downloads.
import { atLeast, gql } from '../api';
import type { Ctx } from '../main';
import { button, clear, errorBox, field, fmtBytes, fmtTime, h, page } from '../ui';

interface Report {
  id: string;
  name: string;
  dashboard: string | null;
  cron: string;
  preset: string | null;
  timezone: string;
  format: string;
  enabled: boolean;
  nextRunAt: string | null;
  version: number;
}

const REPORT = 'id name dashboard cron preset timezone format enabled nextRunAt version';

export async function reportsPage(ctx: Ctx): Promise<HTMLElement> {
  const d = await gql<{ reports: { nodes: Report[] } }>(`{ reports(first: 50) { nodes { ${REPORT} } } }`);
  const out = page('Scheduled reports',
    d.reports.nodes.length
      ? h('div', { class: 'table-wrap' }, h('table', { class: 'data' },
          h('thead', {}, h('tr', {}, ['Report', 'Format', 'Schedule', 'Next run'].map((x) => h('th', {}, x)))),
          h('tbody', {}, d.reports.nodes.map((r) => h('tr', { 'data-report': r.id },
            h('td', {}, h('a', { href: `#/reports/${r.id}` }, r.name)), h('td', {}, r.format),
            h('td', {}, h('code', {}, r.preset ?? r.cron), ` ${r.timezone}`, r.enabled ? '' : ' (disabled)'),
            h('td', {}, fmtTime(r.nextRunAt)))))))
      : h('p', { class: 'muted' }, 'No reports yet.'));
  if (atLeast(ctx.viewer.roles, 'ADMIN')) out.append(await reportForm());
  return out;
}

async function reportForm(): Promise<HTMLElement> {
  const dashes = await gql<{ dashboards: { nodes: { slug: string; title: string }[] } }>('{ dashboards(first: 100) { nodes { slug title } } }');
  const name = h('input', { name: 'name', required: true, placeholder: 'Weekly learner progress' });
  const dash = h('select', { name: 'dashboard' }, dashes.dashboards.nodes.map((b) => h('option', { value: b.slug, selected: b.slug === 'learner-progress' }, b.title)));
  const when = h('select', { name: 'schedule' }, [['DAILY', 'Daily 06:00'], ['WEEKLY', 'Mondays 06:00'], ['MONTHLY', 'Monthly 06:00'], ['cron', 'Cron expression']].map(([v, t]) => h('option', { value: v }, t)));
  const cron = h('input', { name: 'cron', placeholder: '30 6 * * 1-5' });
  const tz = h('input', { name: 'timezone', value: Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC' });
  const format = h('select', { name: 'format' }, ['PDF', 'XLSX', 'CSV_ZIP'].map((f) => h('option', { value: f }, f)));
  const range = h('input', { name: 'range', value: '7d' });
  const msg = h('div');
  return h('form', { class: 'card form-row', onsubmit: async (e: Event) => {
    e.preventDefault();
    const schedule = when.value === 'cron' ? { cron: cron.value, timezone: tz.value } : { preset: when.value, timezone: tz.value };
    try {
      const r = await gql<{ createReport: { id: string } }>('mutation($in: ReportInput!) { createReport(input: $in) { id } }', {
        in: { name: name.value, format: format.value, schedule, source: { dashboard: dash.value, timeRange: { last: range.value } } },
      });
      location.hash = `#/reports/${r.createReport.id}`;
    } catch (err) {
      clear(msg, errorBox(err));
    }
  } }, h('h2', {}, 'New report'), field('Name', name), field('Dashboard', dash), field('When', when), field('Cron', cron), field('Time zone', tz),
  field('Format', format), field('Period', range), h('button', { type: 'submit', class: 'primary' }, 'Create'), msg);
}

interface Run {
  id: string;
  trigger: string;
  scheduledFor: string;
  status: string;
  error: string | null;
  bytes: number;
  fileName: string;
  artifactUrl: string | null;
  deliveries: { kind: string; target: string; status: string; attempts: number; lastError: string | null }[];
}

export async function reportPage(ctx: Ctx, id: string): Promise<HTMLElement> {
  const d = await gql<{ report: Report | null; reportRuns: { nodes: Run[] } }>(
    `query($id: ID!) { report(id: $id) { ${REPORT} } reportRuns(reportId: $id, first: 30) { nodes { id trigger scheduledFor status error bytes fileName artifactUrl deliveries { kind target status attempts lastError } } } }`, { id });
  if (!d.report) return page('Not found', h('p', {}, `No report ${id} in tenant ${ctx.viewer.tenant}.`));
  const r = d.report;
  // The report names its dashboard by id: show its title, linked.
  const source = r.dashboard
    ? await gql<{ dashboard: { slug: string; title: string } | null }>('query($id: String!) { dashboard(idOrSlug: $id) { slug title } }', { id: r.dashboard })
      .then((x) => (x.dashboard ? h('a', { href: `#/dashboards/${encodeURIComponent(x.dashboard.slug)}` }, x.dashboard.title) : 'a deleted dashboard'), () => r.dashboard!)
    : 'metric queries';
  const runs = h('div');
  const msg = h('div');
  const drawRuns = (nodes: Run[]) => clear(runs, nodes.length ? h('div', { class: 'table-wrap' }, h('table', { class: 'data' },
    h('thead', {}, h('tr', {}, ['Scheduled for', 'Trigger', 'Status', 'File', 'Deliveries'].map((x) => h('th', {}, x)))),
    h('tbody', {}, nodes.map((run) => h('tr', { 'data-run': run.id },
      h('td', {}, fmtTime(run.scheduledFor)), h('td', {}, run.trigger),
      h('td', {}, h('span', { class: `status status-${run.status.toLowerCase()}` }, run.status), run.error ? h('div', { class: 'small error-text' }, run.error) : null),
      h('td', {}, run.artifactUrl ? h('a', { href: run.artifactUrl, download: run.fileName }, `${run.fileName} (${fmtBytes(run.bytes)})`) : '—'),
      h('td', {}, run.deliveries.length ? run.deliveries.map((x) => h('div', { class: 'small' }, `${x.kind} ${x.target}: ${x.status}${x.lastError ? ` (${x.lastError})` : ''}`)) : h('span', { class: 'muted' }, 'download only'))))))) : h('p', { class: 'muted' }, 'No runs yet.'));
  drawRuns(d.reportRuns.nodes);
  const poll = async () => {
    const x = await gql<{ reportRuns: { nodes: Run[] } }>('query($id: ID!) { reportRuns(reportId: $id, first: 30) { nodes { id trigger scheduledFor status error bytes fileName artifactUrl deliveries { kind target status attempts lastError } } } }', { id });
    drawRuns(x.reportRuns.nodes);
    return x.reportRuns.nodes;
  };
  let timer = 0;
  ctx.onLeave(() => clearTimeout(timer));
  return page(r.name,
    h('p', { class: 'muted' }, `${r.format} of `, source, ' · ', h('code', {}, r.preset ?? r.cron), ` ${r.timezone} · next run ${fmtTime(r.nextRunAt)}`),
    atLeast(ctx.viewer.roles, 'ADMIN') ? button('Run now', async () => {
      try {
        await gql('mutation($id: ID!) { runReportNow(id: $id) { id status } }', { id });
        const deadline = Date.now() + 60_000;
        const tick = async () => {
          const nodes = await poll();
          if (Date.now() < deadline && nodes.some((n) => n.status === 'QUEUED' || n.status === 'RUNNING')) timer = window.setTimeout(tick, 1000);
        };
        await tick();
      } catch (err) {
        clear(msg, errorBox(err));
      }
    }, 'primary') : null,
    msg,
    h('h2', {}, 'History'),
    runs);
}

// Metric explorer: one metricQuery from the controls, drawn as a chart and a
// table; admins can save it as a widget of a dashboard.
import { atLeast, gql } from '../api';
import { barChart, timeChart } from '../charts';
import type { Ctx } from '../main';
import { clear, errorBox, field, h, page, RANGES, GRAINS, fmtTime } from '../ui';
import { RESULT_FIELDS, resultTable, type MetricResult } from './dashboards';

interface MetricDef {
  key: string;
  name: string;
  description: string;
  unit: string;
  format: string;
  kind: string;
  defaultGrain: string;
  dimensions: { path: string; type: string }[];
}

export async function explorerPage(ctx: Ctx): Promise<HTMLElement> {
  const d = await gql<{ metrics: { edges: { node: MetricDef }[] } }>(
    '{ metrics(first: 200, filter: {status: ACTIVE}) { edges { node { key name description unit format kind defaultGrain dimensions { path type } } } } }',
  );
  const metrics = d.metrics.edges.map((e) => e.node);
  const p = ctx.params;
  const state = {
    key: p.get('metric') ?? metrics[0]?.key ?? '',
    last: p.get('last') ?? '30d',
    grain: p.get('grain') ?? '',
    dims: (p.get('dims') ?? '').split(',').filter(Boolean),
    compare: p.get('compare') ?? '',
    limit: p.get('limit') ?? '',
  };
  const metricSel = h('select', { name: 'metric' }, metrics.map((m) => h('option', { value: m.key, selected: m.key === state.key }, `${m.name} (${m.key})`)));
  const rangeSel = h('select', { name: 'range' }, RANGES.map(([v, t]) => h('option', { value: v, selected: v === state.last }, t)));
  const grainSel = h('select', { name: 'grain' }, h('option', { value: '' }, 'metric default'), GRAINS.map((g) => h('option', { value: g, selected: g === state.grain }, g)));
  const compareSel = h('select', { name: 'compare' }, [['', 'no comparison'], ['PREVIOUS_PERIOD', 'previous period'], ['PREVIOUS_YEAR', 'previous year']].map(([v, t]) => h('option', { value: v, selected: v === state.compare }, t)));
  const limitIn = h('input', { name: 'limit', type: 'number', min: '1', max: '100', placeholder: 'all', value: state.limit });
  const dimsBox = h('fieldset', { class: 'dims' });
  const describe = h('p', { class: 'muted small' });
  const chart = h('div', { class: 'chart explorer-chart', role: 'img', 'aria-label': 'metric chart' });
  const table = h('div', { class: 'explorer-table' });
  const msg = h('div', { 'aria-live': 'polite' });
  const meta = h('p', { class: 'small muted', 'data-testid': 'explorer-meta' });

  const current = () => metrics.find((m) => m.key === metricSel.value);
  const drawDims = () => {
    const m = current();
    describe.textContent = m ? `${m.description} · ${m.kind} · unit ${m.unit}` : '';
    clear(dimsBox, h('legend', {}, 'Split by'),
      (m?.dimensions ?? []).map((dm) => h('label', { class: 'check' },
        h('input', { type: 'checkbox', name: 'dim', value: dm.path, checked: state.dims.includes(dm.path) }), ' ', dm.path)));
    if (!m?.dimensions.length) dimsBox.append(h('span', { class: 'muted small' }, 'this metric has no dimensions'));
  };
  metricSel.addEventListener('change', () => { state.dims = []; drawDims(); });
  drawDims();

  const query = () => ({
    key: metricSel.value,
    timeRange: { last: rangeSel.value },
    grain: grainSel.value || null,
    dimensions: [...dimsBox.querySelectorAll<HTMLInputElement>('input[name=dim]:checked')].map((i) => i.value),
    compareTo: compareSel.value || null,
    limit: limitIn.value ? Number(limitIn.value) : null,
  });

  const run = async (e?: Event) => {
    e?.preventDefault();
    const v = query();
    const params = new URLSearchParams({ metric: v.key, last: rangeSel.value, grain: grainSel.value, dims: v.dimensions.join(','), compare: compareSel.value, limit: limitIn.value });
    history.replaceState(null, '', `#/explore?${params}`);
    clear(msg);
    try {
      const r = await gql<{ metricQuery: MetricResult & { from: string; to: string; path: string } }>(
        `query($key: String!, $timeRange: TimeRange!, $grain: Grain, $dimensions: [String!], $compareTo: CompareTo, $limit: Int) {
          metricQuery(key: $key, timeRange: $timeRange, grain: $grain, dimensions: $dimensions, compareTo: $compareTo, limit: $limit) {
            from to path ${RESULT_FIELDS} } }`, v);
      const res = r.metricQuery;
      const answeredAt = Date.now(); // the query ran just before: a bucket ending after it is incomplete
      const names = res.series.map((s) => s.values.join(' · ') || res.metric.name);
      if (res.grain === 'NONE') {
        const groups = [{ name: res.metric.name, values: res.series.map((s) => s.total.value) }];
        if (v.compareTo) groups.push({ name: 'previous', values: res.series.map((s) => s.points[0]?.compareValue ?? null) });
        barChart(chart, names, groups, res.metric);
      } else {
        timeChart(chart, res.series.map((s, i) => ({ name: names[i], points: s.points, format: res.metric })), { grain: res.grain, compare: !!v.compareTo, now: answeredAt });
      }
      clear(table, resultTable([res], !!v.compareTo));
      meta.textContent = `${fmtTime(res.from)} – ${fmtTime(res.to)} · grain ${res.grain} · ${res.series.length} series · read from ${res.path}` + (res.notices.length ? ` · ${res.notices.join(' · ')}` : '');
      chart.dataset.ready = String(Date.now());
    } catch (err) {
      clear(msg, errorBox(err));
    }
  };

  const form = h('form', { class: 'controls explorer-controls', onsubmit: run },
    field('Metric', metricSel), field('Time range', rangeSel), field('Grain', grainSel), field('Compare with', compareSel), field('Top N', limitIn),
    dimsBox,
    h('button', { type: 'submit', class: 'primary' }, 'Run'));
  const out = page('Metric explorer', describe, form, msg, meta, h('div', { class: 'card' }, chart), table);
  if (atLeast(ctx.viewer.roles, 'ADMIN')) out.append(await saveAsWidget(query));
  void run();
  return out;
}

async function saveAsWidget(query: () => { key: string; grain: string | null; dimensions: string[]; limit: number | null }): Promise<HTMLElement> {
  const d = await gql<{ dashboards: { nodes: { id: string; slug: string; title: string; version: number }[] } }>('{ dashboards(first: 100) { nodes { id slug title version } } }');
  const dash = h('select', { name: 'dashboard' }, d.dashboards.nodes.map((b) => h('option', { value: b.id }, b.title)));
  const title = h('input', { name: 'widget-title', required: true, placeholder: 'Widget title' });
  const kind = h('select', { name: 'widget-kind' }, ['LINE', 'AREA', 'BAR', 'TABLE', 'KPI', 'PIE'].map((k) => h('option', { value: k }, k)));
  const msg = h('div');
  return h('form', { class: 'card form-row', onsubmit: async (e: Event) => {
    e.preventDefault();
    const q = query();
    const target = d.dashboards.nodes.find((b) => b.id === dash.value)!;
    try {
      const cur = await gql<{ dashboard: { version: number } }>('query($id: String!) { dashboard(idOrSlug: $id) { version } }', { id: target.id });
      await gql('mutation($d: ID!, $v: Int!, $w: WidgetInput!) { addWidget(dashboardId: $d, expectedVersion: $v, widget: $w) { version } }', {
        d: target.id, v: cur.dashboard.version,
        w: { title: title.value, kind: kind.value, metricKeys: [q.key], dimensions: q.dimensions, grain: q.grain, limit: q.limit },
      });
      clear(msg, h('p', { class: 'ok' }, 'Saved. ', h('a', { href: `#/dashboards/${target.slug}` }, `Open ${target.title}`)));
    } catch (err) {
      clear(msg, errorBox(err));
    }
  } }, h('h2', {}, 'Save as widget'), field('Dashboard', dash), field('Title', title), field('Chart', kind), h('button', { type: 'submit' }, 'Save'), msg);
}

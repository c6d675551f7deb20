// Dashboards: the list, and one dashboard drawn from `render` and then kept
// current by the `dashboardData` subscription (graphql-ws).
import { atLeast, gql, subscribe, type ApiError } from '../api';
import { barChart, pieChart, timeChart, dispose } from '../charts';
import { funnelChart, retentionHeatmap, sankeyChart } from '../charts-journeys';
import { drawInsightChart, INSIGHT_CHART_FIELDS, type InsightChart } from '../insight-chart';
import { ANOMALY_FIELDS, FORECAST_FIELDS, seriesKey, toOverlay, type AnomalySeries, type ForecastSeries } from '../overlay';
import type { Ctx } from '../main';
import { button, clear, errorBox, field, fmtTime, fmtValue, h, page, RANGES, select, unitOf, GRAINS } from '../ui';

export const RESULT_FIELDS = `metric { key name unit format } grain dimensions
  series { values points { bucket value compareValue } total { value } } totals { value } notices`;
const RENDER_FIELDS = `from to widgets { widgetId results { ${RESULT_FIELDS} } error { code message } notices computedAt cached
  overlay { grain error { code message } forecast { ${FORECAST_FIELDS} } anomalies { ${ANOMALY_FIELDS} } }
  funnel { steps { step label entered dropOff conversionFromFirst } }
  retention { cohorts { start size cells { offset users rate } } mean { offset users rate } }
  paths { nodes { step eventType users } edges { step from to users } }
  insight { insightId question confidenceLevel confidenceScore grounding asOf chartIndex chart { ${INSIGHT_CHART_FIELDS} } } }`;
const WIDGET_FIELDS = `id title kind metricKeys dimensions grain limit cohorts { id member } cohortBreakdown position { x y w h } version
  overlay { forecast { horizon model levels history } anomalies { monitorId detector sensitivity } } insight { insightId chart }`;

export interface MetricResult {
  metric: { key: string; name: string; unit: string; format: string };
  grain: string;
  dimensions: string[];
  series: { values: string[]; points: { bucket: string; value: number | null; compareValue: number | null }[]; total: { value: number | null } }[];
  totals: { value: number | null };
  notices: string[];
}

interface WidgetData {
  widgetId: string;
  results: MetricResult[];
  error: { code: string; message: string } | null;
  notices: string[];
  computedAt: string;
  cached: boolean;
  /** A LINE widget's forecast band and anomaly markers (WidgetInput.overlay). */
  overlay?: WidgetOverlayData | null;
  /** The answers of FUNNEL, RETENTION and PATHS widgets (results is empty for them). */
  funnel?: { steps: { step: number; label: string; entered: number; dropOff: number; conversionFromFirst: number }[] } | null;
  retention?: { cohorts: { start: string; size: number; cells: RetentionCell[] }[]; mean: RetentionCell[] } | null;
  paths?: { nodes: { step: number; eventType: string; users: number }[]; edges: { step: number; from: string; to: string; users: number }[] } | null;
  /** An INSIGHT widget's stored chart: a snapshot as of asOf, not the dashboard's window. */
  insight?: { insightId: string; question: string; confidenceLevel: string; confidenceScore: number; grounding: string; asOf: string;
    chartIndex: number; chart: InsightChart } | null;
}

interface RetentionCell { offset: number; users: number; rate: number }

interface WidgetOverlayData {
  grain: string;
  error: { code: string; message: string } | null;
  forecast: ForecastSeries[];
  anomalies: AnomalySeries[];
}

interface WidgetOverlay {
  forecast: { horizon: number; model: string; levels: number[]; history: number } | null;
  anomalies: { monitorId: string | null; detector: string | null; sensitivity: string | null } | null;
}

interface Render {
  from: string;
  to: string;
  widgets: WidgetData[];
}

interface Widget {
  id: string;
  title: string;
  kind: 'KPI' | 'LINE' | 'BAR' | 'AREA' | 'TABLE' | 'PIE' | 'FUNNEL' | 'RETENTION' | 'PATHS' | 'INSIGHT';
  metricKeys: string[];
  dimensions: string[];
  grain: string | null;
  limit: number | null;
  cohorts: { id: string; member: boolean }[];
  cohortBreakdown: string | null;
  position: { x: number; y: number; w: number; h: number };
  overlay: WidgetOverlay | null;
}

interface Dashboard {
  id: string;
  slug: string;
  title: string;
  description: string;
  version: number;
  timezone: string;
  filters: { dimension: string; op: string; values: string[]; label: string }[];
  widgets: Widget[];
  render: Render;
}

const DASHBOARD_QUERY = `query($slug: String!, $filters: [MetricFilterInput!], $timeRange: TimeRange) {
  dashboard(idOrSlug: $slug) { id slug title description version timezone
    filters { dimension op values label } widgets { ${WIDGET_FIELDS} }
    render(filters: $filters, timeRange: $timeRange) { ${RENDER_FIELDS} } } }`;

let prefetched: { key: string; data: Promise<{ dashboard: Dashboard | null }> } | null = null;

/**
 * Starts loading a dashboard (with its render) before the shell knows the
 * viewer, so the two requests overlap on a cold page load. Only for the
 * dashboard's default filters.
 */
export function prefetchDashboard(slug: string, params: URLSearchParams): void {
  if ([...params.keys()].some((k) => k.startsWith('f.'))) return;
  const v = { slug, filters: null, timeRange: params.get('last') ? { last: params.get('last') } : null };
  const data = gql<{ dashboard: Dashboard | null }>(DASHBOARD_QUERY, v);
  data.catch(() => undefined); // the page reports the error when it uses it
  prefetched = { key: JSON.stringify(v), data };
}

export async function dashboardsPage(ctx: Ctx): Promise<HTMLElement> {
  const d = await gql<{ dashboards: { nodes: { id: string; slug: string; title: string; description: string; updatedAt: string; widgets: { id: string }[] }[] } }>(
    '{ dashboards(first: 100) { nodes { id slug title description updatedAt widgets { id } } } }',
  );
  const list = h('div', { class: 'cards' },
    d.dashboards.nodes.map((b) =>
      h('a', { class: 'card dash-card', href: `#/dashboards/${encodeURIComponent(b.slug)}`, 'data-slug': b.slug },
        h('h2', {}, b.title),
        h('p', { class: 'muted' }, b.description || b.slug),
        h('p', { class: 'small muted' }, `${b.widgets.length} widgets · updated ${fmtTime(b.updatedAt)}`))),
  );
  const out = page('Dashboards', d.dashboards.nodes.length ? list : h('p', {}, 'No dashboards yet.'));
  if (atLeast(ctx.viewer.roles, 'ADMIN')) out.append(newDashboardForm());
  return out;
}

function newDashboardForm(): HTMLElement {
  const slug = h('input', { name: 'slug', required: true, pattern: '[a-z0-9][a-z0-9-]{0,63}', placeholder: 'weekly-overview' });
  const title = h('input', { name: 'title', required: true, placeholder: 'Weekly overview' });
  const msg = h('div');
  return h('form', { class: 'card form-row', onsubmit: async (e: Event) => {
    e.preventDefault();
    try {
      const r = await gql<{ createDashboard: { slug: string } }>(
        'mutation($in: DashboardInput!) { createDashboard(input: $in) { slug } }', { in: { slug: slug.value, title: title.value } });
      location.hash = `#/dashboards/${r.createDashboard.slug}`;
    } catch (err) {
      clear(msg, errorBox(err));
    }
  } }, h('h2', {}, 'New dashboard'), field('Slug', slug), field('Title', title), h('button', { type: 'submit', class: 'primary' }, 'Create'), msg);
}

interface View {
  filters: Record<string, string>;
  last: string;
  /** A cohort every widget is narrowed to ('' for all users). */
  cohort: string;
}

export async function dashboardPage(ctx: Ctx, slug: string): Promise<HTMLElement> {
  const t0 = performance.now();
  const view: View = { filters: {}, last: ctx.params.get('last') ?? '', cohort: ctx.params.get('cohort') ?? '' };
  // The cohort picker's options; not awaited, so the first paint does not wait.
  const cohortList = gql<{ cohortsConnection: { nodes: { id: string; name: string }[] } }>('{ cohortsConnection(first: 200) { nodes { id name } } }')
    .then((d) => d.cohortsConnection.nodes, () => []);
  ctx.params.forEach((v, k) => { if (k.startsWith('f.')) view.filters[k.slice(2)] = v; });
  const root = h('section', { class: 'page dashboard', 'data-slug': slug });
  const isAdmin = atLeast(ctx.viewer.roles, 'ADMIN');
  let stop: (() => void) | null = null;
  ctx.onLeave(() => stop?.());

  const variables = (dash?: Dashboard) => {
    const filters = (dash?.filters ?? [])
      .map((f) => ({ f, raw: view.filters[f.dimension] }))
      .filter(({ raw }) => raw !== undefined)
      .map(({ f, raw }) => ({ dimension: f.dimension, op: f.op, values: raw.split(',').map((s) => s.trim()).filter(Boolean) }));
    return {
      slug,
      filters: filters.length ? filters : null,
      timeRange: view.last ? { last: view.last } : null,
    };
  };

  const load = async (first: boolean) => {
    stop?.();
    const v0 = variables();
    const early = first && prefetched?.key === JSON.stringify(v0) ? prefetched.data : null;
    prefetched = null;
    let d: { dashboard: Dashboard | null };
    try {
      d = await (early ?? gql<{ dashboard: Dashboard | null }>(DASHBOARD_QUERY, v0));
    } catch (err) {
      clear(root, errorBox(err));
      return;
    }
    if (!d.dashboard) {
      clear(root, h('h1', {}, 'Not found'), h('p', {}, `No dashboard ${slug} in tenant ${ctx.viewer.tenant}.`));
      return;
    }
    const dash = d.dashboard;
    dispose(root);
    const grid = h('div', { class: 'grid' });
    const cards = new Map<string, HTMLElement>();
    const form = isAdmin ? widgetForm(dash, () => void load(false)) : null;
    for (const w of dash.widgets) {
      const card = widgetCard(w, dash, form, () => void load(false));
      cards.set(w.id, card);
      grid.append(card);
    }
    if (isAdmin) dragToReorder(grid, dash, () => void load(false));
    cards.forEach((c) => { c.draggable = root.classList.contains('editing'); });
    const cohortNote = h('p', { class: 'notice small cohort-note', 'data-testid': 'cohort-note', hidden: !view.cohort });
    const status = h('span', { class: 'small muted', 'data-testid': 'updated' });
    clear(root,
      h('div', { class: 'page-head' },
        h('div', {}, h('h1', {}, dash.title), dash.description ? h('p', { class: 'muted' }, dash.description) : null),
        h('div', { class: 'row' }, status,
          isAdmin ? button(root.classList.contains('editing') ? 'Done editing' : 'Edit widgets', (e) => {
            const on = root.classList.toggle('editing');
            (e.target as HTMLButtonElement).textContent = on ? 'Done editing' : 'Edit widgets';
            grid.querySelectorAll<HTMLElement>('.widget').forEach((c) => { c.draggable = on; });
          }) : null)),
      controls(dash, view, cohortList, () => { saveView(slug, view); void load(false); }),
      cohortNote,
      grid,
      form?.el,
    );
    const draw = (r: Render, live: boolean) => {
      for (const wd of r.widgets) {
        const w = dash.widgets.find((x) => x.id === wd.widgetId);
        const card = cards.get(wd.widgetId);
        if (w && card) drawWidget(card, w, wd);
      }
      status.textContent = `${fmtTime(r.from)} – ${fmtTime(r.to)} · ${live ? 'live update' : 'rendered'} ${new Date().toLocaleTimeString('en-GB')}`;
      root.dataset.updates = String(Number(root.dataset.updates ?? '0') + 1);
      root.dataset.from = r.from;
      root.dataset.to = r.to;
    };
    // With a cohort picked, every widget is recomputed by metricQuery with
    // that cohort added to its own (the dashboard's render and its cache
    // take no cohort); each live push of the dashboard triggers it again.
    let narrowing: Promise<void> | null = null;
    let again = false;
    const narrow = (r: Render, live: boolean) => {
      if (narrowing) { again = true; return; }
      narrowing = cohortRender(dash, r, variables(dash).filters, view.cohort)
        .then((nr) => { if (ctx.current()) { draw(nr, live); root.dataset.cohort = view.cohort; } })
        .catch((err) => { if (ctx.current()) clear(cohortNote, errorBox(err)); })
        .finally(() => { narrowing = null; if (again) { again = false; narrow(r, true); } });
    };
    const show = (r: Render, live: boolean) => (view.cohort ? narrow(r, live) : draw(r, live));
    if (view.cohort) {
      void cohortList.then((cs) => {
        const c = cs.find((x) => x.id === view.cohort);
        cohortNote.textContent = `Only users in the cohort ${c?.name ?? view.cohort}: each widget is computed by metricQuery with this cohort, outside the dashboard's 60 s cache.`;
      });
    }
    show(dash.render, false);
    if (first) {
      // The moment the widgets' values are on screen, for the browser test's
      // first-paint measurement (docs/BENCHMARKS.md).
      requestAnimationFrame(() => {
        performance.mark('dashboard-painted');
        root.dataset.paintMs = String(Math.round(performance.now() - t0));
      });
    }
    if (!ctx.current()) return; // left while loading: no subscription
    const v = variables(dash);
    stop = subscribe<{ dashboardData: Render }>(
      `subscription($slug: String!, $filters: [MetricFilterInput!], $timeRange: TimeRange) {
        dashboardData(idOrSlug: $slug, filters: $filters, timeRange: $timeRange) { ${RENDER_FIELDS} } }`,
      v,
      (data) => show(data.dashboardData, true),
      (err: ApiError) => root.prepend(errorBox(err)),
    );
  };
  await load(true);
  return root;
}

/** Keeps the view (range, filters, cohort) in the address, so a reload or a shared link shows the same. */
function saveView(slug: string, view: View): void {
  const p = new URLSearchParams();
  if (view.last) p.set('last', view.last);
  if (view.cohort) p.set('cohort', view.cohort);
  for (const [k, v] of Object.entries(view.filters)) p.set(`f.${k}`, v);
  history.replaceState(null, '', `#/dashboards/${encodeURIComponent(slug)}${p.size ? `?${p}` : ''}`);
}

function controls(dash: Dashboard, view: View, cohorts: Promise<{ id: string; name: string }[]>, apply: () => void): HTMLElement {
  const range = select('range', [['', 'Dashboard default'], ...RANGES], view.last, (v) => { view.last = v; apply(); }, 'Time range');
  const cohort = select('cohort', [['', 'All users'], ...(view.cohort ? [[view.cohort, view.cohort] as [string, string]] : [])], view.cohort,
    (v) => { view.cohort = v; apply(); }, 'Cohort');
  void cohorts.then((cs) => {
    const s = cohort.querySelector('select')!;
    clear(s, h('option', { value: '' }, 'All users'), cs.map((c) => h('option', { value: c.id, selected: c.id === view.cohort }, c.name)));
  });
  const inputs = dash.filters.map((f) => {
    const input = h('input', {
      name: `filter-${f.dimension}`,
      placeholder: f.values.join(', ') || 'any',
      value: view.filters[f.dimension] ?? f.values.join(', '),
      title: `${f.dimension} ${f.op} (comma-separated values; empty: not applied)`,
    });
    input.addEventListener('change', () => { view.filters[f.dimension] = input.value; apply(); });
    return field(`${f.label} (${f.op.toLowerCase().replace('_', ' ')})`, input);
  });
  return h('div', { class: 'controls' }, range, cohort, inputs);
}

let metricDims: Promise<Map<string, string[]>> | null = null;

/**
 * The dashboard's widgets over one cohort: per widget, one metricQuery per
 * metric key with the widget's settings, the render's window and filters,
 * and the cohort added to the widget's own. A filter on a dimension a
 * metric does not allow is left out with a notice, as render does.
 */
async function cohortRender(dash: Dashboard, r: Render, viewFilters: { dimension: string; op: string; values: string[] }[] | null, cohort: string): Promise<Render> {
  metricDims ??= gql<{ metrics: { edges: { node: { key: string; dimensions: { path: string }[] } }[] } }>(
    '{ metrics(first: 200) { edges { node { key dimensions { path } } } } }')
    .then((d) => new Map(d.metrics.edges.map((e) => [e.node.key, e.node.dimensions.map((x) => x.path)])));
  const dims = await metricDims;
  const filters = viewFilters ?? dash.filters.filter((f) => f.values.length).map((f) => ({ dimension: f.dimension, op: f.op, values: f.values }));
  const widgets = await Promise.all(dash.widgets.map(async (w): Promise<WidgetData> => {
    const stored = w.kind === 'INSIGHT' ? r.widgets.find((x) => x.widgetId === w.id) : undefined;
    if (stored) return stored; // a stored answer: no cohort to apply
    const notices: string[] = [];
    try {
      const results = await Promise.all(w.metricKeys.map(async (key) => {
        const allowed = dims.get(key) ?? [];
        const kept = filters.filter((f) => f.dimension === 'type' || allowed.includes(f.dimension));
        filters.filter((f) => !kept.includes(f)).forEach((f) => notices.push(`${key} ignores the filter on ${f.dimension}`));
        const d = await gql<{ metricQuery: MetricResult }>(
          `query($key: String!, $dims: [String!], $filters: [MetricFilterInput!], $range: TimeRange!, $grain: Grain, $tz: String, $limit: Int, $cohorts: [CohortFilterInput!], $cb: ID) {
            metricQuery(key: $key, dimensions: $dims, filters: $filters, timeRange: $range, grain: $grain, timezone: $tz, limit: $limit, cohorts: $cohorts, cohortBreakdown: $cb) { ${RESULT_FIELDS} } }`,
          { key, dims: w.dimensions, filters: kept.length ? kept : null, range: { from: r.from, to: r.to },
            grain: w.grain ?? (w.kind === 'LINE' || w.kind === 'AREA' ? null : 'NONE'), tz: dash.timezone, limit: w.limit,
            cohorts: [...w.cohorts.map((c) => ({ id: c.id, member: c.member })), { id: cohort, member: true }], cb: w.cohortBreakdown });
        return d.metricQuery;
      }));
      return { widgetId: w.id, results, error: null, notices, computedAt: new Date().toISOString(), cached: false };
    } catch (err) {
      const e = err as ApiError;
      return { widgetId: w.id, results: [], error: { code: e.code ?? 'ERROR', message: e.message }, notices, computedAt: new Date().toISOString(), cached: false };
    }
  }));
  return { from: r.from, to: r.to, widgets };
}

function widgetCard(w: Widget, dash: Dashboard, form: WidgetForm | null, reload: () => void): HTMLElement {
  const body = h('div', { class: 'widget-body' });
  // An INSIGHT widget is a pinned chart: moved or removed, not edited.
  const tools = form
    ? h('div', { class: 'widget-tools' },
        w.kind === 'INSIGHT' ? null : button('✎', () => form.edit(w), 'icon'),
        button('↑', () => void reorder(dash, w.id, -1).then(reload, (err) => form.fail(err)), 'icon'),
        button('↓', () => void reorder(dash, w.id, 1).then(reload, (err) => form.fail(err)), 'icon'),
        button('✕', () => void removeWidget(dash, w.id).then(reload, (err) => form.fail(err)), 'icon'))
    : null;
  const labels: Record<string, string> = { '✎': 'Edit', '↑': 'Move up', '↓': 'Move down', '✕': 'Remove' };
  tools?.querySelectorAll('button').forEach((b) => b.setAttribute('aria-label', labels[b.textContent ?? ''] + ' ' + w.title));
  const card = h('article', { class: `card widget widget-${w.kind.toLowerCase()}`, 'data-widget': w.id, 'data-kind': w.kind },
    h('header', {}, h('h2', {}, w.title), tools),
    body);
  card.style.setProperty('--x', String(w.position.x + 1));
  card.style.setProperty('--w', String(w.position.w));
  card.style.setProperty('--h', String(w.position.h));
  return card;
}

async function reorder(dash: Dashboard, id: string, delta: number): Promise<void> {
  const ids = dash.widgets.map((w) => w.id);
  const i = ids.indexOf(id);
  const j = i + delta;
  if (j < 0 || j >= ids.length) return;
  [ids[i], ids[j]] = [ids[j], ids[i]];
  await saveOrder(dash, ids);
}

async function saveOrder(dash: Dashboard, ids: string[]): Promise<void> {
  await gql('mutation($d: ID!, $v: Int!, $ids: [ID!]!) { reorderWidgets(dashboardId: $d, expectedVersion: $v, widgetIds: $ids) { version } }', { d: dash.id, v: dash.version, ids });
}

async function removeWidget(dash: Dashboard, id: string): Promise<void> {
  await gql('mutation($d: ID!, $v: Int!, $w: ID!) { removeWidget(dashboardId: $d, expectedVersion: $v, widgetId: $w) { version } }', { d: dash.id, v: dash.version, w: id });
}

function seriesName(r: MetricResult, values: string[], multi: boolean): string {
  const dims = values.join(' · ');
  if (!dims) return r.metric.name;
  return multi ? `${r.metric.name}: ${dims}` : dims;
}

/** Draws one widget's data into its card. */
export function drawWidget(card: HTMLElement, w: Pick<Widget, 'kind' | 'grain'>,
  wd: Pick<WidgetData, 'results' | 'error' | 'notices' | 'cached' | 'computedAt' | 'overlay' | 'funnel' | 'retention' | 'paths' | 'insight'>): void {
  const body = card.querySelector<HTMLElement>('.widget-body')!;
  card.dataset.computedAt = wd.computedAt;
  card.dataset.cached = String(wd.cached);
  if (wd.error) {
    dispose(body);
    clear(body, errorBox(Object.assign(new Error(wd.error.message), { name: 'ApiError', code: wd.error.code, extensions: { code: wd.error.code } })));
    return;
  }
  const multi = wd.results.length > 1;
  const said = [...wd.notices, ...(wd.overlay?.error ? [`forecast and anomalies: ${wd.overlay.error.message}`] : [])];
  const notices = said.length ? h('p', { class: 'notice small' }, said.join(' · ')) : null;
  switch (w.kind) {
    case 'KPI': {
      dispose(body);
      clear(body, wd.results.map((r) =>
        h('div', { class: 'kpi' },
          h('span', { class: 'kpi-value', 'data-metric': r.metric.key, 'data-value': String(r.totals.value ?? '') }, fmtValue(r.totals.value, r.metric)),
          h('span', { class: 'kpi-unit' }, unitOf(r.metric)),
          multi ? h('span', { class: 'kpi-label' }, r.metric.name) : null)), notices);
      return;
    }
    case 'LINE':
    case 'AREA': {
      const chart = ensureChart(body, notices);
      const series = wd.results.flatMap((r) => r.series.map((s) => ({ name: seriesName(r, s.values, multi), points: s.points, format: r.metric })));
      const od = wd.overlay;
      const r0 = wd.results[0];
      const overlay = od && r0 ? toOverlay(r0.series.map((s) => seriesKey(r0.dimensions, s.values)), od.forecast, od.anomalies) : undefined;
      timeChart(chart, series, { area: w.kind === 'AREA', grain: r0?.grain, overlay, now: wd.computedAt });
      card.dataset.anomalies = String(overlay?.markers?.length ?? 0);
      return;
    }
    case 'BAR':
    case 'PIE': {
      const chart = ensureChart(body, notices);
      const r0 = wd.results[0];
      const labels = r0 ? r0.series.map((s) => s.values.join(' · ') || r0.metric.name) : [];
      if (w.kind === 'PIE') {
        pieChart(chart, labels, r0 ? r0.series.map((s) => s.total.value) : [], r0?.metric);
      } else {
        barChart(chart, labels, wd.results.map((r) => ({ name: r.metric.name, values: labels.map((l) => r.series.find((s) => (s.values.join(' · ') || r.metric.name) === l)?.total.value ?? null) })), r0?.metric);
      }
      return;
    }
    case 'TABLE': {
      dispose(body);
      clear(body, resultTable(wd.results), notices);
      return;
    }
    case 'FUNNEL': {
      if (wd.funnel) funnelChart(ensureChart(body, notices), wd.funnel.steps);
      return;
    }
    case 'RETENTION': {
      if (!wd.retention) return;
      // Periods in which nobody started carry no information: not drawn (as on the journeys page).
      const started = wd.retention.cohorts.filter((c) => c.size > 0);
      const rows = [{ label: 'Mean', size: started.reduce((a, c) => a + c.size, 0), cells: wd.retention.mean },
        ...started.map((c) => ({ label: c.start.slice(0, 10), size: c.size, cells: c.cells }))];
      const chart = ensureChart(body, notices);
      chart.style.height = `${Math.max(240, 40 + rows.length * 34)}px`;
      retentionHeatmap(chart, rows);
      return;
    }
    case 'PATHS': {
      if (wd.paths) sankeyChart(ensureChart(body, notices), wd.paths.nodes, wd.paths.edges);
      return;
    }
    case 'INSIGHT': {
      const ins = wd.insight;
      if (!ins) return;
      // A stored answer: say what it answered and as of when, above the chart.
      const caption = h('p', { class: 'small muted insight-caption', 'data-insight-caption': '' },
        h('a', { href: `#/insights/${ins.insightId}` }, ins.question), ` · as of ${fmtTime(ins.asOf)} · confidence ${ins.confidenceLevel} · ${ins.grounding}`);
      dispose(body);
      const chart = h('div', { class: ins.chart.type === 'table' ? 'insight-table' : 'chart', role: 'img', 'data-chart-type': ins.chart.type });
      clear(body, caption, chart, notices);
      drawInsightChart(chart, ins.chart);
      return;
    }
  }
}

function ensureChart(body: HTMLElement, notices: HTMLElement | null): HTMLElement {
  let chart = body.querySelector<HTMLElement>('.chart');
  if (!chart) {
    chart = h('div', { class: 'chart', role: 'img' });
    clear(body, chart);
  }
  body.querySelector('.notice')?.remove();
  if (notices) body.append(notices);
  return chart;
}

/** One row per series: its dimension values, then each metric's total. */
export function resultTable(results: MetricResult[], compare = false): HTMLElement {
  const r0 = results[0];
  if (!r0) return h('p', { class: 'muted' }, 'No data.');
  const dims = r0.dimensions;
  const keys = r0.series.map((s) => s.values.join('\u0000'));
  const head = h('tr', {}, dims.map((d) => h('th', { scope: 'col' }, d)), results.map((r) => h('th', { scope: 'col', class: 'num' }, r.metric.name)),
    compare ? [h('th', { class: 'num' }, 'Previous'), h('th', { class: 'num' }, 'Change')] : null);
  const rows = keys.map((k, i) => {
    const s0 = r0.series[i];
    const prev = s0.points.reduce((a, p) => a + (p.compareValue ?? 0), 0);
    const cur = s0.total.value ?? 0;
    return h('tr', {},
      dims.map((_, j) => h('td', {}, s0.values[j])),
      results.map((r) => {
        const s = r.series.find((x) => x.values.join('\u0000') === k);
        return h('td', { class: 'num', 'data-value': String(s?.total.value ?? '') }, fmtValue(s?.total.value, r.metric));
      }),
      compare ? [h('td', { class: 'num' }, fmtValue(prev, r0.metric)), h('td', { class: 'num' }, prev ? `${(((cur - prev) / prev) * 100).toFixed(1)}%` : '—')] : null);
  });
  return h('div', { class: 'table-wrap' }, h('table', { class: 'data' }, h('thead', {}, head), h('tbody', {}, rows)));
}

interface WidgetForm {
  el: HTMLElement;
  /** Fills the form with a widget to change it (updateWidget). */
  edit: (w: Widget) => void;
  /** Shows an error of another widget action (reorder, remove). */
  fail: (err: unknown) => void;
}

/** Adds a widget, or with edit() replaces one: the same fields either way. */
function widgetForm(dash: Dashboard, reload: () => void): WidgetForm {
  const title = h('input', { name: 'title', required: true, placeholder: 'Quiz attempts' });
  const kind = h('select', { name: 'kind' }, ['KPI', 'LINE', 'AREA', 'BAR', 'TABLE', 'PIE'].map((k) => h('option', { value: k }, k)));
  const metric = h('input', { name: 'metric', required: true, placeholder: 'quiz_attempts', list: 'metric-keys' });
  const dims = h('input', { name: 'dimensions', placeholder: 'properties.course_id' });
  const grain = h('select', { name: 'grain' }, h('option', { value: '' }, 'default'), GRAINS.map((g) => h('option', { value: g }, g)));
  const limit = h('input', { name: 'limit', type: 'number', min: '1', max: '100', placeholder: 'all', class: 'narrow' });
  const horizon = h('input', { name: 'forecast', type: 'number', placeholder: 'none', class: 'narrow', title: 'LINE widgets: buckets to forecast (a band)' });
  const marks = h('input', { name: 'anomalies', type: 'checkbox', title: 'LINE widgets: mark anomalous buckets' });
  const heading = h('h2', {}, 'Add a widget');
  const submit = h('button', { type: 'submit', class: 'primary' }, 'Add');
  const msg = h('div', { 'aria-live': 'polite' });
  let editing: Widget | null = null;
  const cancel = button('Cancel', () => reset(), '');
  const reset = () => {
    editing = null;
    el.reset();
    heading.textContent = 'Add a widget';
    submit.textContent = 'Add';
    cancel.hidden = true;
    el.classList.remove('editing-widget');
  };
  const list = (v: string) => v.split(',').map((x) => x.trim()).filter(Boolean);
  const el = h('form', { class: 'card form-row add-widget', 'data-testid': 'widget-form', onsubmit: async (e: Event) => {
    e.preventDefault();
    // The form shows the horizon and whether to mark anomalies; a widget's
    // other overlay settings (model, levels, its monitor) are kept.
    const kept = editing?.overlay;
    const overlay = horizon.value || marks.checked
      ? { forecast: horizon.value ? { ...defined(kept?.forecast), horizon: Number(horizon.value) } : null,
          anomalies: marks.checked ? defined(kept?.anomalies) : null }
      : null;
    const w = { title: title.value, kind: kind.value, metricKeys: list(metric.value), dimensions: list(dims.value), grain: grain.value || null,
      limit: limit.value ? Number(limit.value) : null, overlay };
    try {
      if (editing) {
        // Settings the form does not show are kept as they are.
        const { x, y, w: width, h: height } = editing.position;
        await gql('mutation($d: ID!, $v: Int!, $id: ID!, $w: WidgetInput!) { updateWidget(dashboardId: $d, expectedVersion: $v, widgetId: $id, widget: $w) { version } }', {
          d: dash.id, v: dash.version, id: editing.id,
          w: { ...w, cohorts: editing.cohorts.map((c) => ({ id: c.id, member: c.member })), cohortBreakdown: editing.cohortBreakdown, position: { x, y, w: width, h: height } },
        });
      } else {
        await gql('mutation($d: ID!, $v: Int!, $w: WidgetInput!) { addWidget(dashboardId: $d, expectedVersion: $v, widget: $w) { version } }', { d: dash.id, v: dash.version, w });
      }
      reload();
    } catch (err) {
      clear(msg, errorBox(err));
    }
  } }, heading, field('Title', title), field('Chart', kind), field('Metric keys', metric), field('Dimensions', dims), field('Grain', grain), field('Top N', limit),
  field('Forecast buckets', horizon), h('label', { class: 'check' }, marks, ' anomaly markers'),
  submit, cancel, msg);
  cancel.hidden = true;
  return {
    el,
    edit: (w) => {
      editing = w;
      title.value = w.title;
      kind.value = w.kind;
      metric.value = w.metricKeys.join(', ');
      dims.value = w.dimensions.join(', ');
      grain.value = w.grain ?? '';
      limit.value = w.limit === null ? '' : String(w.limit);
      horizon.value = w.overlay?.forecast ? String(w.overlay.forecast.horizon) : '';
      marks.checked = Boolean(w.overlay?.anomalies);
      heading.textContent = `Edit widget: ${w.title}`;
      submit.textContent = 'Save widget';
      cancel.hidden = false;
      clear(msg);
      el.classList.add('editing-widget');
      el.scrollIntoView({ block: 'nearest' });
      title.focus();
    },
    fail: (err) => clear(msg, errorBox(err)),
  };
}

/**
 * In edit mode (cards are draggable only then) a widget can be dragged onto another to take its place (the
 * ↑/↓ buttons do the same from the keyboard); the order is saved with
 * reorderWidgets.
 */
function dragToReorder(grid: HTMLElement, dash: Dashboard, reload: () => void): void {
  let dragged = '';
  grid.querySelectorAll<HTMLElement>('.widget').forEach((card) => {
    card.addEventListener('dragstart', (e) => {
      dragged = card.dataset.widget!;
      e.dataTransfer?.setData('text/plain', dragged);
      card.classList.add('dragging');
    });
    card.addEventListener('dragend', () => card.classList.remove('dragging'));
    card.addEventListener('dragover', (e) => { if (dragged && dragged !== card.dataset.widget) e.preventDefault(); });
    card.addEventListener('drop', (e) => {
      e.preventDefault();
      const target = card.dataset.widget!;
      const ids = dash.widgets.map((w) => w.id).filter((id) => id !== dragged);
      ids.splice(ids.indexOf(target) + (dash.widgets.findIndex((w) => w.id === dragged) < dash.widgets.findIndex((w) => w.id === target) ? 1 : 0), 0, dragged);
      dragged = '';
      void saveOrder(dash, ids).then(reload, (err) => grid.before(errorBox(err)));
    });
  });
}

/** o without its null and empty fields (an output object sent back as input). */
function defined(o: object | null | undefined): Record<string, unknown> {
  return Object.fromEntries(Object.entries(o ?? {}).filter(([, v]) => v !== null && v !== '' && !(Array.isArray(v) && !v.length)));
}

// Monitors and alert rules: the tenant's monitors (the key-metric defaults
// included) with a chart of each one's values, expected band, anomaly
// markers, scores and forecast; create / tune / switch off (admin); alert
// rules with their current state and state history, a backtest
// (simulateAlertRule) and a form to create one; the live alertEvents feed.
import { atLeast, gql, subscribe, type ApiError } from '../api';
import { timeChart } from '../charts';
import type { Ctx } from '../main';
import { ANOMALY_FIELDS, FORECAST_FIELDS, labelKey, REVIEWED_ANOMALY_FIELDS, toOverlay, type AnomalySeries, type ForecastSeries, type Review } from '../overlay';
import { button, clear, errorBox, field, fmtTime, fmtValue, h, page, select } from '../ui';

interface Monitor {
  id: string;
  name: string;
  metricKey: string;
  filters: { dimension: string; op: string; values: string[] }[];
  dimensions: string[];
  topN: number;
  grain: 'HOUR' | 'DAY';
  detector: string;
  sensitivity: string;
  threshold: number;
  minHistory: number;
  active: boolean;
  isDefault: boolean;
  version: number;
  quietHours: { from: number; to: number; timezone: string } | null;
  lastRun: { scheduledFor: string; kind: string; series: number; scored: number; errors: { series: string; error: string }[] } | null;
}

interface Rule {
  id: string;
  name: string;
  kind: 'THRESHOLD' | 'RELATIVE_CHANGE' | 'ANOMALY';
  metricKey: string;
  grain: string;
  monitorId: string | null;
  comparator: string;
  threshold: number;
  scoreField: string | null;
  for: string;
  enabled: boolean;
  isDefault: boolean;
  version: number;
  snoozedUntil: string | null;
  nextEvaluationAt: string | null;
}

interface HistoryEntry {
  ruleId: string;
  bucket: string;
  series: Record<string, string>;
  fromState: string;
  state: string;
  value: number | null;
  expected: number | null;
  error: string | null;
  evaluatedAt: string;
}

const MONITOR_FIELDS = `id name metricKey filters { dimension op values } dimensions topN grain detector sensitivity threshold minHistory
  active isDefault version quietHours { from to timezone } lastRun { scheduledFor kind series scored errors { series error } }`;
const RULE_FIELDS = 'id name kind metricKey grain monitorId comparator threshold scoreField for enabled isDefault version snoozedUntil nextEvaluationAt';
const HISTORY_FIELDS = 'ruleId bucket series fromState state value expected error evaluatedAt';
const EVENT_FIELDS = 'id event ruleId ruleName kind monitorId metricKey series bucket bucketEnd state previousState value expected confidence detector';
const DETECTORS = ['ensemble', 'counts', 'countshift', 'seasonal', 'ar', 'context', 'bocpd', 'prophet'];
const SENSITIVITIES = ['LOW', 'MEDIUM', 'HIGH'];

/** The state badge of a rule (or an entry of its history). */
function stateBadge(state: string | undefined): HTMLElement {
  const s = state ?? 'NONE';
  return h('span', { class: `status alert-state state-${s.toLowerCase()}`, 'data-state': s }, state ? s.replace('_', ' ') : 'not evaluated');
}

/**
 * A rule's state; before its first evaluation, when the schedule next
 * evaluates it (the alerts tick, every five minutes by default).
 */
function ruleState(r: Rule, state: string | undefined): HTMLElement {
  if (state || !r.nextEvaluationAt) return stateBadge(state);
  const min = Math.max(1, Math.ceil((new Date(r.nextEvaluationAt).getTime() - Date.now()) / 60_000));
  return h('span', { class: 'rule-state', 'data-next-check': r.nextEvaluationAt, title: `The alerts schedule evaluates this rule next at ${fmtTime(r.nextEvaluationAt)}` },
    stateBadge(undefined), ' ', h('span', { class: 'small muted next-check' }, `next check ≤ ${min} min`));
}

/** A monitor's LLM review of a bucket: the verdict and the model's explanation; nothing without one. */
function reviewNote(r: Review | null | undefined): HTMLElement | null {
  if (!r) return null;
  if (r.status !== 'REVIEWED') return h('span', { class: 'small muted', 'data-review': r.status }, `LLM review ${r.status.toLowerCase().replace('_', ' ')}: ${r.reason}`);
  return h('span', { class: 'review', 'data-review': r.status, 'data-verdict': r.verdict ?? '' },
    h('span', { class: `status verdict verdict-${(r.verdict ?? '').toLowerCase()}` }, r.verdict ?? ''), ' ', r.explanation ?? '',
    h('span', { class: 'small muted' }, ` (${r.model})`));
}

/**
 * The review of an ANOMALY event's bucket, read from its monitor's stored
 * scores (the alert used the same score); null when there is none.
 */
async function eventReview(e: { monitorId: string | null; bucket: string; bucketEnd: string; series: Record<string, string> }): Promise<Review | null> {
  if (!e.monitorId) return null;
  const d = await gql<{ metricAnomalies: AnomalySeries[] }>(`query($in: MetricAnomaliesInput!) { metricAnomalies(input: $in) { ${REVIEWED_ANOMALY_FIELDS} } }`,
    { in: { monitorId: e.monitorId, timeRange: { from: e.bucket, to: e.bucketEnd } } });
  const key = labelKey(toLabels(e.series));
  const s = d.metricAnomalies.find((x) => labelKey(x.labels) === key);
  return s?.points.find((p) => new Date(p.bucket).getTime() === new Date(e.bucket).getTime())?.review ?? null;
}

function describeRule(r: Rule): string {
  switch (r.kind) {
    case 'THRESHOLD': return `${r.comparator.toLowerCase()} ${r.threshold}`;
    case 'RELATIVE_CHANGE': return `change ${r.comparator.toLowerCase()} ${r.threshold}% vs previous ${r.grain.toLowerCase()}`;
    default: return `${(r.scoreField ?? 'CONFIDENCE').toLowerCase()} > ${r.threshold} on ${r.monitorId ?? 'its monitor'}`;
  }
}

export async function monitorsPage(ctx: Ctx): Promise<HTMLElement> {
  const r0 = await gql<{ monitorsConnection: { nodes: Monitor[] }; alertRulesConnection: { nodes: Rule[] }; alertHistory: HistoryEntry[] }>(
    `{ monitorsConnection(first: 200) { nodes { ${MONITOR_FIELDS} } } alertRulesConnection(first: 200) { nodes { ${RULE_FIELDS} } }
       alertHistory(timeRange: {last: "30d"}, first: 1000) { ${HISTORY_FIELDS} } }`);
  const d = { monitors: r0.monitorsConnection.nodes, alertRules: r0.alertRulesConnection.nodes, alertHistory: r0.alertHistory };
  const isAdmin = atLeast(ctx.viewer.roles, 'ADMIN');
  // The history is newest bucket first: a rule's first entry is its state now.
  const current = new Map<string, string>();
  for (const e of d.alertHistory) if (!current.has(e.ruleId)) current.set(e.ruleId, e.state);

  const monitorRows = d.monitors.map((m) => h('tr', { 'data-monitor': m.id },
    h('td', {}, h('a', { href: `#/monitors/${encodeURIComponent(m.id)}` }, m.name), m.isDefault ? h('span', { class: 'small muted' }, ' · key metric default') : null),
    h('td', {}, h('code', {}, m.metricKey), m.dimensions.length ? h('div', { class: 'small muted' }, `by ${m.dimensions.join(', ')} (top ${m.topN})`) : null),
    h('td', {}, m.grain),
    h('td', {}, m.detector),
    h('td', { class: 'num' }, `${m.sensitivity.toLowerCase()} · ${m.threshold}`),
    h('td', {}, m.active ? h('span', { class: 'status status-succeeded' }, 'on') : h('span', { class: 'status' }, 'off')),
    h('td', { class: 'small' }, m.lastRun ? `${m.lastRun.kind} ${fmtTime(m.lastRun.scheduledFor)} · ${m.lastRun.scored} scored${m.lastRun.errors.length ? ` · ${m.lastRun.errors.length} errors` : ''}` : 'not evaluated yet')));
  const ruleRows = d.alertRules.map((r) => h('tr', { 'data-rule': r.id },
    h('td', {}, h('a', { href: `#/alerts/${encodeURIComponent(r.id)}` }, r.name), r.isDefault ? h('span', { class: 'small muted' }, ' · default') : null),
    h('td', {}, r.kind.replace('_', ' ').toLowerCase()),
    h('td', {}, h('code', {}, r.metricKey), ' ', h('span', { class: 'small muted' }, r.grain)),
    h('td', {}, describeRule(r), r.for !== '0s' && r.for ? h('span', { class: 'small muted' }, ` for ${r.for}`) : null),
    h('td', {}, ruleState(r, current.get(r.id))),
    h('td', { class: 'small' }, !r.enabled ? 'disabled' : r.snoozedUntil && new Date(r.snoozedUntil) > new Date() ? `snoozed until ${fmtTime(r.snoozedUntil)}` : 'enabled')));

  const feed = h('tbody', {});
  const feedCard = h('div', { class: 'card', 'data-testid': 'alert-feed' }, h('h2', {}, 'Live alert events'),
    h('p', { class: 'small muted' }, 'Pushed by the alertEvents subscription as rules fire and resolve.'),
    h('div', { class: 'table-wrap' }, h('table', { class: 'data' },
      h('thead', {}, h('tr', {}, ['Received', 'Event', 'Rule', 'Series', 'Bucket', 'Value', 'Expected'].map((c) => h('th', {}, c)))), feed)));
  const stop = subscribe<{ alertEvents: { id: string; event: string; ruleName: string; monitorId: string | null; series: Record<string, string>; bucket: string; bucketEnd: string;
    value: number | null; expected: number | null; state: string } }>(
    `subscription { alertEvents { ${EVENT_FIELDS} } }`, {},
    (m) => {
      const e = m.alertEvents;
      feed.prepend(h('tr', { 'data-event': e.id },
        h('td', {}, new Date().toLocaleTimeString('en-GB')), h('td', {}, stateBadge(e.state), ' ', e.event.toLowerCase()), h('td', {}, e.ruleName),
        h('td', { class: 'small' }, Object.entries(e.series ?? {}).map(([k, v]) => `${k}=${v}`).join(', ') || 'all'), h('td', {}, fmtTime(e.bucket)),
        h('td', { class: 'num' }, fmtValue(e.value)), h('td', { class: 'num' }, fmtValue(e.expected))));
      // An ANOMALY event of a monitor with LLM review: its verdict and explanation under the row.
      if (e.monitorId) {
        void eventReview(e).then((r) => {
          const note = reviewNote(r);
          if (note) feed.querySelector(`tr[data-event="${CSS.escape(e.id)}"]`)?.after(h('tr', { class: 'review-row', 'data-review-for': e.id }, h('td', { colspan: 7 }, note)));
        }, (err: ApiError) => feedCard.append(errorBox(err)));
      }
    },
    (err: ApiError) => feedCard.append(errorBox(err)));
  ctx.onLeave(stop);

  const table = (head: string[], rows: HTMLElement[], empty: string) => rows.length
    ? h('div', { class: 'table-wrap' }, h('table', { class: 'data' }, h('thead', {}, h('tr', {}, head.map((c) => h('th', { scope: 'col' }, c)))), h('tbody', {}, rows)))
    : h('p', { class: 'muted' }, empty);
  return page('Monitors',
    h('p', { class: 'muted' }, 'Every key metric is watched by default; alert rules turn anomalies and thresholds into notifications for the admins.'),
    h('div', { class: 'card', 'data-testid': 'monitors' }, h('h2', {}, 'Monitors'),
      table(['Monitor', 'Metric', 'Grain', 'Detector', 'Sensitivity · threshold', 'Status', 'Last evaluation'], monitorRows, 'No monitors.')),
    isAdmin ? monitorForm() : null,
    h('div', { class: 'card alert-rules', 'data-testid': 'alert-rules' }, h('h2', {}, 'Alert rules'),
      table(['Rule', 'Kind', 'Metric', 'Condition', 'State', ''], ruleRows, 'No alert rules.')),
    ruleForm(d.monitors, isAdmin),
    feedCard);
}

/** Creates a monitor (admin); the API's validation message is shown as it comes. */
function monitorForm(): HTMLElement {
  const name = h('input', { name: 'name', placeholder: 'default: the metric name' });
  const metric = h('input', { name: 'metricKey', required: true, placeholder: 'course_completions' });
  const dims = h('input', { name: 'dimensions', placeholder: 'properties.course_id (optional)' });
  const grain = select('grain', [['DAY', 'DAY'], ['HOUR', 'HOUR']], 'DAY', undefined, 'Grain');
  const detector = select('detector', DETECTORS.map((x) => [x, x]), 'ensemble', undefined, 'Detector');
  const sens = select('sensitivity', SENSITIVITIES.map((x) => [x, x]), 'MEDIUM', undefined, 'Sensitivity');
  const msg = h('div', { 'aria-live': 'polite' });
  return h('form', { class: 'card form-row', 'data-testid': 'monitor-form', onsubmit: async (e: Event) => {
    e.preventDefault();
    const list = dims.value.split(',').map((x) => x.trim()).filter(Boolean);
    try {
      const r = await gql<{ createMonitor: { id: string } }>('mutation($in: MonitorInput!) { createMonitor(input: $in) { id } }', { in: {
        name: name.value || null, metricKey: metric.value.trim(), dimensions: list.length ? list : null,
        grain: grain.querySelector('select')!.value, detector: detector.querySelector('select')!.value, sensitivity: sens.querySelector('select')!.value } });
      location.hash = `#/monitors/${encodeURIComponent(r.createMonitor.id)}`;
    } catch (err) {
      clear(msg, errorBox(err));
    }
  } }, h('h2', {}, 'New monitor'), field('Metric key', metric), field('Name', name), field('Dimensions', dims), grain, detector, sens,
  h('button', { type: 'submit', class: 'primary' }, 'Create monitor'), msg);
}

/**
 * A rule's definition: backtest it over a past window (anyone) and create
 * it (admin). The backtest runs simulateAlertRule, which stores and sends
 * nothing.
 */
function ruleForm(monitors: Monitor[], isAdmin: boolean): HTMLElement {
  const name = h('input', { name: 'ruleName', required: true, placeholder: 'Completions dropped' });
  const kind = select('kind', [['ANOMALY', 'anomaly'], ['THRESHOLD', 'threshold'], ['RELATIVE_CHANGE', 'relative change %']], 'ANOMALY', undefined, 'Kind');
  const metric = h('input', { name: 'ruleMetric', required: true, value: 'course_completions' });
  const grain = select('ruleGrain', [['DAY', 'DAY'], ['HOUR', 'HOUR']], 'DAY', undefined, 'Grain');
  const monitor = select('monitorId', [['', '— (the metric\'s default)'], ...monitors.map((m) => [m.id, `${m.name} (${m.id})`] as [string, string])], '', undefined, 'Monitor');
  const comparator = select('comparator', [['ABOVE', 'above'], ['BELOW', 'below']], 'ABOVE', undefined, 'Comparator');
  const threshold = h('input', { name: 'threshold', type: 'number', step: 'any', required: true, value: '0.6', class: 'narrow' });
  const forDur = h('input', { name: 'for', placeholder: '0s', class: 'narrow', title: 'how long the condition holds before FIRING, e.g. 2d' });
  const range = select('simRange', [['30d', 'last 30 days'], ['90d', 'last 90 days'], ['180d', 'last 180 days']], '90d', undefined, 'Backtest over');
  const msg = h('div', { 'aria-live': 'polite' });
  const result = h('div', { class: 'simulation', 'data-testid': 'simulation' });
  const value = (l: HTMLElement) => l.querySelector('select')!.value;
  const input = () => ({
    name: name.value || 'backtest', kind: value(kind), metricKey: metric.value.trim(), grain: value(grain), monitorId: value(monitor) || null,
    comparator: value(comparator), threshold: Number(threshold.value), for: forDur.value || null,
  });
  const simulate = async () => {
    clear(msg);
    try {
      const d = await gql<{ simulateAlertRule: { entries: HistoryEntry[]; firedBuckets: string[]; events: { event: string; bucket: string }[] } }>(
        `query($in: AlertRuleInput!, $r: TimeRange!) { simulateAlertRule(input: $in, timeRange: $r) {
          entries { ${HISTORY_FIELDS} } firedBuckets events { event bucket } } }`, { in: input(), r: { last: value(range) } });
      clear(result, simulation(d.simulateAlertRule));
    } catch (err) {
      clear(msg, errorBox(err));
    }
  };
  const create = async () => {
    clear(msg);
    try {
      const r = await gql<{ createAlertRule: { id: string } }>('mutation($in: AlertRuleInput!) { createAlertRule(input: $in) { id } }', { in: input() });
      location.hash = `#/alerts/${encodeURIComponent(r.createAlertRule.id)}`;
    } catch (err) {
      clear(msg, errorBox(err));
    }
  };
  return h('form', { class: 'card form-row', 'data-testid': 'rule-form', onsubmit: (e: Event) => { e.preventDefault(); void simulate(); } },
    h('h2', {}, isAdmin ? 'New alert rule' : 'Backtest a rule'), field('Name', name), kind, field('Metric key', metric), grain, monitor, comparator,
    field('Threshold (score, value or %)', threshold), field('For', forDur), range,
    h('button', { type: 'submit' }, 'Backtest'), isAdmin ? button('Create rule', () => void create(), 'primary') : null, msg, result);
}

/** A backtest: the values the rule saw, the buckets that would have fired, the transitions. */
function simulation(sim: { entries: HistoryEntry[]; firedBuckets: string[]; events: { event: string; bucket: string }[] }): HTMLElement[] {
  // One series drawn (a rule split by dimensions shows its first).
  const first = sim.entries.length ? labelKey(toLabels(sim.entries[0].series)) : '';
  const entries = sim.entries.filter((e) => labelKey(toLabels(e.series)) === first).sort((a, b) => a.bucket.localeCompare(b.bucket));
  const chart = h('div', { class: 'chart', role: 'img', 'aria-label': 'backtest' });
  const fired = new Set(sim.firedBuckets);
  requestAnimationFrame(() => timeChart(chart, [{ name: 'value', points: entries.map((e) => ({ bucket: e.bucket, value: e.value })) }],
    { overlay: { markers: entries.filter((e) => fired.has(e.bucket) && e.value !== null).map((e) => ({ bucket: e.bucket, value: e.value!, score: 1 })) } }));
  return [
    h('p', { 'data-testid': 'fired-count', 'data-fired': String(sim.firedBuckets.length) },
      h('strong', {}, `${sim.firedBuckets.length} bucket${sim.firedBuckets.length === 1 ? '' : 's'} would have fired`),
      sim.firedBuckets.length ? `: ${sim.firedBuckets.slice(0, 12).map((b) => b.slice(0, b.endsWith('T00:00:00Z') ? 10 : 16).replace('T', ' ')).join(', ')}${sim.firedBuckets.length > 12 ? '…' : ''}` : '',
      ` · ${sim.events.length} notifications · ${sim.entries.length} evaluations`),
    entries.length ? chart : h('p', { class: 'muted' }, 'No completed buckets in this window.'),
  ];
}

function toLabels(series: Record<string, string> | null): { dimension: string; value: string }[] {
  return Object.entries(series ?? {}).map(([dimension, value]) => ({ dimension, value }));
}

/** One monitor: its chart (values, expected band, markers, forecast), scores, anomalies and (admin) tuning. */
export async function monitorPage(ctx: Ctx, id: string): Promise<HTMLElement> {
  const last = ctx.params.get('last') ?? '90d';
  const d = await gql<{ monitor: Monitor }>(`query($id: ID!) { monitor(id: $id) { ${MONITOR_FIELDS} } }`, { id }).catch((err: ApiError) => {
    if (err.code === 'NOT_FOUND') return { monitor: null };
    throw err;
  });
  const m = d.monitor;
  if (!m) return page('Not found', h('p', {}, `No monitor ${id} in tenant ${ctx.viewer.tenant}.`));
  const series = { metricKey: m.metricKey, filters: m.filters.length ? m.filters : null, dimensions: m.dimensions.length ? m.dimensions : null,
    topN: m.dimensions.length ? m.topN : null, grain: m.grain };
  const horizon = m.grain === 'HOUR' ? 48 : 14;
  const stored = await gql<{ metricAnomalies: AnomalySeries[] }>(`query($in: MetricAnomaliesInput!) { metricAnomalies(input: $in) { ${REVIEWED_ANOMALY_FIELDS} } }`,
    { in: { monitorId: m.id, timeRange: { last } } });
  let anomalies = stored.metricAnomalies;
  let source = 'stored scores of this monitor version';
  if (!anomalies.some((s) => s.points.length)) {
    // Not evaluated yet (the backfill is queued): score the same settings now.
    const now = await gql<{ metricAnomalies: AnomalySeries[] }>(`query($in: MetricAnomaliesInput!) { metricAnomalies(input: $in) { ${ANOMALY_FIELDS} } }`,
      { in: { ...series, detector: m.detector, sensitivity: m.sensitivity, timeRange: { last } } });
    anomalies = now.metricAnomalies;
    source = 'scored now: this monitor has no stored scores yet (its backfill is queued)';
  }
  const msg = h('div');
  const fc = await gql<{ metricForecast: ForecastSeries[] }>(`query($in: MetricForecastInput!) { metricForecast(input: $in) { ${FORECAST_FIELDS} } }`,
    { in: { ...series, horizon } }).catch((err) => { msg.append(errorBox(err)); return { metricForecast: [] as ForecastSeries[] }; });

  const charts = anomalies.map((s, i) => {
    const name = s.labels.map((l) => l.value).join(' · ') || m.name;
    const values = h('div', { class: 'chart monitor-chart', role: 'img', 'aria-label': `${name}: values`, 'data-series': String(i) });
    const scores = h('div', { class: 'chart score-chart', role: 'img', 'aria-label': `${name}: scores` });
    requestAnimationFrame(() => {
      const overlay = toOverlay([labelKey(s.labels)], fc.metricForecast, [s], true);
      timeChart(values, [{ name, points: s.points.map((p) => ({ bucket: p.bucket, value: p.value })) }], { grain: m.grain, overlay });
      timeChart(scores, [{ name: 'score', points: s.points.map((p) => ({ bucket: p.bucket, value: p.score })) },
        { name: `threshold ${m.threshold}`, points: s.points.map((p) => ({ bucket: p.bucket, value: m.threshold })) }],
        { grain: m.grain, overlay: { markers: s.points.filter((p) => p.anomalous).map((p) => ({ bucket: p.bucket, value: p.score, score: p.score })) } });
    });
    const flagged = s.points.filter((p) => p.anomalous);
    // The LLM review column only when the monitor has reviews (llmReview EXPLAIN or RERANK).
    const reviewed = flagged.some((p) => p.review);
    return h('div', { class: 'card', 'data-testid': 'monitor-series' }, h('h2', {}, name), values, scores,
      h('p', { class: 'small muted', 'data-testid': 'anomaly-count', 'data-count': String(flagged.length) }, `${flagged.length} anomalous of ${s.points.length} buckets`),
      flagged.length ? h('div', { class: 'table-wrap' }, h('table', { class: 'data anomalies' },
        h('thead', {}, h('tr', {}, ['Bucket', 'Value', 'Expected', 'Score', ...(reviewed ? ['LLM review'] : [])].map((c) => h('th', {}, c)))),
        h('tbody', {}, flagged.slice(-20).reverse().map((p) => h('tr', { 'data-bucket': p.bucket },
          h('td', {}, fmtTime(p.bucket)), h('td', { class: 'num' }, fmtValue(p.value)), h('td', { class: 'num' }, fmtValue(p.expected)), h('td', { class: 'num' }, p.score.toFixed(2)),
          reviewed ? h('td', { class: 'small' }, reviewNote(p.review)) : null))))) : null);
  });
  const rangeSel = select('range', [['30d', 'Last 30 days'], ['90d', 'Last 90 days'], ['180d', 'Last 180 days'], ['365d', 'Last 365 days']], last,
    (v) => { location.hash = `#/monitors/${encodeURIComponent(m.id)}?last=${v}`; }, 'Time range');
  return page(m.name,
    h('p', { class: 'muted' }, h('code', {}, m.metricKey), ` · ${m.grain} · ${m.detector} · threshold ${m.threshold} · min history ${m.minHistory}`,
      m.active ? '' : ' · switched off', m.isDefault ? ' · key-metric default' : ''),
    h('div', { class: 'controls' }, rangeSel, h('span', { class: 'small muted', 'data-testid': 'score-source' }, source)),
    msg,
    charts.length ? charts : h('p', { class: 'muted' }, 'No data for this metric in the window.'),
    atLeast(ctx.viewer.roles, 'ADMIN') ? tuneForm(m) : null);
}

/** Tune or switch off a monitor (admin): updateMonitor with its other settings kept. */
function tuneForm(m: Monitor): HTMLElement {
  const detector = select('detector', DETECTORS.map((x) => [x, x]), m.detector, undefined, 'Detector');
  const sens = select('sensitivity', SENSITIVITIES.map((x) => [x, x]), m.sensitivity, undefined, 'Sensitivity');
  const threshold = h('input', { name: 'threshold', type: 'number', step: 'any', placeholder: 'from sensitivity', class: 'narrow' });
  const active = h('input', { type: 'checkbox', name: 'active', checked: m.active });
  const msg = h('div', { 'aria-live': 'polite' });
  return h('form', { class: 'card form-row', 'data-testid': 'tune-form', onsubmit: async (e: Event) => {
    e.preventDefault();
    const input = {
      name: m.name, metricKey: m.metricKey, grain: m.grain, dimensions: m.dimensions, topN: m.dimensions.length ? m.topN : null,
      filters: m.filters.map((f) => ({ dimension: f.dimension, op: f.op, values: f.values })),
      detector: detector.querySelector('select')!.value, sensitivity: sens.querySelector('select')!.value,
      threshold: threshold.value ? Number(threshold.value) : null, active: active.checked,
      quietHours: m.quietHours,
    };
    try {
      await gql('mutation($id: ID!, $v: Int!, $in: MonitorInput!) { updateMonitor(id: $id, expectedVersion: $v, input: $in) { version } }', { id: m.id, v: m.version, in: input });
      location.reload();
    } catch (err) {
      clear(msg, errorBox(err));
    }
  } }, h('h2', {}, 'Tune'), detector, sens, field('Threshold', threshold), h('label', { class: 'check' }, active, ' active'),
  h('button', { type: 'submit', class: 'primary' }, 'Save'), msg);
}

/** One alert rule: its state history and a backtest over a window. */
export async function alertRulePage(ctx: Ctx, id: string): Promise<HTMLElement> {
  const d = await gql<{ alertRule: Rule | null; alertHistory: HistoryEntry[] }>(
    `query($id: ID!) { alertRule(id: $id) { ${RULE_FIELDS} } alertHistory(ruleId: $id, timeRange: {last: "180d"}, transitionsOnly: true, first: 200) { ${HISTORY_FIELDS} } }`, { id });
  const r = d.alertRule;
  if (!r) return page('Not found', h('p', {}, `No alert rule ${id} in tenant ${ctx.viewer.tenant}.`));
  const result = h('div', { 'data-testid': 'simulation' });
  const msg = h('div');
  const range = select('simRange', [['30d', 'last 30 days'], ['90d', 'last 90 days'], ['180d', 'last 180 days']], '90d', undefined, 'Backtest over');
  const backtest = async () => {
    clear(msg);
    try {
      const s = await gql<{ simulateAlertRule: { entries: HistoryEntry[]; firedBuckets: string[]; events: { event: string; bucket: string }[] } }>(
        `query($in: AlertRuleInput!, $r: TimeRange!) { simulateAlertRule(input: $in, timeRange: $r) { entries { ${HISTORY_FIELDS} } firedBuckets events { event bucket } } }`,
        { in: { name: r.name, kind: r.kind, metricKey: r.metricKey, grain: r.grain, monitorId: r.monitorId, comparator: r.comparator, threshold: r.threshold,
          scoreField: r.scoreField, for: r.for }, r: { last: range.querySelector('select')!.value } });
      clear(result, simulation(s.simulateAlertRule));
    } catch (err) {
      clear(msg, errorBox(err));
    }
  };
  return page(r.name,
    h('p', { class: 'muted' }, `${r.kind.replace('_', ' ').toLowerCase()} · `, h('code', {}, r.metricKey), ` · ${r.grain} · ${describeRule(r)}`,
      r.enabled ? '' : ' · disabled'),
    h('div', { class: 'card', 'data-testid': 'state-history' }, h('h2', {}, 'State history'),
      d.alertHistory.length
        ? h('div', { class: 'table-wrap' }, h('table', { class: 'data' }, h('thead', {}, h('tr', {}, ['Bucket', 'Series', 'From', 'To', 'Value', 'Expected', 'Error'].map((c) => h('th', {}, c)))),
          h('tbody', {}, d.alertHistory.map((e) => h('tr', {}, h('td', {}, fmtTime(e.bucket)),
            h('td', { class: 'small' }, Object.entries(e.series ?? {}).map(([k, v]) => `${k}=${v}`).join(', ') || 'all'),
            h('td', {}, stateBadge(e.fromState)), h('td', {}, stateBadge(e.state)), h('td', { class: 'num' }, fmtValue(e.value)),
            h('td', { class: 'num' }, fmtValue(e.expected)), h('td', { class: 'error-text' }, e.error ?? ''))))))
        : h('p', { class: 'muted' }, 'No state changes in the last 180 days.')),
    h('div', { class: 'card' }, h('h2', {}, 'Backtest'), h('div', { class: 'row' }, range, button('Run backtest', () => void backtest(), 'primary')), msg, result));
}

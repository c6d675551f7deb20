// Journeys: funnels (bars per step, breakdown by a property), retention (a
// heat-map triangle) and paths (a Sankey), over funnelQuery, retentionQuery
// and pathsQuery (viewer role). Admins can save a funnel step's users as a
// cohort (saveFunnelActorsAsCohort).
import { atLeast, gql } from '../api';
import { barChart } from '../charts';
import { funnelChart, retentionHeatmap, sankeyChart } from '../charts-journeys';
import type { Ctx } from '../main';
import { button, clear, errorBox, field, h, page, RANGES, select } from '../ui';

interface Step {
  step: number;
  label: string;
  eventType: string;
  entered: number;
  converted: number;
  conversionFromFirst: number;
  conversionFromPrevious: number;
  dropOff: number;
  dropOffRate: number;
  medianTimeToConvertSeconds: number | null;
}

interface RetentionCohort {
  start: string;
  size: number;
  cells: { offset: number; users: number; rate: number }[];
}

const STEP_FIELDS = 'step label eventType entered converted conversionFromFirst conversionFromPrevious dropOff dropOffRate medianTimeToConvertSeconds';
const TABS: [string, string][] = [['funnel', 'Funnel'], ['retention', 'Retention'], ['paths', 'Paths']];
const PCT = { format: '0.0%', unit: 'ratio' };

export async function journeysPage(ctx: Ctx): Promise<HTMLElement> {
  const r = await gql<{ eventTypeCounts: { type: string }[]; cohortsConnection: { nodes: { id: string; name: string }[] } }>(
    '{ eventTypeCounts(timeRange: {last: "365d"}) { type } cohortsConnection(first: 200) { nodes { id name } } }');
  const d = { eventTypeCounts: r.eventTypeCounts, cohorts: r.cohortsConnection.nodes };
  const types = h('datalist', { id: 'event-types' }, d.eventTypeCounts.map((t) => h('option', { value: t.type })));
  const cohortSel = (name: string) =>
    select(name, [['', 'All users'], ...d.cohorts.map((c): [string, string] => [c.id, c.name])], '', undefined, 'Cohort');
  const isAdmin = atLeast(ctx.viewer.roles, 'ADMIN');

  const panels: Record<string, { el: HTMLElement; run: () => Promise<void>; ran: boolean }> = {
    funnel: funnelPanel(cohortSel('funnel-cohort'), isAdmin),
    retention: retentionPanel(cohortSel('retention-cohort')),
    paths: pathsPanel(cohortSel('paths-cohort')),
  };
  const tablist = h('div', { class: 'tabs', role: 'tablist', 'aria-label': 'Journey analyses' });
  const show = (tab: string) => {
    for (const [id, text] of TABS) {
      const on = id === tab;
      panels[id].el.hidden = !on;
      const b = tablist.querySelector<HTMLButtonElement>(`[data-tab=${id}]`)!;
      b.setAttribute('aria-selected', String(on));
      b.tabIndex = on ? 0 : -1;
      b.textContent = text;
    }
    history.replaceState(null, '', `#/journeys?tab=${tab}`);
    const p = panels[tab];
    if (!p.ran) {
      p.ran = true;
      void p.run();
    }
  };
  TABS.forEach(([id, text], i) => {
    const b = h('button', { type: 'button', role: 'tab', id: `tab-${id}`, 'aria-controls': `panel-${id}`, 'data-tab': id, onclick: () => show(id) }, text);
    // Arrow keys move between tabs, as in any tab list.
    b.addEventListener('keydown', (e: KeyboardEvent) => {
      if (e.key !== 'ArrowRight' && e.key !== 'ArrowLeft') return;
      const next = TABS[(i + (e.key === 'ArrowRight' ? 1 : TABS.length - 1)) % TABS.length][0];
      show(next);
      tablist.querySelector<HTMLButtonElement>(`[data-tab=${next}]`)!.focus();
    });
    tablist.append(b);
  });
  for (const [id] of TABS) {
    panels[id].el.id = `panel-${id}`;
    panels[id].el.setAttribute('role', 'tabpanel');
    panels[id].el.setAttribute('aria-labelledby', `tab-${id}`);
  }
  const out = page('Journeys', types, tablist, TABS.map(([id]) => panels[id].el));
  const want = ctx.params.get('tab') ?? 'funnel';
  show(panels[want] ? want : 'funnel');
  return out;
}

function eventInput(name: string, value: string, label: string): HTMLLabelElement {
  return field(label, h('input', { name, value, list: 'event-types', required: true, autocomplete: 'off', spellcheck: 'false' }));
}

function rangeSel(name: string, value: string): HTMLLabelElement {
  return select(name, RANGES, value, undefined, 'Time range');
}

function val(root: HTMLElement, name: string): string {
  return root.querySelector<HTMLInputElement | HTMLSelectElement>(`[name=${name}]`)!.value.trim();
}

function cohortsOf(root: HTMLElement, name: string): string[] | null {
  const id = val(root, name);
  return id ? [id] : null;
}

function fmtSeconds(s: number | null): string {
  if (s === null) return '—';
  if (s < 90) return `${Math.round(s)} s`;
  if (s < 5400) return `${Math.round(s / 60)} min`;
  if (s < 172800) return `${(s / 3600).toFixed(1)} h`;
  return `${(s / 86400).toFixed(1)} d`;
}

const int = (n: number) => n.toLocaleString('en-US');
const pct = (r: number) => `${(r * 100).toFixed(1)}%`;

function funnelPanel(cohort: HTMLElement, isAdmin: boolean): { el: HTMLElement; run: () => Promise<void>; ran: boolean } {
  const steps = h('ol', { class: 'steps' });
  const addStep = (type: string) => {
    const li = h('li', {},
      h('input', { name: 'step', value: type, list: 'event-types', required: true, autocomplete: 'off', 'aria-label': 'Event type of the step' }),
      button('✕', () => { if (steps.children.length > 2) li.remove(); }, 'icon'));
    li.querySelector('button')!.setAttribute('aria-label', 'Remove this step');
    steps.append(li);
  };
  ['course.enrolled', 'lesson.started', 'lesson.completed', 'quiz.submitted', 'course.completed'].forEach(addStep);
  const chart = h('div', { class: 'chart funnel-chart', role: 'img', 'aria-label': 'funnel: users per step' });
  const breakdownChart = h('div', { class: 'chart funnel-breakdown-chart', role: 'img', 'aria-label': 'conversion per breakdown value' });
  const breakdownCard = h('div', { class: 'card', hidden: true }, h('h2', {}, 'Conversion from the first step by value'), breakdownChart);
  const table = h('div', { class: 'funnel-table' });
  const msg = h('div', { 'aria-live': 'polite' });
  const save = h('div');
  const form = h('form', { class: 'controls journey-controls' },
    h('fieldset', { class: 'dims' }, h('legend', {}, 'Steps, in order'), steps, button('+ Add step', () => addStep(''), 'link')),
    rangeSel('funnel-range', '90d'),
    field('Conversion window', h('input', { name: 'window', value: '30d', class: 'narrow', required: true, title: 'a number and m, h, d or w, e.g. 14d' })),
    select('order', [['ORDERED', 'in order'], ['STRICT', 'strictly in order'], ['UNORDERED', 'any order']], 'ORDERED', undefined, 'Order'),
    field('Breakdown property', h('input', { name: 'breakdown', placeholder: 'course_id', class: 'narrow-wide' })),
    cohort,
    h('button', { type: 'submit', class: 'primary' }, 'Run funnel'));
  const input = () => ({
    steps: [...steps.querySelectorAll<HTMLInputElement>('input[name=step]')].map((i) => ({ eventType: i.value.trim() })),
    conversionWindow: val(form, 'window'),
    order: val(form, 'order'),
    timeRange: { last: val(form, 'funnel-range') },
    breakdown: val(form, 'breakdown') ? { property: val(form, 'breakdown'), topN: 5 } : null,
    cohorts: cohortsOf(form, 'funnel-cohort'),
  });
  const run = async () => {
    clear(msg);
    const v = input();
    try {
      const r = await gql<{ funnelQuery: { steps: Step[]; breakdowns: { value: string; other: boolean; steps: Step[] }[] } }>(
        `query($in: FunnelInput!) { funnelQuery(input: $in) { steps { ${STEP_FIELDS} } breakdowns { value other steps { ${STEP_FIELDS} } } } }`, { in: v });
      const f = r.funnelQuery;
      funnelChart(chart, f.steps);
      chart.dataset.ready = String(Date.now());
      breakdownCard.hidden = f.breakdowns.length === 0;
      if (f.breakdowns.length) {
        barChart(breakdownChart, f.steps.map((s, i) => `${i + 1}. ${s.label}`),
          f.breakdowns.map((b) => ({ name: b.other ? 'other' : b.value || '(none)', values: b.steps.map((s) => s.conversionFromFirst) })), PCT);
      }
      clear(table, funnelTable(f.steps, f.breakdowns));
      if (isAdmin) clear(save, saveCohortForm(v, f.steps));
    } catch (err) {
      clear(msg, errorBox(err));
    }
  };
  form.addEventListener('submit', (e) => { e.preventDefault(); void run(); });
  const el = h('section', { class: 'journey' }, form, msg, h('div', { class: 'card' }, chart), breakdownCard, table, save);
  return { el, run, ran: false };
}

function funnelTable(steps: Step[], breakdowns: { value: string; other: boolean; steps: Step[] }[]): HTMLElement {
  const head = h('tr', {}, ['Step', 'Entered', 'From first', 'From previous', 'Dropped off', 'Median time'].map((c, i) => h('th', { scope: 'col', class: i ? 'num' : '' }, c)));
  const rows = steps.map((s) => h('tr', { 'data-step': s.step },
    h('td', {}, `${s.step}. ${s.label}`, s.label !== s.eventType ? h('span', { class: 'type' }, ` ${s.eventType}`) : null),
    h('td', { class: 'num', 'data-value': s.entered }, int(s.entered)),
    h('td', { class: 'num' }, pct(s.conversionFromFirst)),
    h('td', { class: 'num' }, pct(s.conversionFromPrevious)),
    h('td', { class: 'num' }, s.step === 1 ? '—' : `${int(s.dropOff)} (${pct(s.dropOffRate)})`),
    h('td', { class: 'num' }, fmtSeconds(s.medianTimeToConvertSeconds))));
  const out = h('div', { class: 'table-wrap' }, h('table', { class: 'data' }, h('thead', {}, head), h('tbody', {}, rows)));
  if (!breakdowns.length) return out;
  const bhead = h('tr', {}, h('th', { scope: 'col' }, 'Value'), steps.map((s) => h('th', { scope: 'col', class: 'num' }, `${s.step}. ${s.label}`)));
  const brows = breakdowns.map((b) => h('tr', { 'data-breakdown': b.value },
    h('td', {}, b.other ? 'other values' : b.value || '(none)'),
    b.steps.map((s) => h('td', { class: 'num' }, int(s.entered), h('span', { class: 'muted small' }, ` ${pct(s.conversionFromFirst)}`)))));
  return h('div', {}, out, h('h2', {}, 'By breakdown value'),
    h('div', { class: 'table-wrap' }, h('table', { class: 'data breakdown-table' }, h('thead', {}, bhead), h('tbody', {}, brows))));
}

function saveCohortForm(funnel: Record<string, unknown>, steps: Step[]): HTMLElement {
  const msg = h('div', { 'aria-live': 'polite' });
  const form = h('form', { class: 'card form-row' },
    h('h2', {}, 'Save users as a cohort'),
    select('actors-step', steps.map((s): [string, string] => [String(s.step), `${s.step}. ${s.label}`]), String(Math.min(2, steps.length)), undefined, 'Step'),
    select('actors-which', [['reached', 'reached the step'], ['dropped', 'reached it, not the next']], 'dropped', undefined, 'Users who'),
    field('Cohort name', h('input', { name: 'actors-name', required: true, placeholder: 'Stalled after enrolling' })),
    h('button', { type: 'submit' }, 'Save cohort'), msg);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    try {
      const r = await gql<{ saveFunnelActorsAsCohort: { id: string; name: string; size: number | null } }>(
        'mutation($in: FunnelActorsCohortInput!) { saveFunnelActorsAsCohort(input: $in) { id name size } }',
        { in: { funnel, step: Number(val(form, 'actors-step')), dropped: val(form, 'actors-which') === 'dropped', name: val(form, 'actors-name') } });
      const c = r.saveFunnelActorsAsCohort;
      clear(msg, h('p', { class: 'ok' }, `Saved ${int(c.size ?? 0)} users. `, h('a', { href: `#/cohorts/${c.id}` }, `Open ${c.name}`)));
    } catch (err) {
      clear(msg, errorBox(err));
    }
  });
  return form;
}

function periodLabel(iso: string, period: string): string {
  const d = iso.slice(0, 10);
  return period === 'MONTH' ? d.slice(0, 7) : d;
}

function retentionPanel(cohort: HTMLElement): { el: HTMLElement; run: () => Promise<void>; ran: boolean } {
  const chart = h('div', { class: 'chart retention-chart', role: 'img', 'aria-label': 'retention heat-map' });
  const msg = h('div', { 'aria-live': 'polite' });
  const summary = h('p', { class: 'small muted', 'data-testid': 'retention-summary' });
  const form = h('form', { class: 'controls journey-controls' },
    eventInput('start', 'course.enrolled', 'Start event'),
    eventInput('return', 'lesson.completed', 'Return event'),
    select('period', [['DAY', 'day'], ['WEEK', 'week'], ['MONTH', 'month']], 'WEEK', undefined, 'Period'),
    field('Periods', h('input', { name: 'periods', type: 'number', min: '1', max: '52', value: '8', class: 'narrow', required: true })),
    select('mode', [['FIRST_TIME', 'first time'], ['RECURRING', 'recurring']], 'FIRST_TIME', undefined, 'Start cohorts'),
    rangeSel('retention-range', '90d'),
    cohort,
    h('button', { type: 'submit', class: 'primary' }, 'Run retention'));
  const run = async () => {
    clear(msg);
    const period = val(form, 'period');
    try {
      const r = await gql<{ retentionQuery: { cohorts: RetentionCohort[]; mean: { offset: number; users: number; rate: number }[] } }>(
        `query($in: RetentionInput!) { retentionQuery(input: $in) { cohorts { start size cells { offset users rate } } mean { offset users rate } } }`,
        { in: {
          startEvent: { eventType: val(form, 'start') }, returnEvent: { eventType: val(form, 'return') },
          period, periods: Number(val(form, 'periods')), mode: val(form, 'mode'),
          timeRange: { last: val(form, 'retention-range') }, cohorts: cohortsOf(form, 'retention-cohort'),
        } });
      const res = r.retentionQuery;
      const total = res.cohorts.reduce((a, c) => a + c.size, 0);
      // Periods in which nobody started carry no information: not drawn.
      const started = res.cohorts.filter((c) => c.size > 0);
      const rows = [
        { label: 'Mean', size: total, cells: res.mean },
        ...started.map((c) => ({ label: periodLabel(c.start, period), size: c.size, cells: c.cells })),
      ];
      chart.style.height = `${Math.max(240, 40 + rows.length * 34)}px`;
      retentionHeatmap(chart, rows);
      chart.dataset.ready = String(Date.now());
      const p1 = res.mean.find((m) => m.offset === 1);
      const empty = res.cohorts.length - started.length;
      summary.textContent = `${started.length} start ${period.toLowerCase()}s, ${int(total)} users` + (p1 ? `; on average ${pct(p1.rate)} came back one ${period.toLowerCase()} later` : '') +
        (empty ? ` (${empty} ${period.toLowerCase()}s in which nobody started are not shown)` : '');
    } catch (err) {
      clear(msg, errorBox(err));
    }
  };
  form.addEventListener('submit', (e) => { e.preventDefault(); void run(); });
  return { el: h('section', { class: 'journey' }, form, msg, summary, h('div', { class: 'card' }, chart)), run, ran: false };
}

function pathsPanel(cohort: HTMLElement): { el: HTMLElement; run: () => Promise<void>; ran: boolean } {
  const chart = h('div', { class: 'chart paths-chart', role: 'img', 'aria-label': 'paths Sankey' });
  const msg = h('div', { 'aria-live': 'polite' });
  const summary = h('p', { class: 'small muted', 'data-testid': 'paths-summary' });
  const form = h('form', { class: 'controls journey-controls' },
    select('anchor', [['start', 'starting at'], ['end', 'ending at']], 'start', undefined, 'Paths'),
    eventInput('anchor-event', 'course.enrolled', 'Event'),
    field('Steps', h('input', { name: 'steps', type: 'number', min: '2', max: '10', value: '5', class: 'narrow', required: true })),
    field('Edges', h('input', { name: 'max-edges', type: 'number', min: '1', max: '500', value: '40', class: 'narrow', required: true })),
    rangeSel('paths-range', '30d'),
    cohort,
    h('button', { type: 'submit', class: 'primary' }, 'Run paths'));
  const run = async () => {
    clear(msg);
    const anchor = { eventType: val(form, 'anchor-event') };
    try {
      const r = await gql<{ pathsQuery: { nodes: { step: number; eventType: string; users: number }[]; edges: { step: number; from: string; to: string; users: number }[] } }>(
        `query($in: PathsInput!) { pathsQuery(input: $in) { nodes { step eventType users } edges { step from to users } } }`,
        { in: {
          startEvent: val(form, 'anchor') === 'start' ? anchor : null, endEvent: val(form, 'anchor') === 'end' ? anchor : null,
          steps: Number(val(form, 'steps')), maxEdges: Number(val(form, 'max-edges')),
          timeRange: { last: val(form, 'paths-range') }, cohorts: cohortsOf(form, 'paths-cohort'),
        } });
      const p = r.pathsQuery;
      sankeyChart(chart, p.nodes, p.edges);
      chart.dataset.ready = String(Date.now());
      summary.textContent = p.edges.length
        ? `${p.edges.length} moves between ${p.nodes.length} event types by step; the widest: ${p.edges[0].from} → ${p.edges[0].to} (${int(p.edges[0].users)} users)`
        : 'No paths in this window.';
    } catch (err) {
      clear(msg, errorBox(err));
    }
  };
  form.addEventListener('submit', (e) => { e.preventDefault(); void run(); });
  return { el: h('section', { class: 'journey' }, form, msg, summary, h('div', { class: 'card' }, chart)), run, ran: false };
}

// Insights: ask a question, watch its steps live (insightProgress), read the
// explanation and findings with links to their evidence (the SQL or metric
// request and the values it returned), see the charts drawn from evidence,
// the confidence and provenance, and rate the answer. An admin pins a chart
// to a dashboard (pinInsightChart), where it is drawn as an INSIGHT widget.
import { atLeast, gql, subscribe } from '../api';
import { dispose } from '../charts';
import { drawInsightChart, INSIGHT_CHART_FIELDS, type InsightChart } from '../insight-chart';
import type { Ctx } from '../main';
import { button, clear, errorBox, field, fmtTime, h, page } from '../ui';

interface Evidence {
  id: string;
  tool: string;
  request: string;
  sql: string | null;
  ranAt: string;
  rows: number;
  values: { name: string; value: number }[] | null;
  labels: string[];
}

interface Insight {
  id: string;
  question: string;
  status: string;
  engine: string;
  createdAt: string;
  error: string | null;
  steps: { at: string; kind: string; message: string }[];
  interpretation: { kind: string; metricName: string | null; period: { label: string } | null; compare: { label: string } | null; dimension: string | null; assumptions: string[] } | null;
  explanation: string | null;
  findings: { text: string; evidence: string[] }[];
  charts: InsightChart[];
  evidence: Evidence[];
  grounding: { status: string; checked: number; ungrounded: string[] } | null;
  confidence: { score: number; level: string; reasons: string[] } | null;
  provenance: { engine: string; promptVersion: string; toolCalls: number; tokensIn: number; tokensOut: number; latencyMs: number; engineMs: number } | null;
}

const PROGRESS = 'id status error steps { at kind message }';
const FULL = `id question status engine createdAt error steps { at kind message }
  interpretation { kind metricName period { label } compare { label } dimension assumptions }
  explanation findings { text evidence } charts { ${INSIGHT_CHART_FIELDS} }
  evidence { id tool request sql ranAt rows values labels }
  grounding { status checked ungrounded } confidence { score level reasons }
  provenance { engine promptVersion toolCalls tokensIn tokensOut latencyMs engineMs }`;

export async function insightsPage(ctx: Ctx): Promise<HTMLElement> {
  const list = await gql<{ insights: { nodes: Pick<Insight, 'id' | 'question' | 'status' | 'createdAt'>[] } }>(
    '{ insights(first: 10) { nodes { id question status createdAt } } }');
  // A full-width box: Enter asks, Shift+Enter starts a new line.
  const question = h('textarea', { name: 'question', required: true, class: 'question', rows: 2,
    placeholder: 'e.g. Why did course completions drop last month? What is average quiz score by course?' });
  question.value = ctx.params.get('q') ?? '';
  question.addEventListener('keydown', (e: KeyboardEvent) => {
    if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
      e.preventDefault();
      form.requestSubmit();
    }
  });
  const msg = h('div');
  const form: HTMLFormElement = h('form', { class: 'card ask-form', 'data-ask': '', onsubmit: async (e: Event) => {
    e.preventDefault();
    try {
      const r = await gql<{ askInsight: { id: string } }>('mutation($q: String!) { askInsight(question: $q) { id } }', { q: question.value });
      location.hash = `#/insights/${r.askInsight.id}`;
    } catch (err) {
      clear(msg, errorBox(err));
    }
  } }, question, h('button', { type: 'submit', class: 'primary' }, 'Ask'), msg);
  const recent = list.insights.nodes.length
    ? h('ul', { class: 'insight-list' }, list.insights.nodes.map((i) => h('li', {},
        h('a', { href: `#/insights/${i.id}` }, i.question), ' ', h('span', { class: 'muted' }, `${i.status} · ${fmtTime(i.createdAt)}`))))
    : h('p', { class: 'muted' }, 'No questions asked yet.');
  return page('Insights', h('p', { class: 'muted' },
    'Ask about your metrics: what is M, M by course, why did M change, is anything unusual, forecasts, cohort sizes. Every number links to the query that produced it.'),
  form, h('h2', {}, 'Recent questions'), recent);
}

/** One insight: live steps until it is final, then the answer. */
export async function insightPage(ctx: Ctx, id: string): Promise<HTMLElement> {
  const first = await gql<{ insight: Insight | null }>(`query($id: ID!) { insight(id: $id) { ${FULL} } }`, { id });
  if (!first.insight) return page('Not found', h('p', {}, `No insight ${id} in tenant ${ctx.viewer.tenant}.`));
  const canPin = atLeast(ctx.viewer.roles, 'ADMIN');
  const steps = h('ol', { class: 'insight-steps', 'data-steps': '' });
  const status = h('span', { class: 'badge', 'data-status': '' }, first.insight.status);
  const body = h('div', { 'data-answer': '' });
  const out = page(first.insight.question, h('p', {}, status, ' ', h('span', { class: 'muted' }, first.insight.engine)), steps, body);
  // Evidence ids in the steps are plain text until the answer (and its evidence) is there, then links.
  let link = (eid: string): HTMLElement => h('span', { class: 'evidence-ref' }, eid);
  const showSteps = (i: Pick<Insight, 'status' | 'steps' | 'error'>) => {
    status.textContent = i.status;
    clear(steps, i.steps.map((s) => h('li', { 'data-kind': s.kind }, h('code', {}, s.kind), ' ', stepText(s.message, link))));
  };
  const showAnswer = (i: Insight) => {
    const ev = evidenceLinks(i);
    link = ev.link;
    showSteps(i);
    clear(body, answer(i, canPin, ev));
  };
  const finish = async () => {
    const d = await gql<{ insight: Insight }>(`query($id: ID!) { insight(id: $id) { ${FULL} } }`, { id });
    if (!ctx.current()) return;
    showAnswer(d.insight);
    drawCharts(body, d.insight.charts);
  };
  ctx.onLeave(() => dispose(body));
  if (first.insight.status === 'QUEUED' || first.insight.status === 'RUNNING') {
    const stop = subscribe<{ insightProgress: Insight }>(`subscription($id: ID!) { insightProgress(id: $id) { ${PROGRESS} } }`, { id },
      (d) => {
        showSteps(d.insightProgress);
        if (d.insightProgress.status !== 'QUEUED' && d.insightProgress.status !== 'RUNNING') void finish();
      },
      (err) => clear(body, errorBox(err)));
    showSteps(first.insight);
    ctx.onLeave(stop);
  } else {
    showAnswer(first.insight);
    queueMicrotask(() => drawCharts(body, first.insight!.charts));
  }
  return out;
}

/** An insight's evidence detail box and the links (in the steps, the explanation, the findings) that open it. */
interface EvidenceLinks {
  detail: HTMLElement;
  link: (eid: string) => HTMLElement;
}

function evidenceLinks(i: Insight): EvidenceLinks {
  const ev = new Map(i.evidence.map((e) => [e.id, e]));
  const detail = h('div', { class: 'card evidence-detail', 'data-evidence-detail': '', hidden: true });
  const link = (eid: string) => h('a', { href: '#', class: 'evidence-link', 'data-evidence': eid, onclick: (e: Event) => {
    e.preventDefault();
    showEvidence(detail, ev.get(eid));
    // A step's link is far above the detail: bring it into view.
    if ((e.currentTarget as Element).closest('[data-steps]')) detail.scrollIntoView({ block: 'nearest' });
  } }, eid);
  return { detail, link };
}

function answer(i: Insight, canPin: boolean, { detail, link }: EvidenceLinks): HTMLElement {
  if (i.status === 'FAILED') return h('div', { class: 'error', role: 'alert' }, i.error ?? 'failed');
  const c = i.confidence;
  const p = i.provenance;
  const it = i.interpretation;
  return h('div', {},
    it ? h('p', { class: 'muted', 'data-interpretation': '' }, `Read as ${it.kind}`, it.metricName ? ` of ${it.metricName}` : '',
      it.period ? `, ${it.period.label}` : '', it.compare ? ` vs ${it.compare.label}` : '', it.dimension ? ` by ${it.dimension}` : '',
      it.assumptions.length ? ` (assumed: ${it.assumptions.join('; ')})` : '') : null,
    h('div', { class: 'card explanation', 'data-explanation': '' }, markdown(i.explanation ?? '', link)),
    i.findings.length ? h('div', { class: 'card' }, h('h2', {}, 'Findings'), h('ul', { 'data-findings': '' },
      i.findings.map((f) => h('li', {}, markdown(f.text, link), ' ', f.evidence.map((e) => [link(e), ' ']))))) : null,
    i.charts.map((ch, n) => h('div', { class: 'card' }, h('h3', {}, ch.title, ' ', link(ch.evidence)),
      h('div', { class: ch.type === 'table' ? '' : 'chart', 'data-chart': String(n), 'data-chart-type': ch.type }),
      canPin && i.status === 'SUCCEEDED' ? pinControl(i.id, n, ch.title) : null)),
    h('p', { class: 'evidence-list', 'data-evidence-list': '' }, 'Evidence: ', i.evidence.map((e) => [link(e.id), ` ${e.tool} (${e.rows} rows) `])),
    detail,
    h('div', { class: 'card', 'data-confidence': '' }, h('h2', {}, 'Confidence'),
      c ? [h('p', {}, h('strong', { 'data-level': '' }, c.level), ` ${c.score.toFixed(2)}`), h('ul', {}, c.reasons.map((r) => h('li', {}, r)))] : '—',
      i.grounding ? h('p', { 'data-grounding': '' }, `${i.grounding.status}: ${i.grounding.checked} numbers checked`,
        i.grounding.ungrounded.length ? `; not found in any evidence: ${i.grounding.ungrounded.join(', ')}` : '') : null),
    p ? h('p', { class: 'muted', 'data-provenance': '' }, `${p.engine} · prompt ${p.promptVersion} · ${p.toolCalls} tool calls · `,
      `${p.latencyMs} ms (${p.engineMs} ms in the engine) · tokens ${p.tokensIn}/${p.tokensOut}`) : null,
    rating(i.id));
}

function showEvidence(el: HTMLElement, e: Evidence | undefined): void {
  el.hidden = false;
  if (!e) {
    clear(el, h('p', {}, 'No such evidence.'));
    return;
  }
  clear(el, h('h3', {}, `${e.id} · ${e.tool}`), h('p', { class: 'muted' }, `${fmtTime(e.ranAt)} · ${e.rows} rows`),
    e.sql ? h('pre', { 'data-sql': '' }, e.sql) : null,
    h('pre', { 'data-request': '' }, e.request),
    h('table', { class: 'data', 'data-values': '' }, h('tbody', {}, (e.values ?? []).map((v) => h('tr', {}, h('td', {}, v.name), h('td', { class: 'num' }, String(v.value)))))));
}

function drawCharts(root: HTMLElement, charts: InsightChart[]): void {
  charts.forEach((ch, n) => {
    const el = root.querySelector<HTMLElement>(`[data-chart="${n}"]`);
    if (el) drawInsightChart(el, ch);
  });
}

/** Pins chart n to a dashboard the admin picks, under a title (default the chart's). */
function pinControl(insightId: string, n: number, title: string): HTMLElement {
  const dash = h('select', { name: 'dashboard', 'aria-label': 'Dashboard' }, h('option', { value: '' }, 'Loading dashboards…'));
  const name = h('input', { name: 'title', value: title, 'aria-label': 'Widget title' });
  const msg = h('span', { class: 'small', 'data-pinned': '' });
  void gql<{ dashboards: { nodes: { id: string; slug: string; title: string }[] } }>('{ dashboards(first: 100) { nodes { id slug title } } }')
    .then((d) => clear(dash, d.dashboards.nodes.map((x) => h('option', { value: x.id, 'data-slug': x.slug }, x.title))),
      (err) => clear(msg, errorBox(err)));
  const form = h('form', { class: 'form-row pin', 'data-pin': String(n), onsubmit: async (e: Event) => {
    e.preventDefault();
    try {
      const r = await gql<{ pinInsightChart: { slug: string } }>(
        'mutation($i: ID!, $c: Int!, $d: ID!, $t: String) { pinInsightChart(insightId: $i, chart: $c, dashboardId: $d, title: $t) { slug } }',
        { i: insightId, c: n, d: dash.value, t: name.value || null });
      const slug = r.pinInsightChart.slug;
      clear(msg, 'Pinned to ', h('a', { href: `#/dashboards/${slug}` }, dash.selectedOptions[0]?.textContent ?? slug), '.');
    } catch (err) {
      clear(msg, errorBox(err));
    }
  } }, field('Dashboard', dash), field('Title', name), h('button', { type: 'submit' }, 'Pin to dashboard'), msg);
  return form;
}

/**
 * A progress step's message: the same safe Markdown as the explanation,
 * evidence ids drawn by link (plain text while the answer is pending).
 */
function stepText(message: string, link: (id: string) => HTMLElement): HTMLElement {
  const el = markdown(message, link);
  el.classList.add('step-text');
  return el;
}

function rating(id: string): HTMLElement {
  const msg = h('span', { class: 'muted', 'data-rated': '' });
  const rate = (useful: boolean) => async () => {
    try {
      await gql('mutation($id: ID!, $u: Boolean!) { rateInsight(id: $id, useful: $u) { useful } }', { id, u: useful });
      msg.textContent = useful ? 'Rated useful — thank you.' : 'Rated not useful — thank you.';
    } catch (err) {
      clear(msg, errorBox(err));
    }
  };
  return h('p', { class: 'rate' }, 'Was this useful? ', button('Useful', rate(true)), ' ', button('Not useful', rate(false)), ' ', msg);
}

/**
 * A small, safe Markdown: paragraphs, "- " lists, **bold**, `code`, and
 * evidence ids [E1, E2] as links. Text is never parsed as HTML.
 */
function markdown(src: string, link: (id: string) => HTMLElement): HTMLElement {
  const root = h('div', {});
  let list: HTMLUListElement | null = null;
  for (const line of src.split('\n')) {
    if (!line.trim()) {
      list = null;
      continue;
    }
    if (line.startsWith('- ')) {
      if (!list) root.append((list = h('ul', {})));
      list.append(h('li', {}, inline(line.slice(2), link)));
      continue;
    }
    list = null;
    root.append(h('p', {}, inline(line, link)));
  }
  return root;
}

function inline(text: string, link: (id: string) => HTMLElement): (Node | string)[] {
  const out: (Node | string)[] = [];
  const re = /\*\*([^*]+)\*\*|`([^`]+)`|\[(E\d+(?:,\s*E\d+)*)\]/g;
  let at = 0;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    out.push(text.slice(at, m.index));
    if (m[1] !== undefined) out.push(h('strong', {}, m[1]));
    else if (m[2] !== undefined) out.push(h('code', {}, m[2]));
    else {
      out.push('[');
      m[3].split(/,\s*/).forEach((id, j) => out.push(...(j ? [', ', link(id)] : [link(id)])));
      out.push(']');
    }
    at = m.index + m[0].length;
  }
  out.push(text.slice(at));
  return out;
}

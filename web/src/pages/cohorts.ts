// Cohorts: list, criteria editor (the API's validation messages shown as
// they come), evaluate, size history chart, members.
import { atLeast, gql } from '../api';
import { timeChart } from '../charts';
import type { Ctx } from '../main';
import { button, clear, errorBox, field, fmtTime, h, page } from '../ui';

interface Cohort {
  id: string;
  name: string;
  description: string;
  active: boolean;
  criteria: unknown;
  staticUserCount: number;
  version: number;
  size: number | null;
  lastEvaluatedAt: string | null;
  updatedAt: string;
}

const EXAMPLE = { performed: { type: 'lesson.completed', count: 3, op: 'gte', within: '30d' } };

export async function cohortsPage(ctx: Ctx): Promise<HTMLElement> {
  const d = await gql<{ cohortsConnection: { nodes: Cohort[] } }>(
    '{ cohortsConnection(first: 200) { nodes { id name description active staticUserCount size lastEvaluatedAt updatedAt } } }');
  const rows = d.cohortsConnection.nodes.map((c) => h('tr', { 'data-cohort': c.id },
    h('td', {}, h('a', { href: `#/cohorts/${c.id}` }, c.name), c.description ? h('div', { class: 'small muted' }, c.description) : null),
    h('td', { class: 'num' }, c.size === null ? '—' : c.size.toLocaleString('en-US')),
    h('td', {}, c.active ? 'hourly' : 'manual'),
    h('td', {}, fmtTime(c.lastEvaluatedAt))));
  const out = page('Cohorts',
    rows.length
      ? h('div', { class: 'table-wrap' }, h('table', { class: 'data' }, h('thead', {}, h('tr', {}, ['Cohort', 'Members', 'Evaluation', 'Last evaluated'].map((c) => h('th', {}, c)))), h('tbody', {}, rows)))
      : h('p', { class: 'muted' }, 'No cohorts yet.'));
  if (atLeast(ctx.viewer.roles, 'ADMIN')) out.append(cohortForm(null));
  return out;
}

function cohortForm(c: Cohort | null): HTMLElement {
  const name = h('input', { name: 'name', required: true, value: c?.name ?? '', placeholder: 'Engaged learners' });
  const desc = h('input', { name: 'description', value: c?.description ?? '' });
  const active = h('input', { type: 'checkbox', name: 'active', checked: c ? c.active : true });
  const criteria = h('textarea', { class: 'code', name: 'criteria', rows: 8, spellcheck: 'false', value: JSON.stringify(c?.criteria ?? EXAMPLE, null, 2) });
  const msg = h('div', { 'aria-live': 'polite' });
  return h('form', { class: 'card form-col', onsubmit: async (e: Event) => {
    e.preventDefault();
    let parsed: unknown;
    try {
      parsed = JSON.parse(criteria.value);
    } catch (err) {
      clear(msg, errorBox(new Error(`the criteria are not valid JSON: ${(err as Error).message}`)));
      return;
    }
    const input = { name: name.value, description: desc.value, active: active.checked, criteria: parsed };
    try {
      if (c) {
        await gql('mutation($id: ID!, $v: Int!, $in: CohortInput!) { updateCohort(id: $id, expectedVersion: $v, input: $in) { id } }', { id: c.id, v: c.version, in: input });
        location.reload();
      } else {
        const r = await gql<{ createCohort: { id: string } }>('mutation($in: CohortInput!) { createCohort(input: $in) { id } }', { in: input });
        location.hash = `#/cohorts/${r.createCohort.id}`;
      }
    } catch (err) {
      clear(msg, errorBox(err));
    }
  } },
  h('h2', {}, c ? 'Edit criteria' : 'New cohort'), field('Name', name), field('Description', desc), h('label', { class: 'check' }, active, ' evaluate hourly'),
  field('Criteria (JSON: and / or / not / performed / firstSeen / lastSeen / inCohort)', criteria),
  h('div', { class: 'row' }, h('button', { type: 'submit', class: 'primary' }, c ? 'Save' : 'Create')), msg);
}

export async function cohortPage(ctx: Ctx, id: string): Promise<HTMLElement> {
  const d = await gql<{ cohort: (Cohort & { sizeHistory: { version: number; evaluatedAt: string; size: number; entered: number; exited: number; error: string | null }[]; members: { nodes: string[]; pageInfo: { hasNextPage: boolean } } }) | null }>(
    `query($id: ID!) { cohort(id: $id) { id name description active criteria staticUserCount version size lastEvaluatedAt updatedAt
      sizeHistory(limit: 60) { version evaluatedAt size entered exited error } members(first: 100) { nodes pageInfo { hasNextPage } } } }`, { id });
  const c = d.cohort;
  if (!c) return page('Not found', h('p', {}, `No cohort ${id} in tenant ${ctx.viewer.tenant}.`));
  const msg = h('div');
  const chart = h('div', { class: 'chart', role: 'img', 'aria-label': 'size history' });
  const hist = [...c.sizeHistory].reverse();
  const out = page(c.name,
    h('p', { class: 'muted' }, c.description, ` · ${c.size === null ? 'not evaluated yet' : `${c.size.toLocaleString('en-US')} members`} · last evaluated ${fmtTime(c.lastEvaluatedAt)}`),
    atLeast(ctx.viewer.roles, 'ANALYST') ? h('div', { class: 'row' }, button('Evaluate now', async () => {
      try {
        const r = await gql<{ evaluateCohort: { size: number } }>('mutation($id: ID!) { evaluateCohort(id: $id) { size } }', { id });
        clear(msg, h('p', { class: 'ok' }, `Evaluated: ${r.evaluateCohort.size.toLocaleString('en-US')} members.`));
        setTimeout(() => location.reload(), 600);
      } catch (err) {
        clear(msg, errorBox(err));
      }
    }, 'primary')) : null,
    msg,
    h('div', { class: 'two' },
      h('div', { class: 'card' }, h('h2', {}, 'Size history'), hist.length ? chart : h('p', { class: 'muted' }, 'No evaluations yet.'),
        h('div', { class: 'table-wrap' }, h('table', { class: 'data' }, h('thead', {}, h('tr', {}, ['Evaluated', 'Members', 'Entered', 'Exited', ''].map((x) => h('th', {}, x)))),
          h('tbody', {}, c.sizeHistory.slice(0, 10).map((e) => h('tr', {}, h('td', {}, fmtTime(e.evaluatedAt)), h('td', { class: 'num' }, e.size), h('td', { class: 'num' }, e.entered), h('td', { class: 'num' }, e.exited), h('td', { class: 'error-text' }, e.error ?? ''))))))),
      h('div', { class: 'card' }, h('h2', {}, 'Members'), h('ul', { class: 'members' }, c.members.nodes.map((u) => h('li', {}, h('code', {}, u)))),
        c.members.pageInfo.hasNextPage ? h('p', { class: 'small muted' }, 'First 100 shown.') : null)),
    atLeast(ctx.viewer.roles, 'ADMIN') && c.criteria ? cohortForm(c) : h('pre', { class: 'code card' }, JSON.stringify(c.criteria, null, 2)));
  if (hist.length) requestAnimationFrame(() => timeChart(chart, [{ name: 'members', points: hist.map((e) => ({ bucket: e.evaluatedAt, value: e.size })), format: { format: '#,##0', unit: 'learners' } }], { grain: 'HOUR' }));
  return out;
}

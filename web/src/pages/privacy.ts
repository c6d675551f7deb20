// Privacy (admins): erasure requests with their progress, and the
// retention plan.
import { gql } from '../api';
import type { Ctx } from '../main';
import { clear, errorBox, field, fmtTime, h, page } from '../ui';

interface Erasure {
  id: string;
  userHash: string;
  status: string;
  progress: number;
  requestedAt: string;
  updatedAt: string;
  hot: { events: number; deadLetters: number; cohortUsers: number; rollupDays: number };
  cold: { objects: number; rows: number };
  error: string | null;
}

const ERASURE = 'id userHash status progress requestedAt updatedAt hot { events deadLetters cohortUsers rollupDays } cold { objects rows } error';

export async function privacyPage(ctx: Ctx): Promise<HTMLElement> {
  const list = h('div');
  const msg = h('div');
  let timer = 0;
  ctx.onLeave(() => clearTimeout(timer));
  const refresh = async () => {
    const d = await gql<{ erasureRequests: { nodes: Erasure[] } }>(`{ erasureRequests(first: 50) { nodes { ${ERASURE} } } }`);
    const nodes = d.erasureRequests.nodes;
    clear(list, nodes.length ? h('div', { class: 'table-wrap' }, h('table', { class: 'data' },
      h('thead', {}, h('tr', {}, ['Requested', 'User (hash)', 'Status', 'Progress', 'Hot rows deleted', 'Cold rows rewritten'].map((x) => h('th', {}, x)))),
      h('tbody', {}, nodes.map((e) => h('tr', { 'data-erasure': e.id },
        h('td', {}, fmtTime(e.requestedAt)), h('td', {}, h('code', {}, e.userHash.slice(0, 16) + '…')),
        h('td', {}, h('span', { class: `status status-${e.status.toLowerCase()}` }, e.status), e.error ? h('div', { class: 'small error-text' }, e.error) : null),
        h('td', {}, h('span', { class: 'progress-cell' }, h('progress', { max: '100', value: String(e.progress), 'aria-label': `erasure ${e.id}` }), `${e.progress}%`)),
        h('td', { class: 'num' }, `${e.hot.events} events, ${e.hot.cohortUsers} memberships`),
        h('td', { class: 'num' }, `${e.cold.rows} rows in ${e.cold.objects} files`)))))) : h('p', { class: 'muted' }, 'No erasure requests.'));
    if (nodes.some((n) => n.status !== 'COMPLETED')) timer = window.setTimeout(() => void refresh(), 1500);
  };
  const user = h('input', { name: 'userId', required: true, placeholder: 'learner-0042' });
  const ret = await gql<{ retentionReport: { hotHorizon: string; coldHorizon: string; months: { month: string; rows: number }[]; coldMonths: string[]; expiredMonths: string[] } }>(
    '{ retentionReport { hotHorizon coldHorizon months { month rows } coldMonths expiredMonths } }');
  await refresh();
  const r = ret.retentionReport;
  return page('Privacy',
    h('form', { class: 'card form-row', onsubmit: async (e: Event) => {
      e.preventDefault();
      if (!confirm(`Erase every event of ${user.value}? This cannot be undone.`)) return;
      try {
        await gql(`mutation($u: String!) { requestErasure(userId: $u) { id } }`, { u: user.value });
        user.value = '';
        clear(msg);
        await refresh();
      } catch (err) {
        clear(msg, errorBox(err));
      }
    } }, h('h2', {}, 'Erase a learner'), field('User id', user), h('button', { type: 'submit', class: 'danger' }, 'Request erasure'), msg),
    h('h2', {}, 'Erasure requests'), list,
    h('h2', {}, 'Retention'),
    h('div', { class: 'card' },
      h('p', {}, `Hot tier keeps events from ${fmtTime(r.hotHorizon)}; cold months before ${fmtTime(r.coldHorizon)} are deleted.`),
      h('p', {}, r.months.length ? `Next run moves: ${r.months.map((m) => `${m.month} (${m.rows} events)`).join(', ')}` : 'Nothing to move at the next run.'),
      h('p', { class: 'muted' }, `Cold tier: ${r.coldMonths.join(', ') || 'empty'}${r.expiredMonths.length ? ` · expiring: ${r.expiredMonths.join(', ')}` : ''}`)));
}

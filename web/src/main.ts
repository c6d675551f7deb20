// The console's shell: sign-in, the navigation (pages a role cannot use are
// not shown), the tenant and role of the token, and a hash router.
import './style.css';
import { ApiError, atLeast, gql, highestRole, onLiveState, setToken, token, type Role, type ViewerInfo } from './api';
import { dispose } from './charts';
import { button, clear, errorBox, field, h } from './ui';
import { dashboardsPage, dashboardPage, prefetchDashboard } from './pages/dashboards';
import { explorerPage } from './pages/explorer';
import { exportsPage } from './pages/exports';
import { sqlPage } from './pages/sql';
import { cohortsPage, cohortPage } from './pages/cohorts';
import { reportsPage, reportPage } from './pages/reports';
import { privacyPage } from './pages/privacy';

export interface Ctx {
  viewer: ViewerInfo;
  params: URLSearchParams;
  /** Registers a cleanup run when the page is left (subscriptions, charts). */
  onLeave: (fn: () => void) => void;
  /** Whether this page is still the one shown (false once navigated away). */
  current: () => boolean;
}

interface Route {
  path: RegExp;
  nav?: string;
  href?: string;
  need: Role;
  render: (ctx: Ctx, ...args: string[]) => HTMLElement | Promise<HTMLElement>;
}

const routes: Route[] = [
  { path: /^\/dashboards$/, nav: 'Dashboards', href: '/dashboards', need: 'VIEWER', render: dashboardsPage },
  { path: /^\/dashboards\/([^/]+)$/, need: 'VIEWER', render: dashboardPage },
  { path: /^\/explore$/, nav: 'Explorer', href: '/explore', need: 'VIEWER', render: explorerPage },
  { path: /^\/journeys$/, nav: 'Journeys', href: '/journeys', need: 'VIEWER', render: (ctx) => import('./pages/journeys').then((m) => m.journeysPage(ctx)) },
  { path: /^\/cohorts$/, nav: 'Cohorts', href: '/cohorts', need: 'VIEWER', render: cohortsPage },
  { path: /^\/cohorts\/([^/]+)$/, need: 'VIEWER', render: cohortPage },
  { path: /^\/monitors$/, nav: 'Monitors', href: '/monitors', need: 'VIEWER', render: (ctx) => import('./pages/monitors').then((m) => m.monitorsPage(ctx)) },
  { path: /^\/monitors\/([^/]+)$/, need: 'VIEWER', render: (ctx, id) => import('./pages/monitors').then((m) => m.monitorPage(ctx, id)) },
  { path: /^\/alerts\/([^/]+)$/, need: 'VIEWER', render: (ctx, id) => import('./pages/monitors').then((m) => m.alertRulePage(ctx, id)) },
  { path: /^\/reports$/, nav: 'Reports', href: '/reports', need: 'VIEWER', render: reportsPage },
  { path: /^\/reports\/([^/]+)$/, need: 'VIEWER', render: reportPage },
  { path: /^\/insights$/, nav: 'Insights', href: '/insights', need: 'VIEWER', render: (ctx) => import('./pages/insights').then((m) => m.insightsPage(ctx)) },
  { path: /^\/insights\/([^/]+)$/, need: 'VIEWER', render: (ctx, id) => import('./pages/insights').then((m) => m.insightPage(ctx, id)) },
  { path: /^\/sql$/, nav: 'SQL', href: '/sql', need: 'ANALYST', render: sqlPage },
  { path: /^\/exports$/, nav: 'Exports', href: '/exports', need: 'ANALYST', render: exportsPage },
  { path: /^\/privacy$/, nav: 'Privacy', href: '/privacy', need: 'ADMIN', render: privacyPage },
];

const app = document.getElementById('app')!;
let viewer: ViewerInfo | null = null;
let leave: (() => void)[] = [];
let generation = 0; // bumped by every navigation

async function loadViewer(): Promise<ViewerInfo | null> {
  if (!token()) return null;
  try {
    const d = await gql<{ viewer: ViewerInfo }>('{ viewer { subject tenant roles } }');
    return d.viewer;
  } catch (err) {
    if (err instanceof ApiError && (err.code === 'UNAUTHENTICATED' || err.code === 'FORBIDDEN')) {
      setToken('');
      return null;
    }
    throw err;
  }
}

function liveBadge(): HTMLElement {
  const el = h('span', { class: 'live-badge', 'data-testid': 'live-state', title: 'graphql-ws connection' });
  onLiveState((s) => {
    el.dataset.state = s;
    el.hidden = s === 'idle';
    el.textContent = s === 'live' ? 'Live' : s === 'connecting' ? 'Connecting…' : 'Offline: reconnecting';
  });
  return el;
}

function shell(v: ViewerInfo, current: string): { root: HTMLElement; main: HTMLElement } {
  const role = highestRole(v.roles);
  const links = routes
    .filter((r) => r.nav && atLeast(v.roles, r.need))
    .map((r) => {
      const href = '#' + r.href!;
      const active = current.startsWith(r.href!);
      return h('a', { href, class: active ? 'active' : '', 'aria-current': active ? 'page' : undefined }, r.nav!);
    });
  const main = h('main', { id: 'main', tabindex: '-1' });
  const root = h(
    'div',
    { class: 'shell' },
    h('header', { class: 'top' },
      h('a', { class: 'brand', href: '#/dashboards' }, h('img', { src: '/favicon.svg', alt: '', width: 22, height: 22 }), 'Analytics'),
      h('nav', { 'aria-label': 'Pages' }, links,
        atLeast(v.roles, 'ADMIN') ? h('a', { href: '/playground', target: '_blank', rel: 'noopener' }, 'GraphiQL ↗') : null),
      h('div', { class: 'who' },
        liveBadge(),
        h('span', { class: 'tenant', 'data-testid': 'tenant', title: `subject ${v.subject}` }, v.tenant),
        h('span', { class: `role role-${role.toLowerCase()}`, 'data-testid': 'role' }, role),
        button('Sign out', () => { setToken(''); viewer = null; location.hash = '#/signin'; }, 'link'),
      ),
    ),
    main,
  );
  return { root, main };
}

async function signIn(): Promise<HTMLElement> {
  const input = h('textarea', { id: 'token', name: 'token', rows: 4, placeholder: 'eyJhbGciOi…', autocomplete: 'off', spellcheck: 'false', required: true });
  const msg = h('div', { 'aria-live': 'polite' });
  const submit = async (e: Event) => {
    e.preventDefault();
    setToken(input.value.trim());
    try {
      viewer = await loadViewer();
      if (!viewer) {
        clear(msg, errorBox(new ApiError('the token was not accepted: check that it is complete and not expired', { code: 'UNAUTHENTICATED' })));
        return;
      }
      location.hash = '#/dashboards';
      void route();
    } catch (err) {
      clear(msg, errorBox(err));
    }
  };
  const form = h('form', { class: 'signin card', onsubmit: submit },
    h('h1', {}, 'Sign in'),
    h('p', { class: 'muted' }, 'Paste a bearer token. Your tenant and role come from the token; ', h('code', {}, 'analyticsd token --tenant T --role viewer'), ' prints one.'),
    field('Token', input),
    h('div', { class: 'row' }, h('button', { type: 'submit', class: 'primary' }, 'Sign in')),
    msg,
  );
  // In the embedded dev mode the server offers its dev admin token, to
  // loopback clients only (404 everywhere else).
  try {
    const res = await fetch('/console/dev-token');
    if (res.ok) {
      const { token: dev } = (await res.json()) as { token: string };
      form.insertBefore(
        h('div', { class: 'dev-offer' },
          h('p', {}, 'This server runs in dev mode. Sign in with its dev admin token (tenant ', h('code', {}, 'demo'), ')?'),
          button('Use the dev admin token', () => { input.value = dev; form.requestSubmit(); }, 'primary')),
        form.children[2],
      );
    }
  } catch {
    /* no offer */
  }
  return h('div', { class: 'signin-wrap' }, form);
}

async function route(): Promise<void> {
  leave.forEach((fn) => fn());
  const cleanups: (() => void)[] = [];
  leave = cleanups;
  const mine = ++generation;
  const current = () => mine === generation;
  dispose(app);
  const hash = location.hash.replace(/^#/, '') || '/dashboards';
  const [path, query] = hash.split('?');
  if (path === '/signin' || !token()) {
    viewer = null;
    clear(app, await signIn());
    return;
  }
  if (!viewer) {
    const dash = /^\/dashboards\/([^/]+)$/.exec(path);
    if (dash) prefetchDashboard(decodeURIComponent(dash[1]), new URLSearchParams(query ?? ''));
    try {
      viewer = await loadViewer();
    } catch (err) {
      clear(app, h('div', { class: 'page' }, errorBox(err)));
      return;
    }
    if (!viewer) {
      clear(app, await signIn());
      return;
    }
  }
  const { root, main } = shell(viewer, path);
  clear(app, root);
  const match = routes.map((r) => ({ r, m: r.path.exec(path) })).find((x) => x.m);
  if (!match) {
    clear(main, h('section', { class: 'page' }, h('h1', {}, 'Not found'), h('p', {}, 'No page at ', h('code', {}, path), '. ', h('a', { href: '#/dashboards' }, 'Dashboards'))));
    return;
  }
  if (!atLeast(viewer.roles, match.r.need)) {
    clear(main, h('section', { class: 'page' }, h('h1', {}, 'Not allowed'), errorBox(new ApiError(`this page needs the ${match.r.need} role; your token has ${highestRole(viewer.roles)}`, { code: 'FORBIDDEN' }))));
    return;
  }
  // A page still loading when the user navigates away is cleaned up as soon
  // as it registers anything, and never replaces the newer page.
  const ctx: Ctx = {
    viewer, params: new URLSearchParams(query ?? ''),
    onLeave: (fn) => (current() ? cleanups.push(fn) : fn()),
    current,
  };
  try {
    const args = match.m!.slice(1).map(decodeURIComponent);
    const el = await match.r.render(ctx, ...args);
    if (current()) clear(main, el);
    else dispose(el);
  } catch (err) {
    if (current()) clear(main, h('section', { class: 'page' }, errorBox(err)));
  }
}

window.addEventListener('hashchange', () => void route());
void route();

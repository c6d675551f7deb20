// GraphiQL (npm graphiql, self-hosted: no CDN), with HTTP and graphql-ws
// (subscriptions) pointed at this server. The Authorization header is
// pre-filled with the console's token, or in the embedded dev mode with the
// dev admin token (offered to loopback clients only).
import 'graphiql/setup-workers/vite';
import 'graphiql/style.css';
import './playground.css';
import { createElement } from 'react';
import { createRoot } from 'react-dom/client';
import { GraphiQL } from 'graphiql';
import { createGraphiQLFetcher } from '@graphiql/toolkit';

const DEFAULT_QUERY = `# Every query runs in the tenant of the token in the headers below.
{
  viewer { tenant roles }
  dashboard(idOrSlug: "learner-progress") {
    title
    render(timeRange: { last: "30d" }) {
      widgets { widgetId results { metric { key } totals { value } } }
    }
  }
}

# Subscriptions use graphql-ws on the same URL, e.g.
# subscription { eventTypeCounts(timeRange: { last: "1h" }) { type count } }
`;

async function devToken(): Promise<string> {
  try {
    const res = await fetch('/console/dev-token');
    if (res.ok) return ((await res.json()) as { token: string }).token;
  } catch {
    /* not offered */
  }
  return '';
}

async function main(): Promise<void> {
  const token = localStorage.getItem('analytics.console.token') || (await devToken());
  const ws = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/graphql`;
  // The token also goes into the fetcher itself: GraphiQL fetches the schema
  // (introspection: admins only) before its headers editor is ready. A header
  // typed into the editor still wins.
  const auth: Record<string, string> = token ? { Authorization: `Bearer ${token}` } : {};
  const fetcher = createGraphiQLFetcher({ url: '/graphql', subscriptionUrl: ws, headers: auth, wsConnectionParams: auth });
  const root = createRoot(document.getElementById('graphiql')!);
  root.render(
    createElement(GraphiQL, {
      fetcher,
      defaultQuery: DEFAULT_QUERY,
      defaultHeaders: token ? JSON.stringify({ Authorization: `Bearer ${token}` }, null, 2) : '{\n  "Authorization": "Bearer <token>"\n}',
      isHeadersEditorEnabled: true,
      shouldPersistHeaders: false,
    }),
  );
}

void main();

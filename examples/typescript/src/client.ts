// A small typed client for analyticsd: every request and answer below is
// typed from the schema by graphql-codegen (src/generated/graphql.ts), so a
// schema change that breaks this code fails `tsc --noEmit`.
import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { print } from 'graphql';
import { createClient, type Client } from 'graphql-ws';

import {
  DailyActiveLearnersDocument,
  DashboardsDocument,
  ExportEventsDocument,
  ExportProgressDocument,
  NodeByIdDocument,
  type DashboardsQuery,
  type ExportProgressSubscription,
  type ExportStatus,
} from './generated/graphql.js';

/** An error as the server reports it: extensions.code says what kind. */
export class GraphQLRequestError extends Error {
  constructor(readonly code: string, message: string, readonly field?: string) {
    super(`${code}: ${message}`);
  }
}

/** Sends one query or mutation over HTTP POST with the caller's bearer token. */
export async function request<R, V>(url: string, token: string, doc: TypedDocumentNode<R, V>, variables: V): Promise<R> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ query: print(doc), variables }),
  });
  const body = (await res.json()) as { data?: R | null; errors?: { message: string; extensions?: { code?: string; field?: string } }[] };
  const err = body.errors?.[0];
  if (err) throw new GraphQLRequestError(err.extensions?.code ?? 'INTERNAL', err.message, err.extensions?.field);
  if (body.data == null) throw new GraphQLRequestError('INTERNAL', 'no data');
  return body.data;
}

type Dashboard = DashboardsQuery['dashboards']['edges'][number]['node'];

/** Reads every dashboard, page by page, following pageInfo.endCursor. */
export async function allDashboards(url: string, token: string): Promise<Dashboard[]> {
  const out: Dashboard[] = [];
  let after: string | null = null;
  for (;;) {
    const page: DashboardsQuery = await request(url, token, DashboardsDocument, { first: 50, after });
    out.push(...page.dashboards.edges.map((e) => e.node));
    if (!page.dashboards.pageInfo.hasNextPage) return out;
    after = page.dashboards.pageInfo.endCursor ?? null;
  }
}

/** The last 30 days of daily active learners, one number per day. */
export async function dailyActiveLearners(url: string, token: string): Promise<{ day: string; learners: number }[]> {
  const { metricQuery } = await request(url, token, DailyActiveLearnersDocument, { range: { last: '30d' } });
  const series = metricQuery.series[0];
  return (series?.points ?? []).map((p) => ({ day: p.bucket, learners: p.value ?? 0 }));
}

/** What node(id) found, by type. */
export async function describe(url: string, token: string, id: string): Promise<string> {
  const { node } = await request(url, token, NodeByIdDocument, { id });
  if (!node) return 'not found in your tenant';
  switch (node.__typename) {
    case 'Dashboard':
      return `dashboard ${node.slug}: ${node.title}`;
    case 'Metric':
      return `metric ${node.key}: ${node.name}`;
    case 'ExportJob':
      return `export ${node.id} (${node.status})`;
    default:
      return `${node.__typename} ${node.id}`;
  }
}

/** Subscribes over graphql-transport-ws with a typed document. */
function subscribe<R, V extends Record<string, unknown>>(client: Client, doc: TypedDocumentNode<R, V>, variables: V, next: (value: R) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    client.subscribe<R>({ query: print(doc), variables }, {
      next: (msg) => { if (msg.data) next(msg.data); },
      error: reject,
      complete: resolve,
    });
  });
}

const finished: ExportStatus[] = ['SUCCEEDED', 'FAILED', 'CANCELLED', 'EXPIRED'];

/** Exports yesterday's events as CSV and resolves with the file's signed URL. */
export async function exportEvents(url: string, wsURL: string, token: string): Promise<string> {
  const { exportQuery } = await request(url, token, ExportEventsDocument, {
    input: { events: { timeRange: { last: '1d' } }, format: 'CSV', fileName: 'events' },
  });
  const client = createClient({ url: wsURL, connectionParams: { Authorization: `Bearer ${token}` } });
  let last: ExportProgressSubscription['exportProgress'] | undefined;
  try {
    await subscribe(client, ExportProgressDocument, { id: exportQuery.id }, (v) => {
      last = v.exportProgress;
      if (finished.includes(last.status)) void client.dispose();
    });
  } finally {
    await client.dispose();
  }
  if (last?.status !== 'SUCCEEDED' || !last.url) throw new GraphQLRequestError('EXPORT_' + (last?.status ?? 'LOST'), last?.error ?? 'no file');
  return last.url;
}

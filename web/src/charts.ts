// Charts with Apache ECharts, tree-shaken to what the console draws: line,
// area, bar and pie on a canvas (heat-map and Sankey for the journeys page
// are in charts-journeys.ts, loaded with that page only) (no inline style attributes, so the strict
// CSP holds). The instance is kept on its element (`__chart`) so browser
// tests can read what was really plotted.
import * as echarts from 'echarts/core';
import { BarChart, LineChart, PieChart, ScatterChart } from 'echarts/charts';
import { DatasetComponent, GridComponent, LegendComponent, TooltipComponent } from 'echarts/components';
import { CanvasRenderer } from 'echarts/renderers';
import { fmtValue, type Formattable } from './ui';

echarts.use([LineChart, BarChart, PieChart, ScatterChart, GridComponent, TooltipComponent, LegendComponent, DatasetComponent, CanvasRenderer]);

export interface Point {
  bucket: string;
  value: number | null;
  compareValue?: number | null;
}

export interface Series {
  name: string;
  points: Point[];
  format?: Formattable;
}

/** A band around a line: the forecast after the window, or a detector's expected range. */
export interface Band {
  /** Index of the series it belongs to (its colour). */
  series: number;
  buckets: string[];
  /** The forecast (or expected) value per bucket; null draws no line there. */
  value: (number | null)[];
  lower: (number | null)[];
  upper: (number | null)[];
  /** Legend name, e.g. "forecast (95%)". */
  name: string;
  /** Draw the value as a dashed line continuing the series (a forecast). */
  dashed?: boolean;
}

/** An anomalous bucket of a series: a red dot on the line. */
export interface Marker {
  bucket: string;
  value: number;
  score: number;
}

/** What a time chart draws over its series (dashboard overlays, the monitors page). */
export interface Overlay {
  bands?: Band[];
  markers?: Marker[];
}

export const ANOMALY_COLOR = '#dc2626';

export const PALETTE = ['#2b59c3', '#e07a1f', '#2a9d5c', '#c0392b', '#7d4cb8', '#1b9aaa', '#b8860b', '#d6457a'];

type ChartEl = HTMLElement & { __chart?: echarts.ECharts; __observer?: ResizeObserver };

export function instance(el: ChartEl): echarts.ECharts {
  if (el.__chart && !el.__chart.isDisposed()) return el.__chart;
  const c = echarts.init(el, undefined, { renderer: 'canvas' });
  el.__chart = c;
  const ro = new ResizeObserver(() => c.resize());
  ro.observe(el);
  el.__observer = ro;
  return c;
}

export function dispose(root: Element): void {
  root.querySelectorAll<ChartEl>('.chart').forEach((el) => {
    el.__observer?.disconnect();
    el.__chart?.dispose();
  });
}

/** What timeChart draws and how. */
export interface TimeChartOptions {
  /** Stacked areas instead of lines. */
  area?: boolean;
  /** The buckets' grain (HOUR, DAY, WEEK, …): axis labels and the length of the last bucket. */
  grain?: string;
  /** Draw each series' compareValue as a dashed "(previous)" line. */
  compare?: boolean;
  overlay?: Overlay;
  /**
   * When the data was computed (a render's computedAt): a last bucket that
   * ends after it is incomplete and drawn as "today so far".
   */
  now?: string | number | Date;
}

/** The end of the bucket starting at iso (epoch ms); for an unknown grain, never open. */
export function bucketEnd(iso: string, grain?: string): number {
  const d = new Date(iso);
  const months: Record<string, number> = { MONTH: 1, QUARTER: 3, YEAR: 12 };
  const ms: Record<string, number> = { MINUTE: 60_000, HOUR: 3_600_000, DAY: 86_400_000, WEEK: 7 * 86_400_000 };
  if (grain && grain in months) return d.setUTCMonth(d.getUTCMonth() + months[grain]);
  return grain && grain in ms ? d.getTime() + ms[grain] : -Infinity;
}

/** "today", "this week", … : the open bucket's name in the legend. */
function soFar(grain?: string): string {
  return grain === 'DAY' ? 'today' : `this ${(grain ?? 'bucket').toLowerCase()}`;
}

/**
 * Series s's open bucket as its own series: a dashed segment from the last
 * complete bucket to a hollow point at the open one (stacked with the other
 * open segments when the areas are stacked).
 */
function openSeries(s: Series, i: number, open: number, name: string, n: number, area: boolean, stacked: boolean): echarts.EChartsCoreOption {
  const data: unknown[] = Array(n).fill(null);
  data[open - 1] = { value: s.points[open - 1].value, symbol: 'none' };
  data[open] = { value: s.points[open].value, symbol: 'emptyCircle', symbolSize: 9 };
  return {
    name, type: 'line', color: PALETTE[i % PALETTE.length], showSymbol: true, z: 3,
    lineStyle: { type: 'dashed' }, itemStyle: { borderWidth: 2 },
    areaStyle: area ? { opacity: 0.1 } : undefined, stack: area && stacked ? 'open' : undefined,
    data,
  };
}

/**
 * The axis tooltip when a bucket is open: the open segment's series shows
 * only at the open bucket, named after the series it continues.
 */
function openTooltip(open: number, owners: Map<number, string>, fmt?: Formattable) {
  return (params: unknown): string => {
    const ps = params as { axisValueLabel: string; dataIndex: number; seriesName: string; seriesIndex: number; marker: string; value: unknown }[];
    const rows: string[] = [];
    for (const p of ps) {
      const v = typeof p.value === 'object' && p.value !== null ? (p.value as { value: unknown }).value : p.value;
      if (v === null || v === undefined || v === '-') continue;
      const owner = owners.get(p.seriesIndex);
      if (owner === undefined) rows.push(`${p.marker}${esc(p.seriesName)}: <b>${fmtValue(v as number, fmt)}</b>`);
      else if (p.dataIndex === open) rows.push(`${p.marker}${esc(owner)} (${esc(p.seriesName)}): <b>${fmtValue(v as number, fmt)}</b>`);
    }
    return `${esc(ps[0]?.axisValueLabel ?? '')}<br>${rows.join('<br>')}`;
  };
}

function esc(t: string): string {
  return t.replace(/[&<>"]/g, (c) => `&#${c.charCodeAt(0)};`);
}

function axisLabel(iso: string, grain?: string): string {
  const d = new Date(iso);
  if (grain === 'HOUR' || grain === 'MINUTE') return d.toISOString().slice(5, 16).replace('T', ' ');
  if (grain === 'MONTH' || grain === 'QUARTER' || grain === 'YEAR') return d.toISOString().slice(0, 7);
  return d.toISOString().slice(0, 10);
}

/**
 * Series over time (LINE, AREA): one line per series, optional comparison
 * as dashed; an overlay adds shaded bands (buckets past the series extend
 * the axis), dashed forecast lines and red anomaly dots.
 */
export function timeChart(el: HTMLElement, series: Series[], opts: TimeChartOptions = {}): void {
  const c = instance(el);
  const own = series[0]?.points.map((p) => p.bucket) ?? [];
  // The last bucket still open at `now` (today so far) is drawn apart: a
  // dashed segment to a hollow point, named in the legend, value kept.
  const open = opts.now && own.length > 1 && bucketEnd(own[own.length - 1], opts.grain) > new Date(opts.now).getTime() ? own.length - 1 : -1;
  const openName = open >= 0 ? `${soFar(opts.grain)} so far` : '';
  el.dataset.openBucket = open >= 0 ? own[open] : '';
  const owners = new Map<number, string>(); // open segment's index in lines -> its series' name
  const extra = (opts.overlay?.bands ?? []).flatMap((b) => b.buckets).filter((b) => !own.includes(b));
  const buckets = [...own, ...[...new Set(extra)].sort()];
  const at = new Map(buckets.map((b, i) => [b, i]));
  const fmt = series[0]?.format;
  const lines: echarts.EChartsCoreOption[] = [];
  const legend = series.length > 1 || opts.compare || open >= 0 || Boolean(opts.overlay?.bands?.length || opts.overlay?.markers?.length);
  (opts.overlay?.bands ?? []).forEach((b, k) => lines.push(...bandSeries(b, k, buckets, at, series[b.series])));
  series.forEach((s, i) => {
    lines.push({
      name: s.name,
      type: 'line',
      showSymbol: buckets.length < 40,
      smooth: false,
      areaStyle: opts.area ? { opacity: 0.25 } : undefined,
      stack: opts.area && series.length > 1 ? 'total' : undefined,
      color: PALETTE[i % PALETTE.length],
      data: pad(s.points.map((p, j) => (j === open ? null : p.value)), buckets.length),
    });
    if (open >= 0) {
      owners.set(lines.length, s.name);
      lines.push(openSeries(s, i, open, openName, buckets.length, Boolean(opts.area), series.length > 1));
    }
    if (opts.compare) {
      lines.push({
        name: `${s.name} (previous)`,
        type: 'line',
        showSymbol: false,
        lineStyle: { type: 'dashed', opacity: 0.6 },
        color: PALETTE[i % PALETTE.length],
        data: pad(s.points.map((p) => p.compareValue ?? null), buckets.length),
      });
    }
  });
  const markers = opts.overlay?.markers ?? [];
  if (markers.length) {
    lines.push({
      name: 'anomaly', type: 'scatter', color: ANOMALY_COLOR, symbolSize: 9, z: 5,
      itemStyle: { borderColor: '#fff', borderWidth: 1.5 },
      data: markers.filter((m) => at.has(m.bucket)).map((m) => [at.get(m.bucket), m.value, m.score]),
    });
  }
  c.setOption(
    {
      animation: false,
      grid: { left: 8, right: 16, top: legend ? 32 : 12, bottom: 8, containLabel: true },
      tooltip: { trigger: 'axis', valueFormatter: (v: unknown) => fmtValue(v as number, fmt), formatter: open >= 0 ? openTooltip(open, owners, fmt) : undefined },
      legend: legend ? { top: 0, type: 'scroll', data: [...new Set(lines.map((l) => (l as { name: string }).name).filter((n) => !n.startsWith('\u0000')))] } : undefined,
      // The last date sits on the right edge (no boundary gap): right-aligned
      // to its tick, it ends there instead of being cut in half.
      xAxis: { type: 'category', boundaryGap: false, data: buckets.map((b) => axisLabel(b, opts.grain)), axisLabel: { alignMaxLabel: 'right' } },
      yAxis: { type: 'value', axisLabel: { formatter: (v: number) => fmtValue(v, fmt) } },
      series: lines,
    },
    true,
  );
}

/**
 * A band as ECharts series: its lower edge (invisible) with the band's
 * width stacked on it and shaded, then its value as a line (dashed for a
 * forecast, which starts at the series' last value so it reads as its
 * continuation).
 */
function bandSeries(b: Band, k: number, buckets: string[], at: Map<string, number>, s?: Series): echarts.EChartsCoreOption[] {
  const color = PALETTE[b.series % PALETTE.length];
  const lower: (number | null)[] = buckets.map(() => null);
  const width: (number | null)[] = buckets.map(() => null);
  const value: (number | null)[] = buckets.map(() => null);
  // A band of a series that is never negative (counts, rates) stops at zero.
  const floor = s && s.points.every((p) => p.value === null || p.value >= 0) ? 0 : -Infinity;
  b.buckets.forEach((bucket, j) => {
    const i = at.get(bucket)!;
    const lo = b.lower[j] === null ? null : Math.max(b.lower[j]!, floor);
    const hi = b.upper[j];
    if (lo !== null && hi !== null) {
      lower[i] = lo;
      width[i] = hi - lo;
    }
    value[i] = b.value[j];
  });
  if (b.dashed && s) {
    // From the series' last value before the forecast (the current,
    // incomplete bucket is the forecast's first).
    const last = [...s.points].reverse().find((p) => p.value !== null && p.bucket < b.buckets[0]);
    if (last && at.has(last.bucket)) value[at.get(last.bucket)!] = last.value;
  }
  const hidden = { showSymbol: false, silent: true, lineStyle: { opacity: 0 }, tooltip: { show: false } };
  return [
    { ...hidden, name: `\u0000band-lower-${k}`, type: 'line', stack: `band-${k}`, color, data: lower },
    { ...hidden, name: `${b.name} band`, type: 'line', stack: `band-${k}`, color, areaStyle: { opacity: 0.18 }, data: width },
    { name: b.name, type: 'line', showSymbol: false, color, lineStyle: { type: b.dashed ? 'dashed' : 'dotted', width: b.dashed ? 2 : 1 }, data: value, connectNulls: false },
  ];
}

/** Values per category (BAR); horizontal when labels are long. */
export function barChart(el: HTMLElement, labels: string[], groups: { name: string; values: (number | null)[] }[], fmt?: Formattable): void {
  const c = instance(el);
  const horizontal = labels.some((l) => l.length > 8);
  const cat = { type: 'category', data: labels, axisLabel: { width: 110, overflow: 'truncate' } };
  const val = { type: 'value', axisLabel: { formatter: (v: number) => fmtValue(v, fmt) } };
  c.setOption(
    {
      animation: false,
      grid: { left: 8, right: 16, top: groups.length > 1 ? 32 : 12, bottom: 8, containLabel: true },
      tooltip: { trigger: 'axis', valueFormatter: (v: unknown) => fmtValue(v as number, fmt) },
      legend: groups.length > 1 ? { top: 0 } : undefined,
      xAxis: horizontal ? val : cat,
      yAxis: horizontal ? { ...cat, inverse: true } : val,
      series: groups.map((g, i) => ({ name: g.name, type: 'bar', color: PALETTE[i % PALETTE.length], data: g.values })),
    },
    true,
  );
}

export function pieChart(el: HTMLElement, labels: string[], values: (number | null)[], fmt?: Formattable): void {
  const c = instance(el);
  c.setOption(
    {
      animation: false,
      tooltip: { trigger: 'item', valueFormatter: (v: unknown) => fmtValue(v as number, fmt) },
      legend: { type: 'scroll', orient: 'vertical', right: 0, top: 'middle' },
      color: PALETTE,
      series: [{ type: 'pie', radius: ['35%', '70%'], center: ['40%', '50%'], data: labels.map((l, i) => ({ name: l, value: values[i] })) }],
    },
    true,
  );
}

/** values followed by nulls up to n (a series under an axis a forecast extends). */
function pad(values: (number | null)[], n: number): (number | null)[] {
  return values.length >= n ? values : [...values, ...Array<null>(n - values.length).fill(null)];
}

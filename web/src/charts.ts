// Charts with Apache ECharts, tree-shaken to what the console draws: line,
// area, bar and pie on a canvas (heat-map and Sankey for the journeys page
// are in charts-journeys.ts, loaded with that page only) (no inline style attributes, so the strict
// CSP holds). The instance is kept on its element (`__chart`) so browser
// tests can read what was really plotted.
import * as echarts from 'echarts/core';
import { BarChart, LineChart, PieChart } from 'echarts/charts';
import { DatasetComponent, GridComponent, LegendComponent, TooltipComponent } from 'echarts/components';
import { CanvasRenderer } from 'echarts/renderers';
import { fmtValue, type Formattable } from './ui';

echarts.use([LineChart, BarChart, PieChart, GridComponent, TooltipComponent, LegendComponent, DatasetComponent, CanvasRenderer]);

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

function axisLabel(iso: string, grain?: string): string {
  const d = new Date(iso);
  if (grain === 'HOUR' || grain === 'MINUTE') return d.toISOString().slice(5, 16).replace('T', ' ');
  if (grain === 'MONTH' || grain === 'QUARTER' || grain === 'YEAR') return d.toISOString().slice(0, 7);
  return d.toISOString().slice(0, 10);
}

/** Series over time (LINE, AREA): one line per series, optional comparison as dashed. */
export function timeChart(el: HTMLElement, series: Series[], opts: { area?: boolean; grain?: string; compare?: boolean } = {}): void {
  const c = instance(el);
  const buckets = series[0]?.points.map((p) => p.bucket) ?? [];
  const fmt = series[0]?.format;
  const lines: echarts.EChartsCoreOption[] = [];
  series.forEach((s, i) => {
    lines.push({
      name: s.name,
      type: 'line',
      showSymbol: buckets.length < 40,
      smooth: false,
      areaStyle: opts.area ? { opacity: 0.25 } : undefined,
      stack: opts.area && series.length > 1 ? 'total' : undefined,
      color: PALETTE[i % PALETTE.length],
      data: s.points.map((p) => p.value),
    });
    if (opts.compare) {
      lines.push({
        name: `${s.name} (previous)`,
        type: 'line',
        showSymbol: false,
        lineStyle: { type: 'dashed', opacity: 0.6 },
        color: PALETTE[i % PALETTE.length],
        data: s.points.map((p) => p.compareValue ?? null),
      });
    }
  });
  c.setOption(
    {
      animation: false,
      grid: { left: 8, right: 16, top: series.length > 1 || opts.compare ? 32 : 12, bottom: 8, containLabel: true },
      tooltip: { trigger: 'axis', valueFormatter: (v: unknown) => fmtValue(v as number, fmt) },
      legend: series.length > 1 || opts.compare ? { top: 0, type: 'scroll' } : undefined,
      xAxis: { type: 'category', boundaryGap: false, data: buckets.map((b) => axisLabel(b, opts.grain)) },
      yAxis: { type: 'value', axisLabel: { formatter: (v: number) => fmtValue(v, fmt) } },
      series: lines,
    },
    true,
  );
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

// Charts with Apache ECharts, tree-shaken to what the console draws: line,
// area, bar, pie, heat-map (retention) and Sankey (paths) on a canvas (no inline style attributes, so the strict
// CSP holds). The instance is kept on its element (`__chart`) so browser
// tests can read what was really plotted.
import * as echarts from 'echarts/core';
import { BarChart, HeatmapChart, LineChart, PieChart, SankeyChart } from 'echarts/charts';
import { DatasetComponent, GridComponent, LegendComponent, TooltipComponent, VisualMapComponent } from 'echarts/components';
import { CanvasRenderer } from 'echarts/renderers';
import { fmtValue, type Formattable } from './ui';

echarts.use([LineChart, BarChart, PieChart, HeatmapChart, SankeyChart, GridComponent, TooltipComponent, LegendComponent, DatasetComponent,
  VisualMapComponent, CanvasRenderer]);

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

function instance(el: ChartEl): echarts.ECharts {
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

const COUNT: Formattable = { format: '#,##0', unit: 'users' };
const PERCENT: Formattable = { format: '0.0%', unit: 'ratio' };

/**
 * A funnel: per step the users who entered it (solid, labelled with the
 * conversion from the first step) and, stacked on top, those who dropped
 * off since the previous step (pale).
 */
export function funnelChart(el: HTMLElement, steps: { label: string; entered: number; dropOff: number; conversionFromFirst: number }[]): void {
  const c = instance(el);
  c.setOption(
    {
      animation: false,
      grid: { left: 8, right: 16, top: 32, bottom: 8, containLabel: true },
      tooltip: { trigger: 'axis', valueFormatter: (v: unknown) => fmtValue(v as number, COUNT) },
      legend: { top: 0 },
      xAxis: { type: 'category', data: steps.map((s, i) => `${i + 1}. ${s.label}`), axisLabel: { interval: 0, width: 120, overflow: 'truncate' } },
      yAxis: { type: 'value', axisLabel: { formatter: (v: number) => fmtValue(v, COUNT) } },
      series: [
        {
          name: 'Entered', type: 'bar', stack: 'funnel', color: PALETTE[0], barMaxWidth: 90, data: steps.map((s) => s.entered),
          label: { show: true, position: 'insideTop', color: '#fff', formatter: (p: { dataIndex: number }) => fmtValue(steps[p.dataIndex].conversionFromFirst, PERCENT) },
        },
        { name: 'Dropped off', type: 'bar', stack: 'funnel', color: '#c9d3ea', barMaxWidth: 90, data: steps.map((s) => s.dropOff) },
      ],
    },
    true,
  );
}

/**
 * A retention triangle as a heat-map: one row per start period (newest at
 * the bottom, the weighted mean on top), one column per later period, the
 * cell's colour and label its rate.
 */
export function retentionHeatmap(el: HTMLElement, rows: { label: string; size: number; cells: { offset: number; users: number; rate: number }[] }[]): void {
  const c = instance(el);
  const offsets = Math.max(0, ...rows.map((r) => r.cells.length));
  const data = rows.flatMap((r, y) => r.cells.map((cell) => [cell.offset, y, Math.round(cell.rate * 1000) / 10, cell.users]));
  c.setOption(
    {
      animation: false,
      grid: { left: 8, right: 16, top: 8, bottom: 28, containLabel: true },
      tooltip: {
        formatter: (p: { value: number[] }) => `${rows[p.value[1]].label}, period ${p.value[0]}: ${fmtValue(p.value[3], COUNT)} users (${p.value[2]}%)`,
      },
      xAxis: { type: 'category', data: Array.from({ length: offsets }, (_, i) => String(i)), name: 'periods later', nameLocation: 'middle', nameGap: 24, axisTick: { show: false } },
      yAxis: { type: 'category', inverse: true, data: rows.map((r) => `${r.label}  (${fmtValue(r.size, COUNT)})`), axisTick: { show: false } },
      visualMap: { show: false, min: 0, max: 100, dimension: 2, inRange: { color: ['#f1f5ff', '#8fa8e3', '#2b59c3'] } },
      series: [{
        type: 'heatmap', data, itemStyle: { borderColor: '#fff', borderWidth: 1 },
        label: { show: true, fontSize: 11, formatter: (p: { value: number[] }) => `${p.value[2]}%` },
        emphasis: { itemStyle: { borderColor: '#14213d', borderWidth: 1 } },
      }],
    },
    true,
  );
}

/**
 * Paths as a Sankey: one column per step, links as wide as their users. A
 * node is as tall as its drawn links (a node's own count, which includes
 * users whose path ends there, is in its tooltip), so the flows stay legible.
 */
export function sankeyChart(el: HTMLElement, nodes: { step: number; eventType: string; users: number }[], edges: { step: number; from: string; to: string; users: number }[]): void {
  const c = instance(el);
  const key = (step: number, type: string) => `${step}. ${type}`;
  const users = new Map(nodes.map((n) => [key(n.step, n.eventType), n.users]));
  const types = [...new Set(nodes.map((n) => n.eventType))].sort();
  c.setOption(
    {
      animation: false,
      tooltip: {
        trigger: 'item',
        formatter: (p: { dataType: string; name: string; value: number; data: { source?: string; target?: string } }) => p.dataType === 'edge'
          ? `${p.data.source!.replace(/^\d+\. /, '')} → ${p.data.target!.replace(/^\d+\. /, '')}: ${fmtValue(p.value, COUNT)} users`
          : `step ${p.name.replace('. ', ': ')}, ${fmtValue(users.get(p.name) ?? 0, COUNT)} users`,
      },
      series: [{
        type: 'sankey', left: 8, right: 150, top: 12, bottom: 12, nodeAlign: 'left', nodeGap: 12, draggable: false,
        emphasis: { focus: 'adjacency' },
        lineStyle: { color: 'source', opacity: 0.3 },
        label: { fontSize: 12, formatter: (p: { name: string }) => p.name.replace(/^\d+\. /, '') },
        data: nodes.map((n) => ({ name: key(n.step, n.eventType), itemStyle: { color: PALETTE[types.indexOf(n.eventType) % PALETTE.length] } })),
        links: edges.map((e) => ({ source: key(e.step, e.from), target: key(e.step + 1, e.to), value: e.users })),
      }],
    },
    true,
  );
}

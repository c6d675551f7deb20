// The journeys page's charts: funnel bars, the retention heat-map and the
// paths Sankey. A separate module (and bundle chunk, loaded with the page)
// so that the heat-map and Sankey code does not slow the dashboards' first
// paint.
import * as echarts from 'echarts/core';
import { HeatmapChart, SankeyChart } from 'echarts/charts';
import { VisualMapComponent } from 'echarts/components';
import { instance, PALETTE } from './charts';
import { fmtValue, type Formattable } from './ui';

echarts.use([HeatmapChart, SankeyChart, VisualMapComponent]);

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

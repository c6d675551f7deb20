// An insight's chart (type line, bar or table; an x axis and y series), drawn
// the same way on the insight page and in a dashboard's INSIGHT widget.
import { barChart, timeChart } from './charts';
import { clear, h } from './ui';

/** A chart as Insight.charts and InsightWidgetData.chart return it. */
export interface InsightChart {
  type: string;
  title: string;
  x: string;
  series: { name: string; x: string[] | null; y: number[] | null }[] | null;
  evidence: string;
}

/** The GraphQL fields of an InsightChart. */
export const INSIGHT_CHART_FIELDS = 'type title x series evidence';

/** Draws ch into el: a line over days, bars per label, or a table. */
export function drawInsightChart(el: HTMLElement, ch: InsightChart): void {
  const series = (ch.series ?? []).map((s) => ({ name: s.name, x: s.x ?? [], y: s.y ?? [] }));
  if (!series.length) return;
  if (ch.type === 'line') {
    timeChart(el, series.map((s) => ({ name: s.name, points: s.x.map((b, j) => ({ bucket: b, value: s.y[j] })) })), { grain: 'DAY' });
  } else if (ch.type === 'bar') {
    barChart(el, series[0].x, series.map((s) => ({ name: s.name, values: s.y })));
  } else {
    clear(el, h('table', { class: 'data' }, h('thead', {}, h('tr', {}, h('th', {}, ch.x), series.map((s) => h('th', {}, s.name)))),
      h('tbody', {}, series[0].x.map((x, j) => h('tr', {}, h('td', {}, x), series.map((s) => h('td', { class: 'num' }, String(s.y[j]))))))));
  }
}

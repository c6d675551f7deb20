// Forecast bands and anomaly markers from the API's shapes (a dashboard
// widget's render overlay, metricForecast, metricAnomalies) to what
// timeChart draws, matched to the drawn series by their labels.
import type { Band, Marker, Overlay } from './charts';

export interface Label {
  dimension: string;
  value: string;
}

export interface ForecastSeries {
  labels: Label[];
  model?: string;
  points: { bucket: string; value: number; intervals: { level: number; lower: number; upper: number }[] }[];
}

export interface AnomalySeries {
  labels: Label[];
  points: { bucket: string; value: number; score: number; anomalous: boolean; expected?: number | null; lower?: number | null; upper?: number | null;
    review?: Review | null }[];
}

/** A monitor's LLM review of one bucket (AnomalyPoint.review). */
export interface Review {
  status: string;
  verdict: string | null;
  explanation: string | null;
  reason: string;
  model: string;
}

/** The GraphQL selection of ForecastSeries and AnomalySeries these functions read. */
export const FORECAST_FIELDS = 'labels { dimension value } model points { bucket value intervals { level lower upper } }';
const POINT_FIELDS = 'bucket value expected lower upper score confidence anomalous';
export const ANOMALY_FIELDS = `labels { dimension value } points { ${POINT_FIELDS} }`;
/** ANOMALY_FIELDS with each point's LLM review (the monitors page shows it beside flagged buckets). */
export const REVIEWED_ANOMALY_FIELDS = `labels { dimension value } points { ${POINT_FIELDS} review { status verdict explanation reason model } }`;

/** A series' identity: its labels as "dimension=value" sorted. */
export function labelKey(labels: Label[]): string {
  return labels.map((l) => `${l.dimension}=${l.value}`).sort().join('\u0000');
}

/** The key of a drawn series from its result's dimensions and its values. */
export function seriesKey(dimensions: string[], values: string[]): string {
  return labelKey(dimensions.map((d, i) => ({ dimension: d, value: values[i] ?? '' })));
}

/**
 * The overlay for series drawn in the order of keys: each forecast as a
 * dashed line in its widest interval's band, each anomalous bucket as a
 * marker; with expectedBands, the detector's per-bucket 95% band too.
 */
export function toOverlay(keys: string[], forecast: ForecastSeries[], anomalies: AnomalySeries[], expectedBands = false): Overlay {
  const bands: Band[] = [];
  const markers: Marker[] = [];
  for (const f of forecast) {
    const i = keys.indexOf(labelKey(f.labels));
    if (i < 0 || !f.points.length) continue;
    const widest = (p: ForecastSeries['points'][number]) => p.intervals.reduce((a, b) => (b.level > a.level ? b : a), { level: 0, lower: NaN, upper: NaN });
    const level = widest(f.points[0]).level;
    bands.push({ series: i, buckets: f.points.map((p) => p.bucket), value: f.points.map((p) => p.value),
      lower: f.points.map((p) => widest(p).lower), upper: f.points.map((p) => widest(p).upper), name: `forecast (${level}%)`, dashed: true });
  }
  for (const a of anomalies) {
    const i = keys.indexOf(labelKey(a.labels));
    if (i < 0) continue;
    if (expectedBands) {
      bands.push({ series: i, buckets: a.points.map((p) => p.bucket), value: a.points.map((p) => p.expected ?? null),
        lower: a.points.map((p) => p.lower ?? null), upper: a.points.map((p) => p.upper ?? null), name: 'expected (95%)' });
    }
    markers.push(...a.points.filter((p) => p.anomalous).map((p) => ({ bucket: p.bucket, value: p.value, score: p.score })));
  }
  return { bands, markers };
}

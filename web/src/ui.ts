// Small DOM helpers: no framework, every node built with h().
import { ApiError } from './api';

type Child = Node | string | number | null | undefined | false | Child[];
type Attrs = Record<string, unknown>;

export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Attrs = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on') && typeof v === 'function') {
      el.addEventListener(k.slice(2).toLowerCase(), v as EventListener);
    } else if (k === 'class') {
      el.className = String(v);
    } else if (k === 'value' && 'value' in el) {
      (el as HTMLInputElement).value = String(v);
    } else if (k === 'checked' || k === 'selected' || k === 'disabled') {
      (el as unknown as Record<string, boolean>)[k] = Boolean(v);
    } else {
      el.setAttribute(k, v === true ? '' : String(v));
    }
  }
  append(el, children);
  return el;
}

function append(el: Element, children: Child[]): void {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else el.append(c instanceof Node ? c : String(c));
  }
}

export function clear(el: Element, ...children: Child[]): void {
  el.replaceChildren();
  append(el, children);
}

/** A visible error box: the API's message and code, never swallowed. */
export function errorBox(err: unknown): HTMLElement {
  const e = err instanceof ApiError ? err : new ApiError(err instanceof Error ? err.message : String(err));
  const extra = Object.entries(e.extensions)
    .filter(([k]) => k !== 'code')
    .map(([k, v]) => `${k}: ${typeof v === 'object' ? JSON.stringify(v) : String(v)}`);
  return h('div', { class: 'error', role: 'alert' }, h('strong', {}, e.code), ' ', e.message, extra.length ? h('div', { class: 'muted' }, extra.join(' · ')) : null);
}

export function select(name: string, options: [string, string][], value: string, onChange?: (v: string) => void, label?: string): HTMLLabelElement {
  const s = h('select', { name, onchange: onChange ? (e: Event) => onChange((e.target as HTMLSelectElement).value) : undefined },
    options.map(([v, text]) => h('option', { value: v, selected: v === value }, text)));
  return h('label', { class: 'field' }, h('span', {}, label ?? name), s);
}

export function field(label: string, input: HTMLElement): HTMLLabelElement {
  return h('label', { class: 'field' }, h('span', {}, label), input);
}

export function button(text: string, onClick: (e: Event) => void, cls = ''): HTMLButtonElement {
  return h('button', { type: 'button', class: cls, onclick: onClick }, text);
}

export function page(title: string, ...children: Child[]): HTMLElement {
  return h('section', { class: 'page' }, h('h1', {}, title), ...children);
}

export function fmtTime(iso: string | null | undefined): string {
  if (!iso) return '—';
  const d = new Date(iso);
  return d.toLocaleString('en-GB', { year: 'numeric', month: 'short', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit' });
}

export function fmtBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 / 1024).toFixed(1)} MiB`;
}

export interface Formattable {
  format: string;
  unit: string;
}

/**
 * Formats a value with a metric's spreadsheet-style format hint: "#,##0"
 * (grouped integer), "0.0" (one decimal), "0.0%" (ratio shown as percent).
 */
export function fmtValue(v: number | null | undefined, m?: Formattable): string {
  if (v === null || v === undefined || Number.isNaN(v)) return '—';
  const f = m?.format || '#,##0.##';
  const percent = f.endsWith('%');
  const frac = f.includes('.') ? f.split('.')[1].replace(/[^0#]/g, '') : '';
  const min = (frac.match(/0/g) ?? []).length;
  const max = frac.length;
  const nf = new Intl.NumberFormat('en-US', { minimumFractionDigits: min, maximumFractionDigits: max, useGrouping: f.includes(',') });
  return percent ? `${nf.format(v * 100)}%` : nf.format(v);
}

/** The unit to print after a formatted value (none for percentages and ratios). */
export function unitOf(m?: Formattable): string {
  if (!m || m.format.endsWith('%') || m.unit === 'ratio' || m.unit === '%') return '';
  return m.unit;
}

export const RANGES: [string, string][] = [
  ['24h', 'Last 24 hours'],
  ['7d', 'Last 7 days'],
  ['30d', 'Last 30 days'],
  ['90d', 'Last 90 days'],
  ['180d', 'Last 180 days'],
  ['365d', 'Last 365 days'],
];

export const GRAINS = ['NONE', 'HOUR', 'DAY', 'WEEK', 'MONTH', 'QUARTER', 'YEAR'];

/** The vulnerability trend chart (chart.js, only the parts a line chart needs; loaded on demand). */
import { CategoryScale, Chart, Filler, Legend, LineController, LineElement, LinearScale, PointElement, Tooltip } from 'chart.js';
import type { Dashboard } from './api';

Chart.register(LineController, LineElement, PointElement, LinearScale, CategoryScale, Legend, Tooltip, Filler);

const SERIES: [keyof Dashboard['trend'][number], string][] = [
  ['Critical', '#7f1d1d'], ['High', '#c2410c'], ['Medium', '#a16207'], ['Low', '#1d4ed8'],
];

export function trendChart(canvas: HTMLCanvasElement, trend: Dashboard['trend']): () => void {
  const chart = new Chart(canvas, {
    type: 'line',
    data: {
      labels: trend.map((p) => new Date(p.at).toISOString().slice(5, 16).replace('T', ' ')),
      datasets: SERIES.map(([key, color]) => ({
        label: String(key), data: trend.map((p) => Number(p[key])), borderColor: color, backgroundColor: color, tension: 0.2, pointRadius: 3,
      })),
    },
    options: {
      responsive: true, maintainAspectRatio: false, animation: false,
      interaction: { mode: 'index', intersect: false },
      scales: { y: { beginAtZero: true, ticks: { precision: 0 } } },
      plugins: { legend: { position: 'bottom', labels: { boxWidth: 12 } } },
    },
  });
  return () => chart.destroy();
}

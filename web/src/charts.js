// The custom ECharts build: only what the views use, registered once.
import * as echarts from 'echarts/core';
import { LineChart, ScatterChart, BarChart, ParallelChart, CustomChart }
    from 'echarts/charts';
import { GridComponent, TooltipComponent, LegendComponent,
         VisualMapComponent, DataZoomComponent, ParallelComponent,
         TitleComponent } from 'echarts/components';
import { CanvasRenderer } from 'echarts/renderers';

echarts.use([LineChart, ScatterChart, BarChart, ParallelChart, CustomChart,
             GridComponent, TooltipComponent, LegendComponent,
             VisualMapComponent, DataZoomComponent, ParallelComponent,
             TitleComponent, CanvasRenderer]);

export { echarts };

export const STATE_COLORS = {
    COMPLETE: '#2f7ed8', PRUNED: '#f28f43', FAILED: '#c0392b',
    RUNNING: '#27ae60', WAITING: '#95a5a6', LOST: '#8e44ad',
};

// A chart in el that follows el's size and is disposed with the view.
// onReady runs once the first option is drawn (ECharts' "finished", which
// waits for progressive rendering), or after 4 s at the latest.
export function makeChart(el, views) {
    const chart = echarts.init(el, null, { renderer: 'canvas' });
    const ro = new ResizeObserver(() => chart.resize());
    ro.observe(el);
    views.onDispose(() => { ro.disconnect(); chart.dispose(); });
    return chart;
}

export function whenDrawn(chart, fn) {
    let done = false;
    const once = () => { if (!done) { done = true; fn(); } };
    chart.on('finished', once);
    setTimeout(once, 4000);
}

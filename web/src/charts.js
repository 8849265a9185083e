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
export function makeChart(el, views) {
    const chart = echarts.init(el, null, { renderer: 'canvas' });
    // The observer also fires once at the start: resizing to the same size
    // would redraw every series again (a second at 100,000 trials).
    let w = el.clientWidth, ht = el.clientHeight;
    const ro = new ResizeObserver(() => {
        if (el.clientWidth === w && el.clientHeight === ht) return;
        w = el.clientWidth; ht = el.clientHeight;
        chart.resize();
    });
    ro.observe(el);
    views.onDispose(() => {
        ro.disconnect();
        // A paint spread over frames (a big list) would go on after
        // dispose and throw: an empty immediate repaint supersedes it.
        chart.clear();
        chart.getZr().refreshImmediately();
        chart.dispose();
    });
    return chart;
}

// fn runs once the chart's first frame is on screen: setOption draws
// synchronously, so two animation frames later it has been painted
// (progressive series go on filling in after). ECharts' "finished" was
// tried and is too late or missing with progressive custom series. The
// timer covers a hidden tab, which gets no animation frames.
export function whenDrawn(chart, fn) {
    let done = false;
    const once = () => { if (!done) { done = true; fn(); } };
    requestAnimationFrame(() => requestAnimationFrame(once));
    setTimeout(once, 1000);
}

import studies from './studies.js';
import overview from './overview.js';
import history from './history.js';
import parallel from './parallel.js';
import importance from './importance.js';
import trials from './trials.js';
import curves from './curves.js';
import slice from './slice.js';
import contour from './contour.js';
import timeline from './timeline.js';
import trial from './trial.js';
import notfound from './notfound.js';

// data-view names (web/README.md): the route's last part, "overview" for
// #/study/NAME, "studies" for #/, "trial" for #/study/NAME/trial/N.
export const VIEWS = { studies, overview, history, parallel, importance,
                       trials, curves, slice, contour, timeline, trial,
                       notfound };
export const TABS = ['overview', 'history', 'parallel', 'importance', 'trials',
                     'curves', 'slice', 'contour', 'timeline'];

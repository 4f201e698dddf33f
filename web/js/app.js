// The page's entry point: the two views (#/designer, #/dashboard) switched by the URL's hash,
// the error bar, and starting each view the first time it is shown.

import {clearError} from './api.js';
import {Designer} from './designer.js';
import {Dashboard} from './dashboard.js';

let designer = null;
let dashboard = null;

function route() {
  const hash = location.hash || '#/designer';
  const dash = hash.startsWith('#/dashboard');
  document.getElementById('view-designer').hidden = dash;
  document.getElementById('view-dashboard').hidden = !dash;
  document.getElementById('nav-designer').setAttribute('aria-current', dash ? 'false' : 'page');
  document.getElementById('nav-dashboard').setAttribute('aria-current', dash ? 'page' : 'false');
  if (dash) {
    if (!dashboard) dashboard = new Dashboard();
    dashboard.show();
  } else {
    if (dashboard) dashboard.hide();
    if (!designer) designer = new Designer();
    designer.show();
  }
}

document.getElementById('error-close').addEventListener('click', clearError);
window.addEventListener('hashchange', route);
route();

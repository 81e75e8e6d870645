// The Jupyter widget manager of the notebook page: ipywidgets' HTML manager (controls
// and output widgets of ipywidgets 7 and 8), plus anywidget, talking to the kernel
// through the page's comms (widgets.js passes them in).  Bundled on its own
// (static/build/widgetmanager.js and .css) and loaded the first time a widget appears.
import { amd } from "./amd.js";
import "anywidget";
import "./amd-done.js";
import * as base from "@jupyter-widgets/base";
import { HTMLManager } from "@jupyter-widgets/html-manager/lib/htmlmanager.js";
import { addStylesheet } from "./stylesheet.js";

const anywidget = amd.factory ? amd.factory(base) : null;

function addStyles() {
  addStylesheet("./widgetmanager.css", import.meta.url);
}

export function createManager(host) {
  addStyles();
  class PageManager extends HTMLManager {
    _create_comm(targetName, modelId, data, metadata, buffers) {
      return Promise.resolve(host.createComm(targetName, modelId, data, metadata, buffers));
    }

    _get_comm_info() {
      return host.commInfo();
    }
  }
  return new PageManager({
    loader: (name) => {
      if (name === "anywidget" && anywidget) return Promise.resolve(anywidget);
      return Promise.reject(new Error(`no widget module ${name} on this page`));
    },
  });
}

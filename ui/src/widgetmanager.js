// The Jupyter widget manager of the notebook page: ipywidgets' HTML manager (controls
// and output widgets of ipywidgets 7 and 8), plus anywidget, talking to the kernel
// through the page's comms (widgets.js passes them in).  Bundled on its own
// (static/build/widgetmanager.js and .css) and loaded the first time a widget appears.
import { amd } from "./amd.js";
import "anywidget";
import "./amd-done.js";
import * as base from "@jupyter-widgets/base";
import { HTMLManager } from "@jupyter-widgets/html-manager/lib/htmlmanager.js";

const anywidget = amd.factory ? amd.factory(base) : null;

function addStyles() {
  if (document.querySelector("link[data-rk-widgets]")) return;
  const link = document.createElement("link");
  link.rel = "stylesheet";
  link.href = new URL("./widgetmanager.css", import.meta.url).href;
  link.dataset.rkWidgets = "";
  document.head.append(link);
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

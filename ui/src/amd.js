// anywidget's browser build registers itself with an AMD `define` (as JupyterLab's
// loader expects); this catches its factory so the widget manager can call it.  The
// global exists only while anywidget's module runs (amd-done.js removes it), and has
// no `define.amd`, so no other library takes it for an AMD loader.
export const amd = { factory: null };
globalThis.define = (deps, factory) => { amd.factory = factory; };

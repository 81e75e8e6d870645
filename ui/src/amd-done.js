// See amd.js: anywidget has registered; the global `define` goes.
delete globalThis.define;

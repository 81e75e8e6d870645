// CodeMirror 6 editor for one cell: Python, or SQL for `%%sql` cells.
import { EditorState, Compartment, Prec } from "@codemirror/state";
import {
  EditorView, keymap, drawSelection, highlightActiveLine, highlightSpecialChars,
  placeholder as placeholderExt, tooltips,
} from "@codemirror/view";
import {
  defaultKeymap, history, historyKeymap, indentWithTab,
} from "@codemirror/commands";
import {
  syntaxHighlighting, defaultHighlightStyle, bracketMatching, indentOnInput, indentUnit,
} from "@codemirror/language";
import {
  autocompletion, closeBrackets, closeBracketsKeymap, completionStatus, startCompletion,
} from "@codemirror/autocomplete";
import { python } from "@codemirror/lang-python";
import { sql, PostgreSQL } from "@codemirror/lang-sql";
import { highlightCode } from "@lezer/highlight";
import { StyleModule } from "style-mod";

export function cellLanguage(cellType, text) {
  if (cellType === "markdown" || cellType === "raw") return cellType;  // raw: plain text
  return /^\s*%%sql\b/.test(text) ? "sql" : "python";
}

const theme = EditorView.theme({
  "&": { fontSize: "13.5px", backgroundColor: "transparent" },
  ".cm-content": {
    fontFamily: "var(--mono)", padding: "8px 0", caretColor: "var(--accent)",
  },
  ".cm-line": { padding: "0 12px" },
  "&.cm-focused": { outline: "none" },
  ".cm-activeLine": { backgroundColor: "rgba(79,70,229,0.04)" },
  "&:not(.cm-focused) .cm-activeLine": { backgroundColor: "transparent" },
  ".cm-matchingBracket": { backgroundColor: "rgba(79,70,229,0.18)", outline: "none" },
  ".cm-scroller": { lineHeight: "1.5" },
  ".cm-placeholder": { color: "#9aa1b1" },
});

/** Completions from the kernel's complete_reply (Tab asks for them). */
function kernelCompletions(hooks) {
  return async (context) => {
    if (!hooks.complete) return null;
    const reply = await hooks.complete(context.state.doc.toString(), context.pos);
    if (!reply || reply.status !== "ok" || !reply.matches || !reply.matches.length) return null;
    return {
      from: reply.cursor_start,
      to: reply.cursor_end,
      options: reply.matches.map((label) => ({ label })),
      filter: false,
    };
  };
}

/** Is the cursor right after a name (or attribute access)? Then Tab completes. */
function afterName(view) {
  const { head, empty } = view.state.selection.main;
  if (!empty) return false;
  const line = view.state.doc.lineAt(head);
  return /[\w.]$/.test(line.text.slice(0, head - line.from));
}

// Two instances shared by every editor and the static views.
const LANGUAGES = { python: python(), sql: sql({ dialect: PostgreSQL }) };

function languageSupport(lang) {
  return LANGUAGES[lang] || null;
}

let highlightMounted = false;

/** The code as highlighted lines, without an editor (what a cell shows until it is
 * edited): the same parser and highlight style, so nothing changes when the editor
 * takes its place. */
function renderStatic(content, text, lang, placeholder) {
  if (!highlightMounted && defaultHighlightStyle.module) {
    StyleModule.mount(document, defaultHighlightStyle.module);
    highlightMounted = true;
  }
  const lines = [];
  let line = document.createElement("div");
  line.className = "cm-line";
  const breakLine = () => {
    if (!line.firstChild) line.append(document.createElement("br"));
    lines.push(line);
    line = document.createElement("div");
    line.className = "cm-line";
  };
  const put = (chunk, classes) => {
    if (!classes) { line.append(chunk); return; }
    const span = document.createElement("span");
    span.className = classes;
    span.textContent = chunk;
    line.append(span);
  };
  const support = languageSupport(lang);
  if (!text && placeholder) {
    const span = document.createElement("span");
    span.className = "cm-placeholder";
    span.textContent = placeholder;
    line.append(span);
  } else if (support) {
    highlightCode(text, support.language.parser.parse(text), defaultHighlightStyle, put, breakLine);
  } else {
    text.split("\n").forEach((part, i) => { if (i) breakLine(); if (part) put(part, ""); });
  }
  breakLine();
  content.replaceChildren(...lines);
}

/**
 * Create an editor. `hooks`: {onChange(text), onRun(advance), onEscape(), onFocus(),
 * onSave(), complete(code, pos) -> Promise<complete_reply content>, onInspect(code, pos)}.
 *
 * The CodeMirror view is made when the cell is first edited (focused, clicked, or
 * asked to focus); until then the cell shows its highlighted code.  Every view
 * listens to the whole document (selection changes, scrolling, intersections), so
 * a hundred views made each focus move on a long notebook cost several ms more.
 */
export function createEditor(parent, text, cellType, hooks) {
  let current = cellLanguage(cellType, text);
  let doc = text;
  let view = null;
  const language = new Compartment();
  const setLanguage = (lang) => view.dispatch({ effects: language.reconfigure(languageSupport(lang) || []) });
  const placeholder = cellType === "markdown" ? "Markdown text…" : "Python, or %%sql …";

  const staticContent = document.createElement("div");
  staticContent.className = "cm-content rk-static-content";
  staticContent.tabIndex = 0;
  staticContent.setAttribute("role", "textbox");
  staticContent.setAttribute("aria-multiline", "true");
  staticContent.setAttribute("aria-label", "Cell source");
  const staticView = document.createElement("div");
  staticView.className = "rk-static-editor";
  staticView.append(staticContent);
  renderStatic(staticContent, doc, current, placeholder);
  parent.append(staticView);
  // The editor replaces the code under the pointer and is handed the same press: the
  // caret lands where it was pressed, a drag started there selects, a double click
  // selects a word.
  staticView.addEventListener("mousedown", (event) => {
    if (event.button !== 0) return;
    event.preventDefault();  // the editor takes the focus, not the cell around it
    const v = build();
    v.contentDOM.dispatchEvent(new MouseEvent("mousedown", {
      bubbles: true, cancelable: true, view: window, detail: event.detail,
      screenX: event.screenX, screenY: event.screenY, clientX: event.clientX, clientY: event.clientY,
      ctrlKey: event.ctrlKey, shiftKey: event.shiftKey, altKey: event.altKey, metaKey: event.metaKey,
      button: event.button, buttons: event.buttons,
    }));
    materialize();
  });
  // Focused "soon" (focusSoon): a plain text area in the cell takes the focus (cheap,
  // and a real text input: input methods and dead keys work in it) while the cell shows
  // a caret (the highlighted code's first position, or the editor's own caret where it
  // was). The editor is made and focused by settle(), or at the first key: a key the
  // editor's keymap handles (Tab, Shift+Enter, arrows...) is replayed into it, a
  // character types into it; text composed in the text area (an input method, a dead
  // key) is inserted at the editor's caret when it is committed.
  let waiting = false;
  let composing = false;
  let catcher = null;
  staticContent.addEventListener("focus", () => materialize());

  function makeCatcher() {
    const area = document.createElement("textarea");
    area.className = "rk-key-catcher";
    area.setAttribute("aria-label", "Cell source");
    area.rows = 1;
    area.spellcheck = false;
    area.setAttribute("autocomplete", "off");
    area.setAttribute("autocapitalize", "off");
    area.addEventListener("keydown", (event) => {
      if (!waiting) return;
      event.stopPropagation();  // the page's command keys never see the cell's keys
      if (composing || event.isComposing || event.key === "Process" || event.key === "Dead") {
        build();  // the editor exists when the composed text is committed
        return;
      }
      const v = materialize();
      const replay = new KeyboardEvent("keydown", {
        key: event.key, code: event.code, location: event.location, repeat: event.repeat,
        keyCode: event.keyCode, which: event.which,
        ctrlKey: event.ctrlKey, shiftKey: event.shiftKey, altKey: event.altKey, metaKey: event.metaKey,
        bubbles: true, cancelable: true,
      });
      if (!v.contentDOM.dispatchEvent(replay)) event.preventDefault();
    });
    area.addEventListener("compositionstart", () => { composing = true; area.classList.add("rk-composing"); });
    area.addEventListener("compositionend", () => {
      composing = false;
      area.classList.remove("rk-composing");
      commitCaught();
    });
    area.addEventListener("input", () => { if (!composing) commitCaught(); });
    area.addEventListener("blur", () => {
      if (document.activeElement === area) return;  // the window lost the focus, not the cell
      flushCaught();
      stopWaiting();
    });
    return area;
  }

  /** Text typed or composed into the text area goes to the editor, which takes the focus. */
  function commitCaught() {
    if (!waiting || !catcher || !catcher.value) return;
    flushCaught();
    materialize();
  }

  function flushCaught() {
    if (!catcher || !catcher.value) return;
    const text = catcher.value;
    catcher.value = "";
    const v = build();
    v.dispatch(v.state.replaceSelection(text), { userEvent: "input.type", scrollIntoView: true });
  }

  function stopWaiting() {
    if (!waiting) return;
    waiting = false;
    composing = false;
    parent.classList.remove("rk-editor-soon");
    if (catcher) catcher.remove();
  }

  /** The CodeMirror view, made now if it was not yet (not focused). */
  function build() {
    if (!view) {
      staticView.remove();
      view = makeView(parent, doc);
    }
    return view;
  }

  function materialize() {
    build();
    if (!view.hasFocus) view.focus();
    stopWaiting();
    return view;
  }

  function leave(v, direction) {
    if (!hooks.onLeave || completionStatus(v.state) !== null) return false;
    const { main } = v.state.selection;
    if (!main.empty) return false;
    const line = v.state.doc.lineAt(main.head).number;
    if (direction < 0 ? line !== 1 : line !== v.state.doc.lines) return false;
    return hooks.onLeave(direction);
  }

  function makeView(into, initial) {
    const runKeys = Prec.highest(keymap.of([
      { key: "Shift-Enter", run: () => { hooks.onRun(true); return true; } },
      { key: "Alt-Enter", run: () => { hooks.onRun("insert"); return true; } },
      { key: "Mod-Enter", run: () => { hooks.onRun(false); return true; } },
      // With the completion list open, Escape closes it (its own keymap), as in
      // JupyterLab: the cell stays in edit mode.
      {
        key: "Escape",
        run: (v) => {
          if (completionStatus(v.state) !== null) return false;
          hooks.onEscape();
          return true;
        },
      },
      // JupyterLab's: the arrow keys go on to the cell above (below) from the first
      // (last) line, unless the completion list is open.
      { key: "ArrowUp", run: (v) => leave(v, -1) },
      { key: "ArrowDown", run: (v) => leave(v, 1) },
      { key: "Mod-s", run: () => { hooks.onSave(); return true; }, preventDefault: true },
      // Jupyter's keys: Tab after a name completes (else indents), Shift+Tab inspects.
      { key: "Tab", run: (v) => (afterName(v) ? startCompletion(v) : false) },
      {
        key: "Shift-Tab",
        run: (v) => {
          // Anywhere, as JupyterLab: inside a call's parentheses the kernel finds
          // the function; a selection dedents instead.
          if (!v.state.selection.main.empty || !hooks.onInspect) return false;
          hooks.onInspect(v.state.doc.toString(), v.state.selection.main.head);
          return true;
        },
      },
    ]));
    return new EditorView({
      parent: into,
      state: EditorState.create({
        doc: initial,
        extensions: [
          runKeys,
          highlightSpecialChars(),
          history(),
          drawSelection(),
          indentOnInput(),
          indentUnit.of("    "),
          bracketMatching(),
          closeBrackets(),
          autocompletion({ override: [kernelCompletions(hooks)], activateOnTyping: false }),
          // Tooltips (completions) in <body>: a cell's containment would clip them.
          tooltips({ parent: document.body }),
          highlightActiveLine(),
          syntaxHighlighting(defaultHighlightStyle, { fallback: true }),
          keymap.of([...closeBracketsKeymap, ...defaultKeymap, ...historyKeymap, indentWithTab]),
          language.of(languageSupport(current) || []),
          placeholderExt(placeholder),
          EditorView.lineWrapping,
          theme,
          EditorView.contentAttributes.of({ "aria-label": "Cell source" }),
          EditorView.updateListener.of((update) => {
            if (update.focusChanged && update.view.hasFocus) hooks.onFocus();
            if (!update.docChanged) return;
            const changed = update.state.doc.toString();
            hooks.onChange(changed);
            const lang = cellLanguage(api.cellType, changed);
            if (lang !== current) {
              current = lang;
              setLanguage(lang);
            }
          }),
        ],
      }),
    });
  }

  const api = {
    get view() { return view; },
    cellType,
    get language() { return current; },
    get text() { return view ? view.state.doc.toString() : doc; },
    setText(value) {
      if (view) {
        if (value === view.state.doc.toString()) return;
        view.dispatch({ changes: { from: 0, to: view.state.doc.length, insert: value } });
        return;
      }
      if (value === doc) return;
      doc = value;
      current = cellLanguage(api.cellType, doc);
      renderStatic(staticContent, doc, current, placeholder);
    },
    setType(type) {
      api.cellType = type;
      current = cellLanguage(type, api.text);
      if (view) setLanguage(current);
      else renderStatic(staticContent, doc, current, placeholder);
    },
    focus() { materialize(); },
    /** The caret at the start or the end of the text. */
    caretAt(end) {
      materialize();
      if (view) view.dispatch({ selection: { anchor: end ? view.state.doc.length : 0 } });
    },
    /** Take the focus now, with a caret; make the editor at settle(), a key or a click. */
    focusSoon() {
      if (view && view.hasFocus) return;
      if (!catcher) catcher = makeCatcher();
      waiting = true;
      parent.classList.add("rk-editor-soon");
      parent.prepend(catcher);
      catcher.focus();
      if (document.activeElement !== catcher) stopWaiting();
    },
    /** Make and focus the editor that focusSoon() promised, if its cell still has the
     * focus (and no text is being composed there). */
    settle() {
      if (!waiting || composing) return;
      if (document.activeElement === catcher) {
        flushCaught();
        materialize();
      } else {
        stopWaiting();
      }
    },
    /** Being edited: a remote change to the cell must not replace its text. Waiting for
     * its editor (focusSoon) does not count: nothing was typed yet. */
    hasFocus() { return !!view && view.hasFocus; },
    destroy() { if (view) view.destroy(); else staticView.remove(); },
  };
  return api;
}

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
  autocompletion, closeBrackets, closeBracketsKeymap, startCompletion,
} from "@codemirror/autocomplete";
import { python } from "@codemirror/lang-python";
import { sql, PostgreSQL } from "@codemirror/lang-sql";

export function cellLanguage(cellType, text) {
  if (cellType === "markdown") return "markdown";
  return /^\s*%%sql\b/.test(text) ? "sql" : "python";
}

function languageExtension(lang) {
  if (lang === "python") return python();
  if (lang === "sql") return sql({ dialect: PostgreSQL });
  return [];
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

/**
 * Create an editor. `hooks`: {onChange(text), onRun(advance), onEscape(), onFocus(),
 * onSave(), complete(code, pos) -> Promise<complete_reply content>, onInspect(code, pos)}.
 */
export function createEditor(parent, text, cellType, hooks) {
  const language = new Compartment();
  let current = cellLanguage(cellType, text);
  const runKeys = Prec.highest(keymap.of([
    { key: "Shift-Enter", run: () => { hooks.onRun(true); return true; } },
    { key: "Mod-Enter", run: () => { hooks.onRun(false); return true; } },
    { key: "Escape", run: () => { hooks.onEscape(); return true; } },
    { key: "Mod-s", run: () => { hooks.onSave(); return true; }, preventDefault: true },
    // Jupyter's keys: Tab after a name completes (else indents), Shift+Tab inspects.
    { key: "Tab", run: (view) => (afterName(view) ? startCompletion(view) : false) },
    {
      key: "Shift-Tab",
      run: (view) => {
        if (!afterName(view) || !hooks.onInspect) return false;
        hooks.onInspect(view.state.doc.toString(), view.state.selection.main.head);
        return true;
      },
    },
  ]));
  const view = new EditorView({
    parent,
    state: EditorState.create({
      doc: text,
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
        language.of(languageExtension(current)),
        placeholderExt(cellType === "markdown" ? "Markdown text…" : "Python, or %%sql …"),
        EditorView.lineWrapping,
        theme,
        EditorView.contentAttributes.of({ "aria-label": "Cell source" }),
        EditorView.updateListener.of((update) => {
          if (update.focusChanged && update.view.hasFocus) hooks.onFocus();
          if (!update.docChanged) return;
          const doc = update.state.doc.toString();
          hooks.onChange(doc);
          const lang = cellLanguage(api.cellType, doc);
          if (lang !== current) {
            current = lang;
            view.dispatch({ effects: language.reconfigure(languageExtension(lang)) });
          }
        }),
      ],
    }),
  });
  const api = {
    view,
    cellType,
    get language() { return current; },
    get text() { return view.state.doc.toString(); },
    setText(value) {
      if (value === view.state.doc.toString()) return;
      view.dispatch({ changes: { from: 0, to: view.state.doc.length, insert: value } });
    },
    setType(type) {
      api.cellType = type;
      const lang = cellLanguage(type, view.state.doc.toString());
      current = lang;
      view.dispatch({ effects: language.reconfigure(languageExtension(lang)) });
    },
    focus() { view.focus(); },
    hasFocus() { return view.hasFocus; },
    destroy() { view.destroy(); },
  };
  return api;
}

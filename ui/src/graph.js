// Dependency graph panel: layered SVG drawn from reactive_graph_reply.
const SVG = "http://www.w3.org/2000/svg";

function svg(tag, attrs = {}, text) {
  const node = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  if (text !== undefined) node.textContent = text;
  return node;
}

/** Ancestors and descendants of `id` within `cells` (graph reply cells). */
export function related(cells, id) {
  const walk = (start, key) => {
    const seen = new Set();
    const stack = [start];
    while (stack.length) {
      const cur = stack.pop();
      for (const next of Object.keys((cells[cur] || {})[key] || {})) {
        if (!seen.has(next)) { seen.add(next); stack.push(next); }
      }
    }
    return seen;
  };
  return { up: walk(id, "parents"), down: walk(id, "children") };
}

/**
 * Draw the graph into `container`.
 * opts: {graph, label(id) -> string, number(id) -> string, selected, onSelect(id), known(id)}
 */
export function drawGraph(container, opts) {
  const { graph } = opts;
  container.replaceChildren();
  const order = (graph && graph.order || []).filter((id) => graph.cells[id]
    && !graph.cells[id].anonymous && opts.known(id));
  if (!order.length) {
    const p = document.createElement("p");
    p.className = "rk-muted rk-graph-empty";
    p.textContent = "No code cells in the graph yet. Run a cell, or open a saved notebook.";
    container.append(p);
    return;
  }
  const cells = graph.cells;
  const layer = {};
  for (const id of order) {
    let l = 0;
    for (const parent of Object.keys(cells[id].parents || {})) {
      if (layer[parent] !== undefined) l = Math.max(l, layer[parent] + 1);
    }
    layer[id] = l;
  }
  const layers = [];
  for (const id of order) (layers[layer[id]] ||= []).push(id);
  const W = 168, H = 44, GX = 28, GY = 58, PAD = 16;
  const widest = Math.max(...layers.map((l) => l.length));
  const width = PAD * 2 + widest * W + (widest - 1) * GX;
  const height = PAD * 2 + layers.length * H + (layers.length - 1) * GY;
  const pos = {};
  layers.forEach((ids, li) => {
    const rowWidth = ids.length * W + (ids.length - 1) * GX;
    const x0 = (width - rowWidth) / 2;
    ids.forEach((id, i) => { pos[id] = { x: x0 + i * (W + GX), y: PAD + li * (H + GY) }; });
  });
  const rel = opts.selected && cells[opts.selected] ? related(cells, opts.selected) : null;
  const root = svg("svg", {
    viewBox: `0 0 ${width} ${height}`, width, height, role: "img",
    "aria-label": `Dependency graph: ${order.length} cells`, class: "rk-graph-svg",
  });
  const defs = svg("defs");
  const marker = svg("marker", { id: "rk-arrow", viewBox: "0 0 10 10", refX: "9", refY: "5",
    markerWidth: "7", markerHeight: "7", orient: "auto-start-reverse" });
  marker.append(svg("path", { d: "M 0 0 L 10 5 L 0 10 z", class: "rk-arrowhead" }));
  defs.append(marker);
  root.append(defs);
  const edges = svg("g", { class: "rk-edges" });
  const labels = svg("g", { class: "rk-edge-labels" });
  for (const id of order) {
    for (const [child, names] of Object.entries(cells[id].children || {})) {
      if (!pos[child]) continue;
      const a = pos[id], b = pos[child];
      const x1 = a.x + W / 2, y1 = a.y + H, x2 = b.x + W / 2, y2 = b.y;
      const my = (y1 + y2) / 2;
      let cls = "rk-edge";
      if (rel) {
        const onPath = (id === opts.selected || rel.up.has(id)) && (child === opts.selected || rel.up.has(child))
          || (id === opts.selected || rel.down.has(id)) && (child === opts.selected || rel.down.has(child));
        cls += onPath ? " rk-edge-hot" : " rk-edge-dim";
      }
      edges.append(svg("path", { d: `M ${x1} ${y1} C ${x1} ${my}, ${x2} ${my}, ${x2} ${y2 - 2}`,
        class: cls, "marker-end": "url(#rk-arrow)", "data-from": id, "data-to": child }));
      const text = names.join(", ");
      const lx = (x1 + x2) / 2, ly = my;
      const g = svg("g", { class: `rk-edge-label${cls.includes("dim") ? " rk-edge-dim" : ""}`,
        "data-from": id, "data-to": child });
      const tw = Math.min(140, 7 * text.length + 10);
      g.append(svg("rect", { x: lx - tw / 2, y: ly - 9, width: tw, height: 18, rx: 9 }));
      g.append(svg("text", { x: lx, y: ly + 4, "text-anchor": "middle" },
        text.length > 20 ? `${text.slice(0, 19)}…` : text));
      labels.append(g);
    }
  }
  root.append(edges, labels);
  for (const id of order) {
    const { x, y } = pos[id];
    const state = cells[id].status || "idle";
    let cls = `rk-node rk-node-${state}`;
    if (rel) {
      if (id === opts.selected) cls += " rk-node-selected";
      else if (rel.up.has(id)) cls += " rk-node-up";
      else if (rel.down.has(id)) cls += " rk-node-down";
      else cls += " rk-node-dim";
    }
    const label = opts.label(id);
    const g = svg("g", { class: cls, tabindex: "0", role: "button", "data-cell": id,
      "aria-label": `Cell ${opts.number(id)}: ${label} (${state})` });
    g.append(svg("rect", { x, y, width: W, height: H, rx: 8 }));
    g.append(svg("text", { x: x + 10, y: y + 17, class: "rk-node-num" }, `${opts.number(id)} · ${state}`));
    g.append(svg("text", { x: x + 10, y: y + 34, class: "rk-node-label" },
      label.length > 22 ? `${label.slice(0, 21)}…` : label));
    g.addEventListener("click", () => opts.onSelect(id));
    g.addEventListener("keydown", (e) => {
      if (e.key === "Enter" || e.key === " ") { e.preventDefault(); opts.onSelect(id); }
    });
    root.append(g);
  }
  container.append(root);
}

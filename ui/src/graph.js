// Dependency graph panel: layered SVG drawn from reactive_graph_reply (its layout a pure
// function, layoutGraph).
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

// ---- layout (pure: no DOM; tested in ui/test/graph.test.mjs) ----------------------------------
// Cells are nodes in layers (a cell one below the lowest cell it reads from), each layer
// a row centred on the widest.  An edge to the next layer is a curve across the gap
// between the two rows.  Any other edge (one that skips layers, or points up to a cell
// above, when a cell reads from below) would cross the rows in between: it goes down
// into the gap below its cell, out to a lane beside the rows (left or right, whichever
// is nearer), along it, and back in through the gap above its target.  Edges whose spans
// overlap get lanes of their own.  Labels go where they cover no node and no other
// label: the middle of the edge if it is free, else further along it.
export const NODE_W = 168;
export const NODE_H = 44;
const GAP_X = 28;
const GAP_Y = 58;
const PAD = 16;
const LANE_FIRST = 18;  // from the rows a lane passes to the lane
const LANE_STEP = 14;   // between lanes
const RUN_INSET = 10;   // a lane's runs across a gap, from the row they leave or enter
const RUN_STEP = 6;
const CORNER = 6;
const LABEL_H = 18;

export function labelWidth(text) { return Math.min(140, 7 * text.length + 10); }

const overlap = (a, b) => Math.max(0, Math.min(a.x + a.w, b.x + b.w) - Math.max(a.x, b.x))
  * Math.max(0, Math.min(a.y + a.h, b.y + b.h) - Math.max(a.y, b.y));

function bezierPoint([p0, p1, p2, p3], t) {
  const u = 1 - t;
  const at = (k) => u * u * u * p0[k] + 3 * u * u * t * p1[k] + 3 * u * t * t * p2[k] + t * t * t * p3[k];
  return [at(0), at(1)];
}

/** An SVG path through ``points`` (a polyline of horizontal and vertical runs), its
 * corners rounded. */
function roundedPath(points) {
  let d = `M ${points[0][0]} ${points[0][1]}`;
  for (let i = 1; i < points.length - 1; i++) {
    const [px, py] = points[i - 1];
    const [x, y] = points[i];
    const [nx, ny] = points[i + 1];
    const r = Math.min(CORNER, Math.hypot(x - px, y - py) / 2, Math.hypot(nx - x, ny - y) / 2);
    const a = [x - Math.sign(x - px) * r, y - Math.sign(y - py) * r];
    const b = [x + Math.sign(nx - x) * r, y + Math.sign(ny - y) * r];
    d += ` L ${a[0]} ${a[1]} Q ${x} ${y}, ${b[0]} ${b[1]}`;
  }
  const last = points[points.length - 1];
  return `${d} L ${last[0]} ${last[1]}`;
}

/**
 * Where everything goes. ``order``: the cell ids to draw, in notebook order; ``cells``:
 * the graph reply's cells ({parents, children: {id: [names]}}).  Returns
 * {nodes: {id: {x, y, w, h}}, edges: [{from, to, names, text, d, points, label: {x, y,
 * w, h}}], box: {x, y, w, h}} in one coordinate space (``box`` holds it all, padded);
 * ``points`` is the polyline the edge follows (its curves sampled).
 */
export function layoutGraph(order, cells) {
  const shown = new Set(order);
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
  const widest = Math.max(...layers.map((l) => l.length));
  const rowsWidth = widest * NODE_W + (widest - 1) * GAP_X;
  const nodes = {};
  layers.forEach((ids, li) => {
    const x0 = (rowsWidth - ids.length * NODE_W - (ids.length - 1) * GAP_X) / 2;
    ids.forEach((id, i) => {
      nodes[id] = { x: x0 + i * (NODE_W + GAP_X), y: li * (NODE_H + GAP_Y), w: NODE_W, h: NODE_H };
    });
  });
  // Gap k lies between layer k-1 and layer k (gap 0 above the first, one below the last).
  const gapTop = (k) => k * (NODE_H + GAP_Y) - GAP_Y;
  const gapBottom = (k) => k * (NODE_H + GAP_Y);

  const edges = [];
  const lanes = { left: [], right: [] };  // per side: {x, span} of the lanes drawn (gaps)
  for (const id of order) {
    for (const [child, names] of Object.entries(cells[id].children || {})) {
      if (!shown.has(child)) continue;
      const a = nodes[id], b = nodes[child];
      let x1 = a.x + NODE_W / 2, x2 = b.x + NODE_W / 2;
      const y1 = a.y + NODE_H, y2 = b.y;
      const text = names.join(", ");
      const edge = { from: id, to: child, names, text };
      if (layer[child] === layer[id] + 1) {
        const my = (y1 + y2) / 2;
        const curve = [[x1, y1], [x1, my], [x2, my], [x2, y2 - 2]];
        edge.d = `M ${x1} ${y1} C ${x1} ${my}, ${x2} ${my}, ${x2} ${y2 - 2}`;
        edge.points = Array.from({ length: 17 }, (_, i) => bezierPoint(curve, i / 16));
        edge.spots = [0.5, 0.38, 0.62, 0.28, 0.72].map((t) => bezierPoint(curve, t));
      } else {
        const from = layer[id] + 1, to = layer[child];
        const span = [Math.min(from, to), Math.max(from, to)];
        const side = (x1 + x2) / 2 < rowsWidth / 2 ? "left" : "right";
        const toward = side === "right" ? 1 : -1;
        // The lane clears the rows it passes (layers span[0] .. span[1] - 1), and the
        // lanes beside it whose spans meet its own.
        let lx = toward * -Infinity;
        for (let li = span[0]; li < span[1]; li++) {
          for (const other of layers[li]) {
            lx = side === "right" ? Math.max(lx, nodes[other].x + NODE_W) : Math.min(lx, nodes[other].x);
          }
        }
        lx += toward * LANE_FIRST;
        const near = lanes[side].filter((l) => l.span[0] <= span[1] && l.span[1] >= span[0]);
        for (let moved = true; moved;) {
          moved = false;
          for (const l of near) {
            if (Math.abs(l.x - lx) < LANE_STEP) { lx = l.x + toward * LANE_STEP; moved = true; }
          }
        }
        const lane = near.length;  // staggers its runs and ends from those of the lanes it meets
        lanes[side].push({ x: lx, span });
        // Off the middle of its cells, toward its lane: not into another edge's arrow.
        const port = toward * Math.min(NODE_W / 2 - 12, 28 + lane * 10);
        x1 += port;
        x2 += port;
        const ya = gapTop(from) + RUN_INSET + (lane % 3) * RUN_STEP;
        const yb = gapBottom(to) - RUN_INSET - (lane % 3) * RUN_STEP;
        edge.points = [[x1, y1], [x1, ya], [lx, ya], [lx, yb], [x2, yb], [x2, y2 - 2]];
        edge.d = roundedPath(edge.points);
        // Label spots: on the lane in each gap it passes, then on its runs in and out.
        const spots = [];
        const down = Math.sign(to - from);
        for (let k = from + down; k !== to; k += down) spots.push([lx, (gapTop(k) + gapBottom(k)) / 2]);
        spots.sort((p, q) => Math.abs(p[1] - (ya + yb) / 2) - Math.abs(q[1] - (ya + yb) / 2));
        spots.push([(x1 + lx) / 2, ya], [(x2 + lx) / 2, yb], [lx, (ya + yb) / 2]);
        edge.spots = spots;
      }
      edges.push(edge);
    }
  }

  // Labels: those of the edges across one gap first (they have the least room), each
  // at its first spot that covers nothing placed; if none is free, where it covers least.
  const taken = Object.values(nodes).map((n) => ({ x: n.x - 2, y: n.y - 2, w: n.w + 4, h: n.h + 4 }));
  const across = (edge) => layer[edge.to] === layer[edge.from] + 1;
  const placing = [...edges.filter(across), ...edges.filter((e) => !across(e))];
  for (const edge of placing) {
    const w = labelWidth(edge.text);
    let best = null;
    let bestCost = Infinity;
    for (const [x, y] of edge.spots) {
      const box = { x: x - w / 2, y: y - LABEL_H / 2, w, h: LABEL_H };
      const cost = taken.reduce((sum, t) => sum + overlap(box, t), 0);
      if (cost < bestCost) { best = box; bestCost = cost; }
      if (cost === 0) break;
    }
    edge.label = best;
    taken.push(best);
    delete edge.spots;
  }

  const xs = [0, rowsWidth];
  const ys = [0, layers.length * (NODE_H + GAP_Y) - GAP_Y];
  for (const edge of edges) {
    for (const [x, y] of edge.points) { xs.push(x); ys.push(y); }
    xs.push(edge.label.x, edge.label.x + edge.label.w);
    ys.push(edge.label.y, edge.label.y + edge.label.h);
  }
  const x0 = Math.min(...xs) - PAD, y0 = Math.min(...ys) - PAD;
  const box = { x: x0, y: y0, w: Math.max(...xs) + PAD - x0, h: Math.max(...ys) + PAD - y0 };
  return { nodes, edges, box };
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
  const { nodes, edges, box } = layoutGraph(order, cells);
  const rel = opts.selected && cells[opts.selected] ? related(cells, opts.selected) : null;
  const root = svg("svg", {
    viewBox: `${box.x} ${box.y} ${box.w} ${box.h}`, width: box.w, height: box.h, role: "img",
    "aria-label": `Dependency graph: ${order.length} cells`, class: "rk-graph-svg",
  });
  const defs = svg("defs");
  const marker = svg("marker", { id: "rk-arrow", viewBox: "0 0 10 10", refX: "9", refY: "5",
    markerWidth: "7", markerHeight: "7", orient: "auto-start-reverse" });
  marker.append(svg("path", { d: "M 0 0 L 10 5 L 0 10 z", class: "rk-arrowhead" }));
  defs.append(marker);
  root.append(defs);
  // Nodes first: edges and their labels are drawn over them (routed around them, they
  // meet them only at their ends).
  for (const id of order) {
    const { x, y, w, h } = nodes[id];
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
    g.append(svg("rect", { x, y, width: w, height: h, rx: 8 }));
    g.append(svg("text", { x: x + 10, y: y + 17, class: "rk-node-num" }, `${opts.number(id)} · ${state}`));
    g.append(svg("text", { x: x + 10, y: y + 34, class: "rk-node-label" },
      label.length > 22 ? `${label.slice(0, 21)}…` : label));
    g.addEventListener("click", () => opts.onSelect(id));
    g.addEventListener("keydown", (e) => {
      if (e.key === "Enter" || e.key === " ") { e.preventDefault(); opts.onSelect(id); }
    });
    root.append(g);
  }
  const lines = svg("g", { class: "rk-edges" });
  const labels = svg("g", { class: "rk-edge-labels" });
  for (const { from, to, text, d, label } of edges) {
    let cls = "rk-edge";
    if (rel) {
      const onPath = (from === opts.selected || rel.up.has(from)) && (to === opts.selected || rel.up.has(to))
        || (from === opts.selected || rel.down.has(from)) && (to === opts.selected || rel.down.has(to));
      cls += onPath ? " rk-edge-hot" : " rk-edge-dim";
    }
    lines.append(svg("path", { d, class: cls, "marker-end": "url(#rk-arrow)", "data-from": from, "data-to": to }));
    const g = svg("g", { class: `rk-edge-label${cls.includes("dim") ? " rk-edge-dim" : ""}`,
      "data-from": from, "data-to": to });
    g.append(svg("rect", { x: label.x, y: label.y, width: label.w, height: label.h, rx: 9 }));
    g.append(svg("text", { x: label.x + label.w / 2, y: label.y + label.h / 2 + 4, "text-anchor": "middle" },
      text.length > 20 ? `${text.slice(0, 19)}…` : text));
    labels.append(g);
  }
  root.append(lines, labels);
  container.append(root);
}

// The graph panel's layout (ui/src/graph.js layoutGraph): no edge runs behind a node,
// no label covers a node or another label.
import { test } from "node:test";
import assert from "node:assert/strict";
import { layoutGraph } from "../src/graph.js";

/** Graph reply cells from edges "parent>child:name", ids in notebook order. */
function graphOf(order, edges) {
  const cells = Object.fromEntries(order.map((id) => [id, { parents: {}, children: {} }]));
  for (const edge of edges) {
    const [, from, to, name] = /^(\w+)>(\w+):(\w+)$/.exec(edge);
    (cells[from].children[to] ||= []).push(name);
    (cells[to].parents[from] ||= []).push(name);
  }
  return cells;
}

const inside = ([x, y], box, margin = 1) =>
  x > box.x + margin && x < box.x + box.w - margin && y > box.y + margin && y < box.y + box.h - margin;
const overlaps = (a, b) => a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h;

/** Points every 2 units along the edge's polyline. */
function along(points) {
  const out = [];
  for (let i = 1; i < points.length; i++) {
    const [x0, y0] = points[i - 1];
    const [x1, y1] = points[i];
    const n = Math.max(1, Math.ceil(Math.hypot(x1 - x0, y1 - y0) / 2));
    for (let k = 0; k <= n; k++) out.push([x0 + (x1 - x0) * k / n, y0 + (y1 - y0) * k / n]);
  }
  return out;
}

function checkLayout(order, edges) {
  const { nodes, edges: drawn, box } = layoutGraph(order, graphOf(order, edges));
  assert.equal(drawn.length, edges.length);
  const boxes = Object.values(nodes);
  for (const edge of drawn) {
    for (const point of along(edge.points)) {
      for (const [id, node] of Object.entries(nodes)) {
        assert.ok(!inside(point, node), `${edge.from}->${edge.to} runs behind ${id} at ${point}`);
      }
      assert.ok(inside(point, box, -0.01), `${edge.from}->${edge.to} leaves the drawing at ${point}`);
    }
    for (const node of boxes) assert.ok(!overlaps(edge.label, node), `label ${edge.text} covers a node`);
    assert.ok(inside([edge.label.x, edge.label.y], box, -0.01)
      && inside([edge.label.x + edge.label.w, edge.label.y + edge.label.h], box, -0.01));
  }
  drawn.forEach((a, i) => drawn.slice(i + 1).forEach((b) => {
    assert.ok(!overlaps(a.label, b.label), `labels ${a.from}->${a.to} and ${b.from}->${b.to} collide`);
  }));
  return { nodes, drawn };
}

test("an edge that skips a layer goes around the cells in between, its label in sight", () => {
  // a = 1 / b = a + 1 / c = b * 2 / print(a, c): a -> d passes b and c.
  const { nodes, drawn } = checkLayout(["a", "b", "c", "d"], ["a>b:a", "b>c:b", "c>d:c", "a>d:a"]);
  const skip = drawn.find((e) => e.from === "a" && e.to === "d");
  const xs = skip.points.map(([x]) => x);
  assert.ok(Math.max(...xs) > nodes.b.x + nodes.b.w || Math.min(...xs) < nodes.b.x, "beside the column");
  const ab = drawn.find((e) => e.from === "a" && e.to === "b");
  assert.equal(ab.label.x + ab.label.w / 2, nodes.a.x + nodes.a.w / 2, "a short edge's label at its middle");
});

test("many edges from one cell (imports read everywhere), upward edges, wide rows", () => {
  checkLayout(["imp", "a", "b", "c", "d", "e"], [
    "imp>a:pd", "imp>b:pd", "imp>c:np", "imp>d:pd", "imp>e:np", "a>b:a", "b>c:b", "c>d:c", "a>e:a", "d>e:d",
  ]);
  // x is read from a cell below (a cell inserted above its definer): an edge upwards.
  checkLayout(["u", "x", "y"], ["x>u:x", "x>y:x", "u>y:u"]);
  // Two rows of three, every edge crossing to the other side.
  checkLayout(["p", "q", "r", "s", "t", "v", "w"], [
    "p>s:p", "q>s:q", "r>t:r", "p>t:p", "q>v:q", "r>v:r", "s>w:s", "p>w:p", "r>w:r", "t>w:t",
  ]);
});
